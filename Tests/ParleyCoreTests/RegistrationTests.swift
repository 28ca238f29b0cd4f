import ParleyCore
import ParleyIRC
import Testing

@Suite struct RegistrationTests {
    /// draft/pre-away: a client that negotiated it may say AWAY before registering (a phone connecting only to
    /// sync); others see it away from the start. Without the capability AWAY waits for registration (451).
    @Test func awayBeforeRegistrationNeedsPreAway() {
        var h = CoreHarness()
        h.connect("ann", caps: ["away-notify"])
        h.send("ann", "JOIN #c")
        _ = h.take("ann")
        h.open("phone")
        h.send("phone", "CAP LS 302")
        h.send("phone", "CAP REQ draft/pre-away")
        h.send("phone", "AWAY *")
        #expect(h.take("phone").map(\.command.rawValue).last == "306")
        h.send("phone", "NICK phone")
        h.send("phone", "USER p 0 * :Phone")
        h.send("phone", "CAP END")
        #expect(h.take("phone").contains { $0.command.rawValue == "001" })
        h.send("phone", "JOIN #c")
        #expect(h.take("ann").map(\.command) == [.join, .away], "away-notify tells who joined away")
        h.send("ann", "WHOIS phone")
        #expect(h.take("ann").contains { $0.command.rawValue == "301" && $0.parameters.last == "*" })

        h.open("plain")
        h.send("plain", "AWAY :later")
        #expect(h.take("plain").map(\.command.rawValue) == ["451"])
    }

    @Test func registrationWithoutCapSendsTheWelcomeBurst() {
        var h = CoreHarness()
        h.open("alice")
        h.send("alice", "NICK alice")
        #expect(h.take("alice").isEmpty)
        h.send("alice", "USER alice 0 * :Alice Liddell")
        let commands = h.take("alice").map(\.command.rawValue)
        #expect(Array(commands.prefix(5)) == ["001", "002", "003", "004", "005"])
        #expect(commands.contains("251"))
        #expect(commands.last == "422")
    }

    @Test func welcomeCarriesTheNetworkAndISupport() {
        var h = CoreHarness()
        h.open("alice")
        h.send("alice", "NICK alice")
        h.send("alice", "USER a 0 * :A")
        let messages = h.take("alice")
        #expect(messages[0].parameters.last?.contains("TestNet") == true)
        let tokens = messages.filter { $0.command == IRCCommand(.rplISupport) }.flatMap(\.parameters)
        for token in ["CASEMAPPING=ascii", "CHANTYPES=#", "PREFIX=(ov)@+", "NICKLEN=30", "NETWORK=TestNet", "UTF8ONLY"]
        {
            #expect(tokens.contains(token), "missing \(token)")
        }
    }

    @Test func capNegotiationHoldsRegistrationUntilEnd() {
        var h = CoreHarness()
        h.open("alice")
        h.send("alice", "CAP LS 302")
        let ls = h.take("alice")
        #expect(ls.first?.parameters.prefix(2) == ["*", "LS"])
        #expect(ls.first?.parameters.last?.contains("echo-message") == true)
        h.send("alice", "NICK alice")
        h.send("alice", "USER alice 0 * :A")
        #expect(h.take("alice").isEmpty)
        h.send("alice", "CAP REQ :echo-message server-time")
        #expect(h.take("alice").first?.parameters == ["alice", "ACK", "echo-message server-time"])
        h.send("alice", "CAP REQ :echo-message bogus-cap")
        #expect(h.take("alice").first?.parameters == ["alice", "NAK", "echo-message bogus-cap"])
        h.send("alice", "CAP LIST")
        #expect(h.take("alice").first?.parameters.last == "cap-notify echo-message server-time")
        h.send("alice", "CAP END")
        #expect(h.take("alice").first?.command == IRCCommand(.rplWelcome))
        h.send("alice", "CAP FROB")
        #expect(h.take("alice").first?.command == IRCCommand(.errInvalidCapCmd))
    }

    @Test func commandsBeforeRegistrationGet451() {
        var h = CoreHarness()
        h.open("alice")
        h.send("alice", "JOIN #a")
        #expect(h.take("alice").map(\.command) == [IRCCommand(.errNotRegistered)])
    }

    @Test func nickErrors() {
        var h = CoreHarness()
        h.connect("alice")
        h.open("bob")
        h.send("bob", "NICK")
        #expect(h.commands("bob") == ["431"])
        h.send("bob", "NICK 9lives")
        #expect(h.commands("bob") == ["432"])
        h.send("bob", "NICK ALICE")
        #expect(h.commands("bob") == ["433"])
        h.send("bob", "NICK bob")
        h.send("bob", "USER bob 0 * :Bob")
        #expect(h.commands("bob").first == "001")
    }

