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
}
