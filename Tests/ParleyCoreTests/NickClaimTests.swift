import ParleyCore
import ParleyIRC
import Testing

/// A cluster node claims each nick in the shared database before a session of its own takes it, and gives it back
/// once none uses it. Driven here with plain values: the harness plays the database's answers.
@Suite struct NickClaimTests {
    private func node() -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.nodeName = "a"
        configuration.accounts = .init(minimumPasswordLength: 8, nickGrace: 30)
        return CoreHarness(configuration: configuration)
    }

    private func register(_ core: inout CoreHarness, _ name: String) {
        core.open(name)
        core.send(name, "NICK \(name)")
        core.send(name, "USER \(name) 0 * :Real")
        core.answerClaim(name, name, .granted)
        _ = core.take(name)
    }

    @Test func aSingleServerClaimsNothing() {
        var core = CoreHarness()
        core.connect("alice")
        core.send("alice", "NICK bob")
        core.send("alice", "QUIT")
        #expect(core.nickClaims.isEmpty && core.nickReleases.isEmpty)
    }

    /// After the forced rename the nick is held for its owner on every node; a claim of a registered nick by
    /// someone not logged in to it asks the cluster to respect such holds, the owner's does not.
    @Test func aForcedRenameHoldsTheNickForItsOwnerAcrossTheCluster() {
        var core = self.node()
        core.state.loadAccounts(["carol"])
        self.register(&core, "carol")
        #expect(core.claimsRespectingHolds == ["carol"], "not logged in: holds apply")
        core.now.millisecondsSince1970 += 31_000
        core.outbox.removeAll()
        core.state.expireReservations(now: core.now, into: &core.outbox)
        core.collect()
        let guest = core.nickClaims.last?.1 ?? ""
        #expect(guest.hasPrefix("Guest"))
        core.answerClaim("carol", guest, .granted)
        #expect(core.nickHolds == ["carol"])
    }

    @Test func registrationWaitsForTheClusterToGrantTheNick() {
        var core = self.node()
        core.open("alice")
        core.send("alice", "NICK Alice")
        core.send("alice", "USER alice 0 * :Alice")
        #expect(core.take("alice").isEmpty, "no welcome before the nick is granted")
        #expect(core.nickClaims.map(\.1) == ["Alice"])
        core.answerClaim("alice", "Alice", .granted)
        let welcome = core.take("alice").first
        #expect(welcome?.command == IRCCommand(.rplWelcome) && welcome?.parameters.first == "Alice")
    }

    @Test func linesSentWhileTheNickIsClaimedWaitForTheAnswer() {
        var core = self.node()
        core.open("bot")
        core.send("bot", "NICK bot")
        core.send("bot", "USER bot 0 * :Bot")
        core.send("bot", "JOIN #room")
        core.send("bot", "NICK bot2")
        core.send("bot", "PRIVMSG #room :hello")
        #expect(core.take("bot").isEmpty, "nothing answered, nothing refused before the claim is in")
        core.answerClaim("bot", "bot", .granted)
        let first = core.take("bot").map(\.command)
        #expect(first.first == IRCCommand(.rplWelcome) && first.contains(.join), "\(first)")
        #expect(core.nickClaims.map(\.1) == ["bot", "bot2"], "the held NICK asked again, holding the rest")
        core.answerClaim("bot", "bot2", .granted)
        #expect(core.take("bot").map(\.command) == [.nick])
        #expect(core.state.channels[ChannelKey("#room")] != nil)
        core.send("bot", "PART #room")
        #expect(core.take("bot").map(\.command) == [.part], "no longer holding")
    }

    @Test func aNickHeldByAnotherNodeIsRefusedAndAnotherCanBeChosen() {
        var core = self.node()
        core.open("x")
        core.send("x", "NICK alice")
        core.send("x", "USER x 0 * :X")
        core.answerClaim("x", "alice", .taken)
        let refusal = core.take("x")
        #expect(refusal.map(\.command) == [IRCCommand(.errNicknameInUse)])
        #expect(refusal.first?.parameters.dropFirst().first == "alice")
        core.send("x", "NICK alice_")
        core.answerClaim("x", "alice_", .granted)
        #expect(core.take("x").first?.parameters.first == "alice_")
        #expect(core.nickReleases.isEmpty, "a refused nick was never this node's to give back")
    }

    @Test func anUnreachableDatabaseSaysTheNickIsTemporarilyUnavailable() {
        var core = self.node()
        self.register(&core, "alice")
        core.send("alice", "NICK bob")
        core.answerClaim("alice", "bob", .unavailable)
        let answer = core.take("alice")
        #expect(answer.map(\.command) == [IRCCommand(.errUnavailResource)])
        core.send("alice", "WHOIS alice")
        #expect(core.take("alice").first?.parameters.dropFirst().first == "alice", "still alice")
    }

    @Test func whileANickIsBeingClaimedNoOtherSessionHereMayAskForIt() {
        var core = self.node()
        self.register(&core, "alice")
        self.register(&core, "carol")
        core.send("alice", "NICK bob")
        core.send("carol", "NICK Bob")
        #expect(core.take("carol").map(\.command) == [IRCCommand(.errNicknameInUse)])
        #expect(core.nickClaims.map(\.1) == ["alice", "carol", "bob"], "one claim for bob")
        core.answerClaim("alice", "bob", .granted)
        #expect(core.take("alice").map(\.command) == [.nick])
        #expect(core.nickReleases == ["alice"], "the old nick goes back once no one here uses it")
    }

    @Test func aNickGoesBackWhenItsUserLeavesButNotOnACaseChange() {
        var core = self.node()
        self.register(&core, "alice")
        core.send("alice", "NICK ALICE")
        #expect(core.nickClaims.count == 1, "the node already holds the nick")
        #expect(core.take("alice").map(\.command) == [.nick])
        #expect(core.nickReleases.isEmpty)
        core.send("alice", "QUIT :bye")
        #expect(core.nickReleases == ["alice"])
    }

    @Test func aNickGrantedAfterItsSessionLeftIsGivenBack() {
        var core = self.node()
        core.open("x")
        core.send("x", "NICK alice")
        core.send("x", "QUIT")
        core.answerClaim("x", "alice", .granted)
        #expect(core.nickReleases == ["alice"])
    }

    @Test func anUnregisteredSessionThatChangesItsNickGivesTheFirstBack() {
        var core = self.node()
        core.open("x")
        core.send("x", "NICK one")
        core.answerClaim("x", "one", .granted)
        core.send("x", "NICK two")
        core.answerClaim("x", "two", .granted)
        #expect(core.nickReleases == ["one"])
        core.send("x", "USER x 0 * :X")
        #expect(core.take("x").first?.parameters.first == "two")
    }

    @Test func theForcedRenameOfAReservedNickClaimsItsGuestNickToo() {
        var core = self.node()
        core.state.loadAccounts(["Bob"])
        self.register(&core, "carol")
        core.send("carol", "NICK bob")
        core.answerClaim("carol", "bob", .granted)
        _ = core.take("carol")
        core.now.millisecondsSince1970 += 31_000
        core.outbox.removeAll()
        core.state.expireReservations(now: core.now, into: &core.outbox)
        core.collect()
        #expect(core.nickClaims.last?.1 == "Guest1")
        core.answerClaim("carol", "Guest1", .taken)
        #expect(core.nickClaims.last?.1 == "Guest2", "a guest nick held elsewhere: the next one")
        #expect(core.take("carol").isEmpty)
        core.answerClaim("carol", "Guest2", .granted)
        let renamed = core.take("carol")
        #expect(renamed.map(\.command) == [.notice, .nick])
        #expect(renamed.last?.parameters == ["Guest2"])
        #expect(core.nickReleases == ["carol", "bob"])
    }

    @Test func aForcedRenameWaitsWhileTheDatabaseDoesNotAnswer() {
        var core = self.node()
        core.state.loadAccounts(["Bob"])
        self.register(&core, "carol")
        core.send("carol", "NICK bob")
        core.answerClaim("carol", "bob", .granted)
        core.now.millisecondsSince1970 += 31_000
        core.outbox.removeAll()
        core.state.expireReservations(now: core.now, into: &core.outbox)
        core.collect()
        core.answerClaim("carol", "Guest1", .unavailable)
        #expect(core.nickClaims.count == 3, "no claim of guest after guest while the database is away")
        core.now.millisecondsSince1970 += 10_001
        core.outbox.removeAll()
        core.state.expireReservations(now: core.now, into: &core.outbox)
        core.collect()
        #expect(core.nickClaims.last?.1 == "Guest2", "asked again later")
    }
}

