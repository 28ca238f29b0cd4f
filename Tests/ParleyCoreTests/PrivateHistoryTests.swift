import ParleyCore
import ParleyIRC
import Testing

/// Private history follows people, not nicks: the reproductions of the security issue, as core tests. Each checks
/// the storage keys a reader asks for against the keys the conversation was stored under.
@Suite struct PrivateHistoryTests {
    private static func harness() -> CoreHarness {
        CoreHarness.withAccounts(["carol"])
    }

    /// The keys every direct conversation was stored under so far.
    private static func storedConversations(_ h: CoreHarness) -> Set<String> {
        Set(h.persisted.map(\.1).filter { $0.hasPrefix("\u{1}") })
    }

    /// What `name` asks the store for with CHATHISTORY, TARGETS and SEARCH about `other`.
    private static func keysRead(by name: String, about other: String, _ h: inout CoreHarness) -> [String] {
        h.effects.removeAll()
        h.send(name, "CHATHISTORY LATEST \(other) * 50")
        h.send(name, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00Z timestamp=2100-01-01T00:00:00Z 50")
        h.send(name, "SEARCH in=\(other);text=secret")
        h.send(name, "SEARCH text=secret")
        _ = h.take(name)
        return h.historyQueries.flatMap { query in
            [query.target, query.owner.isEmpty ? "" : "\u{1}\(query.owner)\u{1}"] + query.channels
        }
        .filter { !$0.isEmpty }
    }

    /// Whether any key read is, or is the prefix of, a stored conversation.
    private static func reaches(_ read: [String], _ stored: Set<String>) -> Bool {
        read.contains { key in stored.contains { $0 == key || (key.hasSuffix("\u{1}") && $0.hasPrefix(key)) } }
    }

    @Test func aNewClientWithAFreedNickReadsNoneOfTheOldDirectMessages() {
        var h = Self.harness()
        h.connect("alice", caps: ["draft/chathistory", "batch"])
        h.connect("bob", caps: ["draft/chathistory", "batch"])
        h.send("alice", "PRIVMSG bob :secret one")
        h.send("bob", "PRIVMSG alice :secret two")
        let stored = Self.storedConversations(h)
        #expect(stored.count == 2, "one copy each: \(stored)")
        #expect(Self.reaches(Self.keysRead(by: "bob", about: "alice", &h), stored), "bob reads his own copy")

        h.send("bob", "NICK robert")
        h.connect("thief", caps: ["draft/chathistory", "batch"])
        h.send("thief", "NICK bob")
        #expect(!Self.reaches(Self.keysRead(by: "thief", about: "alice", &h), stored))
        // The one who really was bob still reads the conversation under his new nick.
        #expect(Self.reaches(Self.keysRead(by: "bob", about: "alice", &h), stored))
    }

    @Test func someoneInTheGracePeriodOfARegisteredNickGetsNothingOfTheAccount() {
        var h = Self.harness()
        h.connect("alice")
        h.send("alice", "PRIVMSG carol :secret for carol")
        let stored = Self.storedConversations(h)
        #expect(h.offline == ["carol"], "kept for the account while carol is away")

        h.connect("carol", caps: ["draft/chathistory", "batch"])
        #expect(!Self.reaches(Self.keysRead(by: "carol", about: "alice", &h), stored))
        h.persisted.removeAll()
        h.offline.removeAll()
        h.send("alice", "PRIVMSG carol :live secret")
        #expect(!h.take("carol").contains { $0.command == .privmsg }, "no live DM reaches an impostor")
        #expect(h.offline == ["carol"], "it waits for the owner instead")
        #expect(h.take("alice").contains { $0.parameters.last?.contains("not logged in") == true })
        #expect(h.persisted.allSatisfy { !$0.1.contains(h.state.historyOwner(of: h.ids["carol"]!) ?? "-") })
    }

    @Test func aRegisteredNickStaysWithItsOwnerAfterTheForcedRename() {
        var h = Self.harness()
        h.connect("carol")
        h.now.millisecondsSince1970 += 31_000
        h.outbox.removeAll()
        h.state.expireReservations(now: h.now, into: &h.outbox)
        h.collect()
        #expect(h.take("carol").contains { $0.command == .nick && $0.parameters == ["Guest1"] })
        h.send("carol", "NICK carol")
        let refusal = h.take("carol")
        #expect(refusal.first?.command == IRCCommand(.errNicknameInUse), "not a second grace period")
        #expect(refusal.first?.parameters.last?.contains("reserved") == true)
        h.connect("other")
        h.send("other", "NICK Carol")
        #expect(h.take("other").first?.command == IRCCommand(.errNicknameInUse))

        // The owner, logged in, takes it at once; after the hold anyone may try again (and gets a grace period).
        h.connect("owner")
        h.logIn("owner", as: "carol")
        h.send("owner", "NICK carol")
        #expect(h.take("owner").contains { $0.command == .nick && $0.parameters == ["carol"] })
    }

    @Test func ghostAndRegainFreeTheNickForItsLoggedInOwner() {
        var h = Self.harness()
        h.connect("carol")
        h.connect("real")
        h.send("real", "PRIVMSG NickServ :GHOST carol")
        #expect(h.take("real").last?.parameters.last?.contains("not the nick of the account") == true)
        #expect(!h.isClosed("carol"))

        h.logIn("real", as: "carol")
        h.send("real", "PRIVMSG NickServ :REGAIN carol")
        #expect(h.isClosed("carol"), "the impostor is disconnected")
        #expect(h.take("real").contains { $0.command == .nick && $0.parameters == ["carol"] }, "and the owner has it")
        h.send("real", "PRIVMSG NickServ :GHOST carol")
        #expect(h.take("real").last?.parameters.last?.contains("not in use") == true)
    }

    @Test func loggedInUsersShareTheirConversationsAcrossConnectionsButNotWithStrangers() {
        var h = Self.harness()
        h.connect("alice")
        h.connect("phone", caps: ["draft/chathistory", "batch"])
        h.logIn("phone", as: "carol")
        h.send("alice", "PRIVMSG phone :secret hello")
        let stored = Self.storedConversations(h)
        #expect(stored.contains("\u{1}a:carol\u{1}alice"), "the recipient's copy is the account's: \(stored)")
        h.connect("laptop", caps: ["draft/chathistory", "batch"])
        #expect(!Self.reaches(Self.keysRead(by: "laptop", about: "alice", &h), stored), "not logged in yet")
        h.logIn("laptop", as: "carol")
        #expect(Self.reaches(Self.keysRead(by: "laptop", about: "alice", &h), stored), "another device of carol")
    }

    @Test func offlineMessagesAreAcknowledgedOnlyByThePongAfterThem() throws {
        var h = Self.harness()
        h.connect("carol")
        h.logIn("carol", as: "carol")
        let dm = try IRCParser.parse("@time=2026-01-01T00:00:00.000Z;msgid=m1 :alice!a@h PRIVMSG carol :hi")
        h.outbox.removeAll()
        h.state.pendingDelivered(h.ids["carol"]!, messages: [dm], through: 42, into: &h.outbox)
        h.collect()
        let ping = try #require(h.take("carol").last)
        #expect(ping.command == .ping && ping.parameters == ["parley-delivered-42"])
        h.send("carol", "PONG :something-else")
        #expect(h.acknowledged.isEmpty)
        h.send("carol", "PONG irc.test :parley-delivered-42")
        #expect(h.acknowledged == ["carol"])
        h.send("carol", "PONG irc.test :parley-delivered-42")
        #expect(h.acknowledged == ["carol"], "once")
    }
}
