import ParleyCore
import ParleyIRC
import Testing

@Suite struct AccountCoreTests {
    private func harness() -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.accounts = .init(minimumPasswordLength: 8, nickGrace: 30)
        return CoreHarness(configuration: configuration)
    }

    private func numerics(_ messages: [IRCMessage]) -> [String] { messages.map(\.command.rawValue) }

    @Test func saslFramingGathersChunksAndHandsOverTheDecodedResponse() throws {
        var core = self.harness()
        core.open("a")
        core.send("a", "CAP REQ sasl")
        core.send("a", "AUTHENTICATE PLAIN")
        #expect(core.take("a").last?.parameters == ["+"])
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 300)  // 400 base64 characters exactly
        let encoded = Base64.encode(payload)
        #expect(encoded.utf8.count == 400)
        core.send("a", "AUTHENTICATE \(encoded)")
        #expect(core.saslResponses.isEmpty)
        core.send("a", "AUTHENTICATE +")
        let response = try #require(core.saslResponses.first)
        #expect(response.1 == "PLAIN")
        #expect(response.2 == payload)
    }

    @Test func saslErrors() {
        var core = self.harness()
        core.open("a")
        core.send("a", "AUTHENTICATE PLAIN")
        #expect(self.numerics(core.take("a")) == ["904"])
        core.send("a", "CAP REQ sasl")
        _ = core.take("a")
        core.send("a", "AUTHENTICATE DIGEST-MD5")
        let mechs = core.take("a")
        #expect(self.numerics(mechs) == ["908", "904"])
        #expect(mechs.first?.parameters[1] == "PLAIN,SCRAM-SHA-256,EXTERNAL")
        core.send("a", "AUTHENTICATE PLAIN")
        core.send("a", "AUTHENTICATE *")
        #expect(self.numerics(core.take("a")) == ["AUTHENTICATE", "906"])
        core.send("a", "AUTHENTICATE PLAIN")
        core.send("a", "AUTHENTICATE not*base64")
        #expect(self.numerics(core.take("a")).last == "904")
        core.send("a", "AUTHENTICATE PLAIN")
        let chunk = String(repeating: "A", count: 400)
        for _ in 0..<21 { core.send("a", "AUTHENTICATE \(chunk)") }
        #expect(self.numerics(core.take("a")).last == "904", "8,400 bytes in all: a failed authentication")
        core.send("a", "AUTHENTICATE PLAIN")
        core.send("a", "AUTHENTICATE \(chunk)A")
        #expect(self.numerics(core.take("a")).last == "905", "one AUTHENTICATE past 400 bytes")
        #expect(core.saslResponses.isEmpty)
    }

    @Test func loginViaSaslSetsTheAccountAndRefusesASecondOne() {
        var core = self.harness()
        core.open("a")
        core.send("a", "CAP REQ sasl")
        core.send("a", "AUTHENTICATE PLAIN")
        core.send("a", "AUTHENTICATE AGFsaWNlAHNlY3JldA==")
        let id = core.ids["a"]!
        core.outbox.removeAll()
        core.state.saslSucceeded(id, account: "alice", now: core.now, into: &core.outbox)
        core.collect()
        #expect(self.numerics(core.take("a")).suffix(2) == ["900", "903"])
        #expect(core.state.sessions[id]?.account == "alice")
        core.send("a", "AUTHENTICATE PLAIN")
        #expect(self.numerics(core.take("a")) == ["907"])
    }

    @Test func nickServChecksBeforeAskingTheHost() {
        var core = self.harness()
        core.connect("alice")
        core.send("alice", "PRIVMSG NickServ :REGISTER short")
        #expect(core.take("alice").first?.parameters.last?.contains("at least 8") == true)
        core.send("alice", "PRIVMSG nickserv :register long-enough")
        #expect(core.accountRequests.first?.kind == .register(account: "alice", email: nil, password: "long-enough"))
        core.send("alice", "PRIVMSG NickServ :DROP pw")
        #expect(core.take("alice").first?.parameters.last == "You are not logged in.")
        core.send("alice", "NICK NickServ")
        #expect(core.take("alice").first?.command == IRCCommand(.errNicknameInUse))
        #expect(core.accountRequests.count == 1)
    }

    @Test func registeredNicksAreWarnedThenRenamed() {
        var core = self.harness()
        core.state.loadAccounts(["Bob"])
        core.connect("carol")
        core.send("carol", "NICK bob")
        let warning = core.take("carol").last
        #expect(warning?.command == .notice)
        #expect(warning?.parameters.last?.contains("within 30 seconds") == true)
        core.now.millisecondsSince1970 += 29_000
        core.outbox.removeAll()
        core.state.expireReservations(now: core.now, into: &core.outbox)
        core.collect()
        #expect(core.take("carol").isEmpty)
        core.now.millisecondsSince1970 += 2_000
        core.outbox.removeAll()
        core.state.expireReservations(now: core.now, into: &core.outbox)
        core.collect()
        let renamed = core.take("carol")
        #expect(renamed.map(\.command) == [.notice, .nick])
        #expect(renamed.last?.parameters == ["Guest1"])
    }
}