@Suite struct RemoteGhostTests {
    /// GHOST on a nick held on another node goes there as a signal; that node disconnects its holder.
    @Test func ghostReachesTheNodeThatHoldsTheNick() throws {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.nodeName = "a"
        configuration.accounts = .init()
        var here = CoreHarness(configuration: configuration)
        here.state.loadAccounts(["carol"])
        here.open("owner")
        here.send("owner", "NICK owner")
        here.send("owner", "USER owner 0 * :Owner")
        here.answerClaim("owner", "owner", .granted)
        here.logIn("owner", as: "carol")
        here.state.remoteNickClaimed("carol", RemoteNick(display: "carol", node: "b"))
        here.send("owner", "PRIVMSG NickServ :GHOST carol")
        let signal = try #require(here.signals.last)
        #expect(signal.command.rawValue == "GHOST" && signal.parameters == ["carol", "owner"])

        configuration.nodeName = "b"
        var there = CoreHarness(configuration: configuration)
        there.open("carol")
        there.send("carol", "NICK carol")
        there.send("carol", "USER carol 0 * :Impostor")
        there.answerClaim("carol", "carol", .granted)
        there.outbox.removeAll()
        there.state.relaySignalFromOtherNode(signal, into: &there.outbox)
        there.collect()
        #expect(there.isClosed("carol"))
    }
}
