import ParleyCore
import ParleyIRC
import Testing

/// no-implicit-names and sts: what a client with the capability gets, and what one without gets.
@Suite struct ModernCapabilityTests {
    @Test func noImplicitNamesLeavesNamesOutOfJoinButAnswersNames() {
        var h = CoreHarness()
        h.connect("phone", caps: ["no-implicit-names"])
        h.connect("laptop")
        h.send("phone", "JOIN #a")
        #expect(h.take("phone").map(\.command.rawValue) == ["JOIN"])
        h.send("laptop", "JOIN #a")
        #expect(h.take("laptop").map(\.command.rawValue) == ["JOIN", "353", "366"])
        #expect(h.take("phone").map(\.command.rawValue) == ["JOIN"], "the laptop's JOIN, and no NAMES with it")
        h.send("phone", "NAMES #a")
        let names = h.take("phone")
        #expect(names.map(\.command.rawValue) == ["353", "366"])
        #expect(Set(names.first?.parameters.last?.split(separator: " ") ?? []) == ["@phone", "laptop"])
    }

    private static func stsHarness() -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.strictTransport = .init(port: 6697, duration: 86_400)
        return CoreHarness(configuration: configuration)
    }

    private static func capLS(_ h: inout CoreHarness, _ name: String, version: String = "302") -> [String] {
        h.send(name, "CAP LS \(version)")
        return h.take(name).first?.parameters.last?.split(separator: " ").map(String.init) ?? []
    }

    @Test func stsTellsPlaintextClientsThePortAndTLSClientsTheDuration() {
        var h = Self.stsHarness()
        h.open("plain")
        h.open("secure", secure: true)
        #expect(Self.capLS(&h, "plain").contains("sts=port=6697"))
        #expect(!Self.capLS(&h, "plain").contains { $0.contains("duration") })
        #expect(Self.capLS(&h, "secure").contains("sts=duration=86400"))
        // Without 302 there are no values, and a policy without its value means nothing.
        #expect(!Self.capLS(&h, "plain", version: "").contains { $0.hasPrefix("sts") })
    }

    @Test func stsIsNotRequestableAndNotOfferedWithoutAPolicy() {
        var h = Self.stsHarness()
        h.open("plain")
        h.send("plain", "CAP REQ :sts")
        #expect(h.take("plain").first?.parameters.dropFirst().first == "NAK")
        var none = CoreHarness()
        none.open("plain")
        #expect(!Self.capLS(&none, "plain").contains { $0.hasPrefix("sts") })
    }

    @Test func isupportBeforeRegistrationComesInADraftISupportBatchAndSoDoesTheWelcomes() {
        var h = CoreHarness()
        h.open("early")
        h.send("early", "CAP LS 302")
        h.send("early", "CAP REQ :batch draft/extended-isupport")
        _ = h.take("early")
        h.send("early", "ISUPPORT")
        let early = h.take("early")
        #expect(early.first?.command == .batch && early.first?.parameters.last == "draft/isupport")
        let reference = String(early.first?.parameters.first?.dropFirst() ?? "")
        let lines = early.dropFirst().dropLast()
        #expect(!lines.isEmpty && lines.allSatisfy { $0.command.rawValue == "005" && $0.tag("batch") == reference })
        #expect(lines.contains { $0.parameters.contains("NETWORK=TestNet") })
        #expect(early.last?.parameters == ["-" + reference])
        h.send("early", "NICK early")
        h.send("early", "USER early 0 * :Early")
        h.send("early", "CAP END")
        let welcome = h.take("early")
        #expect(welcome.contains { $0.command.rawValue == "001" })
        #expect(welcome.filter { $0.command.rawValue == "005" }.allSatisfy { $0.tag("batch") != nil })
        #expect(welcome.contains { $0.command == .batch && $0.parameters.last == "draft/isupport" })
    }

    @Test func isupportWithoutTheCapabilityWaitsForRegistrationThenAnswersPlainly() {
        var h = CoreHarness()
        h.open("plain")
        h.send("plain", "ISUPPORT")
        #expect(h.take("plain").map(\.command.rawValue) == ["451"])
        h.connect("registered")
        h.send("registered", "ISUPPORT")
        let answer = h.take("registered")
        #expect(!answer.isEmpty && answer.allSatisfy { $0.command.rawValue == "005" && $0.tag("batch") == nil })
    }

    @Test func aLabeledISupportNestsItsBatchInTheLabeledResponse() {
        var h = CoreHarness()
        h.connect("labels", caps: ["batch", "draft/extended-isupport", "labeled-response", "message-tags"])
        h.send("labels", "@label=x1 ISUPPORT")
        let answer = h.take("labels")
        let outer = answer.first
        #expect(outer?.command == .batch && outer?.tag("label") == "x1" && outer?.parameters.last == "labeled-response")
        let outerReference = String(outer?.parameters.first?.dropFirst() ?? "")
        let inner = answer.dropFirst().first
        #expect(inner?.command == .batch && inner?.tag("batch") == outerReference)
        let innerReference = String(inner?.parameters.first?.dropFirst() ?? "")
        let numerics = answer.filter { $0.command.rawValue == "005" }
        #expect(!numerics.isEmpty && numerics.allSatisfy { $0.tags.filter { $0.key == "batch" }.count == 1 })
        #expect(numerics.allSatisfy { $0.tag("batch") == innerReference })
    }
}