    @Test func userNeedsFourParametersAndOnlyOnce() {
        var h = CoreHarness()
        h.open("alice")
        h.send("alice", "USER alice 0 *")
        #expect(h.commands("alice") == ["461"])
        h.connect("bob")
        h.send("bob", "USER bob 0 * :again")
        #expect(h.commands("bob") == ["462"])
    }

    @Test func wrongPasswordIsRefusedAndClosed() {
        var h = CoreHarness(configuration: CoreConfiguration(serverName: "irc.test", password: "sesame"))
        h.open("alice")
        h.send("alice", "PASS wrong")
        h.send("alice", "NICK alice")
        h.send("alice", "USER alice 0 * :A")
        #expect(h.commands("alice") == ["464"])
        #expect(h.isClosed("alice"))
        h.open("bob")
        h.send("bob", "PASS sesame")
        h.send("bob", "NICK bob")
        h.send("bob", "USER bob 0 * :B")
        #expect(h.commands("bob").first == "001")
    }

    @Test func unknownCommandsAndMissingParameters() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "FROBNICATE x")
        #expect(h.take("alice").first?.parameters == ["alice", "FROBNICATE", "Unknown command"])
        h.send("alice", "KICK #a")
        #expect(h.take("alice").first?.parameters == ["alice", "KICK", "Not enough parameters"])
        h.send("alice", "PRIVMSG")
        #expect(h.commands("alice") == ["411"])
        h.send("alice", "PRIVMSG bob")
        #expect(h.commands("alice") == ["412"])
    }

    @Test func malformedInputGetsAnAnswer() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "@a=b")
        #expect(h.commands("alice") == ["421"])
        h.send("alice", "PRIVMSG #a :x\u{0}y")
        let fail = h.take("alice").first
        #expect(fail?.command == .fail)
        #expect(fail?.parameters.prefix(2) == ["PRIVMSG", "INVALID_MESSAGE"])
        h.outbox.removeAll()
        h.state.inputTooLong(from: h.ids["alice"]!, into: &h.outbox)
        h.collect()
        #expect(h.commands("alice") == ["417"])
        h.send("alice", "")
        #expect(h.take("alice").isEmpty)
    }

    @Test func pingGetsPong() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "PING token123")
        #expect(h.take("alice").first?.parameters == ["irc.test", "token123"])
        h.send("alice", "PING")
        #expect(h.commands("alice") == ["409"])
    }

    @Test func quitTellsPeersAndFreesTheNick() {
        var h = CoreHarness()
        h.connect("alice")
        h.connect("bob")
        h.send("alice", "JOIN #a")
        h.send("bob", "JOIN #a")
        _ = (h.take("alice"), h.take("bob"))
        h.send("bob", "QUIT :gone fishing")
        #expect(h.isClosed("bob"))
        let quit = h.take("alice")
        #expect(quit.count == 1)
        #expect(quit.first?.command == .quit)
        #expect(quit.first?.parameters == ["Quit: gone fishing"])
        #expect(quit.first?.source == "bob!bob@host-bob")
        h.open("bob2")
        h.send("bob2", "NICK bob")
        h.send("bob2", "USER b 0 * :B")
        #expect(h.commands("bob2").first == "001")
        h.send("alice", "WHOWAS bob")
        #expect(h.commands("alice") == ["314", "312", "369"])
    }

    /// A session keeps rare state (certificate, SASL, held lines…) in a box of its own: copies must still be values.
    @Test func aSessionsRareStateIsAValue() {
        var state = ServerState(configuration: CoreConfiguration(serverName: "irc.test"))
        let id = SessionID(1)
        let now = Timestamp(millisecondsSince1970: 1_795_615_041_123)
        state.connect(id, host: "h", address: "127.0.0.1", secure: true, certificate: "ab12", now: now)
        let original = state.sessions[id]!
        var copy = original
        copy.certificate = "cd34"
        #expect(original.certificate == "ab12")
        #expect(copy.certificate == "cd34")
        #expect(state.sessions[id]?.certificate == "ab12")
        copy.certificate = nil
        #expect(copy.certificate == nil && original.certificate == "ab12")
    }

    /// 005 is rendered once per configuration: a change reaches the next client to register.
    @Test func isupportFollowsAConfigurationChange() {
        var h = CoreHarness()
        func tokens(_ name: String) -> [String] {
            h.open(name)
            h.send(name, "NICK \(name)")
            h.send(name, "USER a 0 * :A")
            return h.take(name).filter { $0.command == IRCCommand(.rplISupport) }.flatMap(\.parameters)
        }
        #expect(tokens("alice").contains("NICKLEN=30"))
        h.state.configuration.nickLength = 12
        let bob = tokens("bob")
        #expect(bob.contains("NICKLEN=12") && !bob.contains("NICKLEN=30"))
        #expect(bob.first == "bob")
    }
}
