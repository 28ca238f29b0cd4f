import ParleyCore
import ParleyIRC
import Testing

/// While the database cannot be reached (`databaseAway`), what must be stored first is refused at once, and said so;
/// everything else goes on.
@Suite struct DatabaseAwayTests {
    private func node(cluster: Bool) -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.history = .init()
        if cluster { configuration.nodeName = "a" }
        var core = CoreHarness(configuration: configuration)
        for name in ["alice", "bob"] {
            core.open(name)
            core.send(name, "CAP REQ :message-tags")
            core.send(name, "NICK \(name)")
            core.send(name, "USER \(name) 0 * :Real")
            if cluster { core.answerClaim(name, name, .granted) }
            core.send(name, "CAP END")
            core.send(name, "JOIN #room")
        }
        _ = core.take("alice")
        _ = core.take("bob")
        core.persisted.removeAll()
        return core
    }

    @Test func aMessageIsRefusedAtOnceAndNotStoredOrDelivered() {
        var core = self.node(cluster: false)
        core.state.databaseAway = true
        core.send("alice", "PRIVMSG #room :hello")
        core.send("alice", "PRIVMSG bob :psst")
        let replies = core.take("alice")
        #expect(replies.map(\.command) == [.fail, .fail])
        #expect(replies.first?.parameters.prefix(3) == ["PRIVMSG", "TEMPORARILY_UNAVAILABLE", "#room"])
        #expect(replies.last?.parameters.prefix(3) == ["PRIVMSG", "TEMPORARILY_UNAVAILABLE", "bob"])
        #expect(core.take("bob").isEmpty)
        #expect(core.persisted.isEmpty)

        core.state.databaseAway = false
        core.send("alice", "PRIVMSG #room :hello again")
        #expect(core.persisted.map(\.0.parameters.last) == ["hello again"])
    }

    @Test func typingNeedsNoDatabaseAndPingsAreAnswered() {
        var core = self.node(cluster: false)
        core.state.databaseAway = true
        core.send("alice", "@+typing=active TAGMSG #room")
        #expect(core.take("bob").map(\.command) == [.tagmsg])
        core.send("alice", "PING :still-there")
        #expect(core.take("alice").map(\.command) == [.pong])
    }

    @Test func inAClusterJoinsAndNewNicksAreRefusedWith437() {
        var core = self.node(cluster: true)
        core.state.databaseAway = true
        core.send("alice", "JOIN #elsewhere")
        core.send("alice", "NICK alice2")
        let replies = core.take("alice")
        #expect(replies.map(\.command) == [IRCCommand(.errUnavailResource), IRCCommand(.errUnavailResource)])
        #expect(replies.map { $0.parameters[1] } == ["#elsewhere", "alice2"])
        #expect(core.nickClaims.map(\.1) == ["alice", "bob"], "no claim was asked for")
        #expect(core.take("bob").isEmpty)
    }

    @Test func aSingleServerStillTakesJoinsWhileItsDatabaseIsAway() {
        var core = self.node(cluster: false)
        core.state.databaseAway = true
        core.send("alice", "JOIN #elsewhere")
        #expect(core.take("alice").first?.command == .join)
    }
}
