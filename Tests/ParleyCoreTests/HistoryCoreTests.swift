import ParleyCore
import ParleyIRC
import Testing

@Suite struct HistoryCoreTests {
    private func harness(replayOnJoin: Int = 5) -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.history = .init(replayOnJoin: replayOnJoin, queryLimit: 50)
        return CoreHarness(configuration: configuration)
    }

    @Test func channelMessagesAndDirectMessagesArePersistedWithTheirTargets() throws {
        var core = self.harness()
        core.connect("alice")
        core.connect("Bob")
        core.send("alice", "JOIN #Room")
        core.send("alice", "PRIVMSG #room :hello")
        core.send("alice", "PRIVMSG bob :psst")
        core.send("alice", "@+typing=active TAGMSG #room")
        core.send("alice", "@+react=1 TAGMSG #room")
        let messages = core.persisted.filter { $0.0.command != .join }
        let alice = try #require(core.state.historyOwner(of: core.ids["alice"]!))
        let bob = try #require(core.state.historyOwner(of: core.ids["Bob"]!))
        // The DM is stored twice, one copy for each party, each naming the other by nick; one msgid.
        #expect(
            messages.map(\.1) == [
                "#room", HistoryTarget.conversation(owner: alice, correspondent: "bob").storageKey,
                HistoryTarget.conversation(owner: bob, correspondent: "alice").storageKey, "#room",
            ]
        )
        #expect(alice != bob && alice.hasPrefix("c:") && bob.hasPrefix("c:"))
        #expect(messages[1].0.tag("msgid") == messages[2].0.tag("msgid"))
        #expect(messages[0].0.tag("msgid") != nil)
        #expect(messages[3].0.command == .tagmsg)
        // The JOIN is kept too, for event-playback, with its own msgid.
        #expect(core.persisted.first?.0.command == .join)
        #expect(core.persisted.first?.0.tag("msgid") != nil)
    }

    /// Found by FuzzCore: `SEARCH =` (an attribute with no name) crashed the server on an empty split.
    @Test func searchAttributesWithoutANameAreRefusedNotACrash() {
        var core = self.harness()
        core.connect("alice")
        _ = core.take("alice")
        for query in ["=", "=;=", "inta#txe=;=", "text=x;=y"] {
            core.send("alice", "SEARCH \(query)")
            let reply = core.take("alice")
            #expect(reply.first?.command == .fail, "\(query)")
            #expect(reply.first?.parameters.prefix(2) == ["SEARCH", "INVALID_PARAMS"], "\(query)")
        }
    }

    @Test func aQuitIsKeptOnceInEachChannelWithItsOwnMsgid() {
        var core = self.harness()
        core.connect("alice")
        core.send("alice", "JOIN #a,#b")
        core.persisted.removeAll()
        core.send("alice", "QUIT :gone")
        let quits = core.persisted.filter { $0.0.command == .quit }
        #expect(Set(quits.map(\.1)) == ["#a", "#b"])
        let ids = quits.compactMap { $0.0.tag("msgid") }
        #expect(ids.count == 2 && Set(ids).count == 2)
    }

    @Test func nothingIsPersistedWithoutHistory() {
        var core = CoreHarness()
        core.connect("alice")
        core.send("alice", "JOIN #room")
        core.send("alice", "PRIVMSG #room :hello")
        #expect(core.persisted.isEmpty)
        _ = core.take("alice")
        core.send("alice", "CHATHISTORY LATEST #room * 10")
        #expect(core.take("alice").first?.command == IRCCommand(.errUnknownCommand))
    }

    @Test func capabilityAndISupportAreOfferedOnlyWithHistory() {
        var core = self.harness()
        core.open("alice")
        core.send("alice", "CAP LS 302")
        #expect(core.take("alice").first?.parameters.last?.contains("draft/chathistory") == true)
        var plain = CoreHarness()
        plain.open("alice")
        plain.send("alice", "CAP LS 302")
        #expect(plain.take("alice").first?.parameters.last?.contains("draft/chathistory") == false)
        plain.send("alice", "CAP REQ draft/chathistory")
        #expect(plain.take("alice").first?.parameters[1] == "NAK")

        core.send("alice", "NICK alice")
        core.send("alice", "USER a 0 * :A")
        core.send("alice", "CAP END")
        let isupport = core.take("alice").filter { $0.command == IRCCommand(.rplISupport) }.flatMap(\.parameters)
        #expect(isupport.contains("CHATHISTORY=50"))
        #expect(isupport.contains("MSGREFTYPES=msgid,timestamp"))
    }

    @Test func queriesAreCheckedAndHandedToTheHost() {
        var core = self.harness()
        core.connect("alice", caps: ["draft/chathistory", "batch"])
        core.send("alice", "JOIN #room")
        _ = core.take("alice")
        core.send("alice", "CHATHISTORY LATEST #room * 500")
        core.send("alice", "CHATHISTORY BEFORE #ROOM msgid=abc 5")
        core.send("alice", "CHATHISTORY BETWEEN #room timestamp=2026-01-01T00:00:00.000Z msgid=x 5")
        core.send("alice", "CHATHISTORY AROUND Bob timestamp=2026-01-01T00:00:00Z 3")
        #expect(core.historyQueries.map(\.limit) == [50, 5, 5, 3])
        #expect(core.historyQueries[0].kind == .latest(after: nil))
        #expect(core.historyQueries[1].kind == .before(.msgid("abc")))
        #expect(core.historyQueries[1].target == "#room")
        #expect(core.historyQueries[2].kind == .between(.timestamp(1_767_225_600_000), .msgid("x")))
        let alice = core.state.historyOwner(of: core.ids["alice"]!) ?? ""
        #expect(
            core.historyQueries[3].target == HistoryTarget.conversation(owner: alice, correspondent: "bob").storageKey
        )
        #expect(core.take("alice").isEmpty)
    }

    @Test func badQueriesGetStandardReplies() {
        var core = self.harness()
        core.connect("alice")
        core.connect("bob")
        core.send("bob", "JOIN #secret")
        let cases: [(String, String)] = [
            ("CHATHISTORY FETCH #room * 5", "INVALID_PARAMS"),
            ("CHATHISTORY LATEST #room *", "NEED_MORE_PARAMS"),
            ("CHATHISTORY LATEST #secret * 5", "INVALID_TARGET"),
            ("CHATHISTORY BEFORE #secret * 5", "INVALID_TARGET"),
            ("CHATHISTORY LATEST bob yesterday 5", "INVALID_PARAMS"),
            ("CHATHISTORY BEFORE bob * 5", "INVALID_PARAMS"),
            ("CHATHISTORY LATEST bob * none", "INVALID_PARAMS"),
            ("CHATHISTORY LATEST bob * 0", "INVALID_PARAMS"),
            ("CHATHISTORY TARGETS msgid=a timestamp=2026-01-01T00:00:00Z 5", "INVALID_PARAMS"),
        ]
        for (line, code) in cases {
            core.send("alice", line)
            let replies = core.take("alice")
            #expect(replies.count == 1, "\(line)")
            #expect(replies.first?.command == .fail, "\(line)")
            #expect(replies.first?.parameters.prefix(2) == ["CHATHISTORY", code][...], "\(line)")
        }
        #expect(core.historyQueries.allSatisfy { $0.purpose == .join })
    }

    @Test func answersComeInALabeledBatch() throws {
        var core = self.harness()
        core.connect("alice", caps: ["draft/chathistory", "batch", "labeled-response", "server-time"])
        core.send("alice", "JOIN #room")
        _ = core.take("alice")
        core.send("alice", "@label=q1 CHATHISTORY LATEST #room * 10")
        #expect(core.take("alice").isEmpty)
        let query = try #require(core.historyQueries.first)
        #expect(query.label == "q1")
        let stored = IRCMessage(
            tags: [IRCTag("time", "2026-01-01T00:00:00.000Z"), IRCTag("msgid", "m1")],
            source: "bob!b@h",
            command: .privmsg,
            parameters: ["#room", "old line"]
        )
        core.outbox.removeAll()
        core.state.historyLoaded(query, messages: [stored], into: &core.outbox)
        core.collect()
        let replies = core.take("alice")
        #expect(replies.map(\.command) == [.batch, .privmsg, .batch])
        #expect(replies[0].tag("label") == "q1")
        #expect(replies[0].parameters.dropFirst() == ["chathistory", "#room"])
        let reference = String(replies[0].parameters[0].dropFirst())
        #expect(replies[1].tag("batch") == reference)
        #expect(replies[1].tag("msgid") == "m1")
        #expect(replies[2].parameters == ["-" + reference])
    }

    /// A cluster logs AWAY in the user's channels for its nodes; history never shows it, even with event-playback.
    @Test func awayLoggedForTheClusterIsNotHistory() throws {
        var core = self.harness()
        core.connect("alice", caps: ["draft/chathistory", "batch", "draft/event-playback", "server-time"])
        core.send("alice", "JOIN #room")
        _ = core.take("alice")
        core.send("alice", "CHATHISTORY LATEST #room * 10")
        let query = try #require(core.historyQueries.first)
        let time = IRCTag("time", "2026-01-01T00:00:00.000Z")
        let stored = [
            IRCMessage(tags: [time], source: "bob!b@h", command: .away, parameters: ["lunch"]),
            IRCMessage(tags: [time], source: "bob!b@h", command: .join, parameters: ["#room"]),
        ]
        core.outbox.removeAll()
        core.state.historyLoaded(query, messages: stored, into: &core.outbox)
        core.collect()
        #expect(core.take("alice").map(\.command) == [.batch, .join, .batch])
    }

    @Test func joinReplaysRecentLinesOnlyToClientsWithoutChathistory() {
        var core = self.harness(replayOnJoin: 7)
        core.connect("timed", caps: ["server-time"])
        core.connect("modern", caps: ["draft/chathistory", "server-time"])
        core.connect("bare")
        core.send("timed", "JOIN #room")
        core.send("modern", "JOIN #room")
        core.send("bare", "JOIN #room")
        #expect(core.historyQueries.count == 1)
        #expect(core.historyQueries.first?.session == core.ids["timed"])
        #expect(core.historyQueries.first?.purpose == .join)
        #expect(core.historyQueries.first?.limit == 7)
        var off = self.harness(replayOnJoin: 0)
        off.connect("plain", caps: ["server-time"])
        off.send("plain", "JOIN #room")
        #expect(off.historyQueries.isEmpty)
    }

    @Test func targetsNameChannelsAndTheOtherParty() throws {
        var core = self.harness()
        core.connect("alice", caps: ["draft/chathistory", "batch"])
        core.send("alice", "JOIN #Room")
        core.send("alice", "CHATHISTORY TARGETS timestamp=2026-01-02T00:00:00Z timestamp=2026-01-01T00:00:00Z 10")
        let query = try #require(core.historyQueries.last)
        #expect(query.kind == .targets(from: 1_767_225_600_000, to: 1_767_312_000_000))
        #expect(query.channels == ["#room"])
        core.outbox.removeAll()
        core.state.historyTargetsLoaded(
            query,
            targets: [
                ("#room", 1_767_225_600_500),
                (HistoryTarget.conversation(owner: query.owner, correspondent: "zed").storageKey, 1_767_225_601_000),
            ],
            into: &core.outbox
        )
        core.collect()
        let lines = core.take("alice").filter { $0.command == .chathistory }
        #expect(
            lines.map(\.parameters) == [
                ["TARGETS", "#Room", "2026-01-01T00:00:00.500Z"], ["TARGETS", "zed", "2026-01-01T00:00:01.000Z"],
            ]
        )
    }
}
