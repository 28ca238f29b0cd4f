import ParleyIRC
import ParleyServer
import ParleyStorePostgres
import ParleyTestSupport
import Testing

/// Two nodes sharing one PostgreSQL database, each a real server on its own port with its own store connection:
/// channel messages cross between them in order, and history is the same on both. Needs `PARLEY_TEST_POSTGRES`.
@Suite(.enabled(if: testPostgresURL != nil, "PARLEY_TEST_POSTGRES is not set"), .timeLimit(.minutes(2)))
struct ClusterIntegrationTests {
    static let caps = ["draft/chathistory", "batch", "server-time", "message-tags", "echo-message"]

    private func withTwoNodes(_ body: (TestServer, TestServer) async throws -> Void) async throws {
        try await withPostgresDatabase { url in
            var stores: [PostgresStore] = []
            var servers: [TestServer] = []
            for name in ["a", "b"] {
                let store = try await PostgresStore.open(url: url)
                let bus = try await PostgresClusterBus.join(store: store, nodeID: "node-\(name)", lease: .seconds(30))
                stores.append(store)
                servers.append(try await TestServer.start(store: store, cluster: bus))
            }
            do {
                try await body(servers[0], servers[1])
            } catch {
                for server in servers { await server.stop() }
                for store in stores { try? await store.close() }
                throw error
            }
            for server in servers { await server.stop() }
            for store in stores { try await store.close() }
        }
    }

    private func readBatch(_ client: TestClient) async throws -> [IRCMessage] {
        try await client.expect(.batch)
        var messages: [IRCMessage] = []
        while let message = try await client.next(), message.command != .batch { messages.append(message) }
        return messages
    }

    @Test func aNickInUseOnOneNodeIsRefusedOnTheOtherUntilItIsFree() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice")
            let other = try await b.connect()
            try await other.send("NICK ALICE")
            try await other.send("USER x 0 * :X")
            let refusal = try await other.expect(.errNicknameInUse)
            #expect(refusal.parameters.dropFirst().first == "ALICE")
            try await other.send("NICK alice2")
            let welcome = try await other.expect(.rplWelcome)
            #expect(welcome.parameters.first == "alice2", "a nick free on every node is granted")
            try await alice.send("NICK Alice2")
            #expect(try await alice.expect(.errNicknameInUse).parameters.dropFirst().first == "Alice2")

            // A bot that sends everything at once: its JOIN waits for the nick, it is not refused.
            let bot = try await a.connect()
            try await bot.send("NICK botty")
            try await bot.send("USER b 0 * :b")
            try await bot.send("JOIN #bots")
            #expect(try await bot.expect(.rplWelcome, .errNotRegistered).command == IRCCommand(.rplWelcome))
            #expect(try await bot.expect(.join, IRCCommand(.errNotRegistered)).parameters.first == "#bots")

            try await alice.send("QUIT :moving")
            _ = try await alice.drainUntilClosed()
            // Node a gives the nick back a moment after the QUIT; ask until node b grants it (bounded).
            var renamed: IRCMessage?
            for _ in 0..<100 where renamed == nil {
                try await other.send("NICK alice")
                let answer = try await other.expect(.nick, IRCCommand(.errNicknameInUse))
                if answer.command == .nick { renamed = answer } else { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(renamed?.parameters == ["alice"])
            #expect(renamed?.source?.hasPrefix("alice2!") == true)
        }
    }

    @Test func directMessagesCrossNodesInOrderAndAUserWhoLeftIsNoLongerThere() async throws {
        try await self.withTwoNodes { a, b in
            let bob = try await b.register("bob", caps: Self.caps)
            let alice = try await a.register("alice", caps: Self.caps)
            // Node a hears of bob's nick through the database; wait (bounded) until it knows him.
            var known = false
            for _ in 0..<100 where !known {
                try await alice.send("PRIVMSG Bob :are you there?")
                let answer = try await alice.expect(.privmsg, IRCCommand(.errNoSuchNick))
                known = answer.command == .privmsg
                if !known { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(known, "node a learns the nicks node b holds")
            var echoes: [String] = []
            for index in 0..<20 {
                try await alice.send("PRIVMSG Bob :dm \(index)")
                echoes.append(try #require(try await alice.expect(.privmsg).tag("msgid")))
            }
            var received: [IRCMessage] = []
            while received.count < 21 { received.append(try await bob.expect(.privmsg)) }
            #expect(received.map { $0.parameters.last! } == ["are you there?"] + (0..<20).map { "dm \($0)" })
            #expect(received.dropFirst().map { $0.tag("msgid") } == echoes, "the same msgids on both nodes")
            #expect(received.allSatisfy { $0.source?.hasPrefix("alice!") == true && $0.parameters[0] == "Bob" })

            try await bob.send("PRIVMSG alice :got them")
            let reply = try await alice.expect(.privmsg)
            #expect(reply.parameters == ["alice", "got them"] && reply.source?.hasPrefix("bob!") == true)
            try await alice.send("CHATHISTORY LATEST bob * 100")
            let history = try await self.readBatch(alice).filter { $0.command == .privmsg }
            #expect(history.map { $0.parameters.last! }.suffix(2) == ["dm 19", "got them"])
            #expect(history.count == 22)

            // Each party has a copy of the conversation: bob's node stored his when the DMs crossed to him, and
            // delivered each once (the copy it stored is not delivered again when it comes back through the log).
            try await bob.send("PING settled")
            var beforePong: [IRCMessage] = []
            while let line = try await bob.next(), line.command != .pong { beforePong.append(line) }
            let again = beforePong.filter { $0.command == .privmsg && $0.source?.hasPrefix("alice!") == true }
            #expect(again.isEmpty, "no DM delivered twice: \(again)")
            try await bob.send("CHATHISTORY LATEST alice * 100")
            let bobs = try await self.readBatch(bob).filter { $0.command == .privmsg }
            #expect(bobs.map { $0.tag("msgid") } == history.map { $0.tag("msgid") }, "the same conversation")

            try await alice.send("PRIVMSG nobody-here :hello")
            #expect(try await alice.expect(.errNoSuchNick).parameters.dropFirst().first == "nobody-here")

            try await bob.send("QUIT")
            _ = try await bob.drainUntilClosed()
            var gone = false
            for _ in 0..<100 where !gone {
                try await alice.send("PRIVMSG bob :still there?")
                let answer = try await alice.expect(.privmsg, IRCCommand(.errNoSuchNick))
                gone = answer.command == IRCCommand(.errNoSuchNick)
                if !gone { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(gone, "once bob has left node b, node a says there is no such nick")
        }
    }

    /// Reads NAMES of `channel` until it lists `wanted` (bounded): the other node's events arrive a moment later.
    /// With `anyPrefix`, `wanted` matches with or without a status prefix (`@`, `+`).
    private func waitForNames(
        _ client: TestClient,
        _ channel: String,
        toList wanted: String,
        anyPrefix: Bool = false
    ) async throws -> [String] {
        var names: [String] = []
        for _ in 0..<100 {
            try await client.send("NAMES \(channel)")
            names = []
            while true {
                let reply = try await client.expect(.rplNamReply, .rplEndOfNames)
                if reply.command == IRCCommand(.rplEndOfNames) { break }
                names += reply.parameters.last!.split(separator: " ").map(String.init)
            }
            if names.contains(where: { $0 == wanted || (anyPrefix && $0.drop { "@+".contains($0) } == wanted) }) {
                return names
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return names
    }

    /// Asks LIST until `channel` shows `users` members (bounded).
    private func waitForList(_ client: TestClient, _ channel: String, users: Int) async throws -> Bool {
        for _ in 0..<100 {
            try await client.send("LIST \(channel)")
            var count: String?
            while true {
                let reply = try await client.expect(.rplList, .rplListEnd)
                if reply.command == IRCCommand(.rplListEnd) { break }
                count = reply.parameters[2]
            }
            if count == String(users) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func aChannelIsOneAcrossNodesMembersTopicModesKicksAndQuits() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice")
            try await a.join("#c", alice)
            let bob = try await b.register("bob")
            let dave = try await b.register("dave")
            // Node b learns from the log that alice is in #c with ops (she created it on node a).
            #expect(try await self.waitForList(dave, "#c", users: 1), "node b knows #c and its one member")
            #expect(try await self.waitForNames(dave, "#c", toList: "@alice").isEmpty, "non-members see no one")
            try await b.join("#c", bob)
            let joined = try await alice.expect(.join)
            #expect(joined.source?.hasPrefix("bob!") == true && joined.parameters == ["#c"])
            let names = try await self.waitForNames(bob, "#c", toList: "bob")
            #expect(Set(names) == ["@alice", "bob"], "bob joined a channel that existed: no ops for him")
            #expect(Set(try await self.waitForNames(alice, "#c", toList: "bob")) == ["@alice", "bob"])

            try await alice.send("TOPIC #c :one network")
            let topic = try await bob.expect(.topic)
            #expect(topic.parameters == ["#c", "one network"] && topic.source?.hasPrefix("alice!") == true)
            try await bob.send("TOPIC #c")
            #expect(try await bob.expect(.rplTopic).parameters.last == "one network")

            try await alice.send("MODE #c +m")
            #expect(try await bob.expect(.mode).parameters == ["#c", "+m"])
            try await bob.send("PRIVMSG #c :may I?")
            #expect(try await bob.expect(.errCannotSendToChan).parameters.dropFirst().first == "#c")
            try await alice.send("MODE #c +v bob")
            #expect(try await bob.expect(.mode).parameters == ["#c", "+v", "bob"])
            try await bob.send("PRIVMSG #c :thanks")
            #expect(try await alice.expect(.privmsg).parameters == ["#c", "thanks"])

            try await alice.send("KICK #c bob :enough")
            let kick = try await bob.expect(.kick)
            #expect(kick.parameters == ["#c", "bob", "enough"])
            try await bob.send("PRIVMSG #c :still here?")
            #expect(try await bob.expect(.errCannotSendToChan, .errNoSuchChannel, .errNotOnChannel).command != .privmsg)
            #expect(try await self.waitForList(dave, "#c", users: 1), "bob is gone from #c on node b too")

            try await b.join("#c", dave)
            _ = try await alice.expect(.join)
            try await dave.send("QUIT :bye now")
            let quit = try await alice.expect(.quit)
            #expect(quit.source?.hasPrefix("dave!") == true && quit.parameters == ["Quit: bye now"])
            #expect(try await self.waitForNames(alice, "#c", toList: "@alice") == ["@alice"])

            // Node b leaves: its users still in #c quit on node a, saying why.
            let carol = try await b.register("carol")
            try await b.join("#c", carol)
            _ = try await alice.expect(.join)
            await b.stop()
            let gone = try await alice.expect(.quit)
            #expect(gone.source?.hasPrefix("carol!") == true)
            #expect(gone.parameters.first?.contains("node-b") == true, "\(gone.parameters)")
            #expect(try await self.waitForNames(alice, "#c", toList: "@alice") == ["@alice"])
        }
    }

    @Test func anInviteToAnInviteOnlyChannelReachesAUserOnTheOtherNode() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice")
            try await a.join("#club", alice)
            try await alice.send("MODE #club +i")
            _ = try await alice.expect(.mode)
            let bob = try await b.register("bob")
            // Node b knows #club is +i once it has applied alice's MODE from the log.
            var refused = false
            for _ in 0..<100 where !refused {
                try await bob.send("JOIN #club")
                let answer = try await bob.expect(.join, IRCCommand(.errInviteOnlyChan))
                refused = answer.command == IRCCommand(.errInviteOnlyChan)
                if answer.command == .join { Issue.record("bob joined a +i channel uninvited") }
                if !refused { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(refused, "node b refuses an uninvited join")
            var inviting: IRCMessage?
            for _ in 0..<100 where inviting == nil {
                try await alice.send("INVITE Bob #club")
                let answer = try await alice.expect(.rplInviting, .errNoSuchNick)
                if answer.command == IRCCommand(.rplInviting) { inviting = answer }
                if inviting == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(inviting?.parameters == ["alice", "bob", "#club"], "node a knows bob is on node b")
            let invite = try await bob.expect(.invite)
            #expect(invite.source?.hasPrefix("alice!") == true && invite.parameters == ["bob", "#club"])
            try await bob.send("JOIN #club")
            #expect(try await bob.expect(.join, IRCCommand(.errInviteOnlyChan)).command == .join)
            let joined = try await alice.expect(.join)
            #expect(joined.source?.hasPrefix("bob!") == true)
            try await alice.send("INVITE bob #club")
            #expect(try await alice.expect(.errUserOnChannel).parameters.dropFirst(2).first == "#club")
        }
    }

    @Test func awayOnOneNodeIsKnownOnTheOther() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice", caps: ["away-notify"])
            try await a.join("#c", alice)
            let bob = try await b.register("bob")
            try await b.join("#c", bob)
            _ = try await alice.expect(.join)
            try await bob.send("AWAY :gone fishing")
            _ = try await bob.expect(.rplNowAway)
            let away = try await alice.expect(.away)
            #expect(away.source?.hasPrefix("bob!") == true && away.parameters == ["gone fishing"])
            try await alice.send("WHOIS bob")
            #expect(try await alice.expect(.rplAway).parameters == ["alice", "bob", "gone fishing"])
            try await bob.send("AWAY")
            _ = try await bob.expect(.rplUnAway)
            #expect(try await alice.expect(.away).parameters.isEmpty, "back")
        }
    }

    @Test func awayOfAUserInNoChannelIsKnownOnTheOtherNode() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice")
            let bob = try await b.register("bob")
            try await alice.send("AWAY :in no channel")
            _ = try await alice.expect(.rplNowAway)
            // The AWAY reaches node b through the log a moment later: ask until it has.
            var answer: [String] = []
            for _ in 0..<100 where answer.isEmpty {
                try await bob.send("WHOIS alice")
                let reply = try await bob.expect(.rplAway, .rplEndOfWhois)
                if reply.command == IRCCommand(.rplAway) {
                    answer = reply.parameters
                    _ = try await bob.expect(.rplEndOfWhois)
                } else {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(answer == ["bob", "alice", "in no channel"])
            try await bob.send("PRIVMSG alice :are you there?")
            #expect(try await bob.expect(.rplAway).parameters == ["bob", "alice", "in no channel"])
            #expect(try await alice.expect(.privmsg).parameters == ["alice", "are you there?"])
        }
    }

    @Test func typingOnOneNodeIsShownOnTheOther() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice", caps: ["message-tags"])
            try await a.join("#c", alice)
            let bob = try await b.register("bob", caps: ["message-tags"])
            try await b.join("#c", bob)
            _ = try await alice.expect(.join)
            // Typing notices go only to members this node knows of: wait until b has learnt alice's JOIN (under
            // load it can come after bob's own).
            let known = try await self.waitForNames(bob, "#c", toList: "alice", anyPrefix: true)
            #expect(known.contains { $0.hasSuffix("alice") }, "\(known)")
            try await bob.send("@+typing=active TAGMSG #c")
            let typing = try await alice.expect(.tagmsg)
            #expect(typing.source?.hasPrefix("bob!") == true && typing.parameters == ["#c"])
            #expect(typing.tag("+typing") == "active")
            try await bob.send("@+typing=done TAGMSG alice")
            let direct = try await alice.expect(.tagmsg)
            #expect(direct.parameters == ["alice"] && direct.tag("+typing") == "done")
            try await bob.send("PRIVMSG #c :hello")
            #expect(try await alice.expect(.privmsg).parameters == ["#c", "hello"])
        }
    }

    @Test func aRedactionOnOneNodeIsToldOnTheOtherAndTheMessageLeavesTheSharedHistory() async throws {
        try await self.withTwoNodes { a, b in
            let caps = ["message-tags", "echo-message", "batch", "draft/chathistory", "draft/message-redaction"]
            let alice = try await a.register("alice", caps: caps)
            try await a.join("#r", alice)
            let bob = try await b.register("bob", caps: caps)
            try await b.join("#r", bob)
            _ = try await alice.expect(.join)
            let known = try await self.waitForNames(bob, "#r", toList: "alice", anyPrefix: true)
            #expect(known.contains { $0.hasSuffix("alice") }, "\(known)")
            try await alice.send("PRIVMSG #r :take this back")
            let msgid = try #require(try await alice.expect(.privmsg).tag("msgid"))
            #expect(try await bob.expect(.privmsg).tag("msgid") == msgid)
            try await alice.send("REDACT #r \(msgid) :wrong window")
            #expect(try await alice.expect(.redact).parameters == ["#r", msgid, "wrong window"])
            let told = try await bob.expect(.redact)
            #expect(told.parameters == ["#r", msgid, "wrong window"] && told.source?.hasPrefix("alice!") == true)
            try await bob.send("CHATHISTORY LATEST #r * 10")
            let lines = try await self.readBatch(bob)
            #expect(!lines.contains { $0.tag("msgid") == msgid }, "\(lines.map(\.line))")
        }
    }

    @Test func aNodeThatStartsLaterKnowsTheChannelsMembersTopicAndModes() async throws {
        try await withPostgresDatabase { url in
            let storeA = try await PostgresStore.open(url: url)
            let busA = try await PostgresClusterBus.join(store: storeA, nodeID: "node-a", lease: .seconds(30))
            let a = try await TestServer.start(store: storeA, cluster: busA)
            let alice = try await a.register("alice")
            let carol = try await a.register("carol")
            try await a.join("#late", alice, carol)
            try await alice.send("TOPIC #late :set before b started")
            try await alice.expect(.topic)
            try await alice.send("MODE #late +m")
            try await alice.expect(.mode)
            try await carol.send("QUIT :gone before b started")
            try await alice.expect(.quit)
            try await alice.send("AWAY :away before b started")
            try await alice.expect(.rplNowAway)

            let storeB = try await PostgresStore.open(url: url)
            let busB = try await PostgresClusterBus.join(store: storeB, nodeID: "node-b", lease: .seconds(30))
            let b = try await TestServer.start(store: storeB, cluster: busB)
            let bob = try await b.register("bob")
            try await bob.send("JOIN #late")
            let topic = try await bob.expect(.rplTopic)
            #expect(topic.parameters.last == "set before b started")
            var names: [String] = []
            while true {
                let reply = try await bob.expect(.rplNamReply, .rplEndOfNames)
                if reply.command == IRCCommand(.rplEndOfNames) { break }
                names += reply.parameters.last!.split(separator: " ").map(String.init)
            }
            #expect(Set(names) == ["@alice", "bob"], "alice with ops, carol gone, bob without ops: \(names)")
            try await bob.send("MODE #late")
            #expect(try await bob.expect(.rplChannelModeIs).parameters.dropFirst(2).first?.contains("m") == true)
            try await bob.send("PRIVMSG #late :may I?")
            #expect(try await bob.expect(.errCannotSendToChan).parameters.dropFirst().first == "#late")
            #expect(try await alice.expect(.join).source?.hasPrefix("bob!") == true)
            try await bob.send("WHOIS alice")
            #expect(try await bob.expect(.rplAway).parameters.last == "away before b started")

            await b.stop()
            await a.stop()
            try await storeB.close()
            try await storeA.close()
        }
    }

    @Test func aNodeTheClusterGaveUpDisconnectsItsUsersAndJoinsAgain() async throws {
        try await withPostgresDatabase { url in
            let store = try await PostgresStore.open(url: url)
            let bus = try await PostgresClusterBus.join(store: store, nodeID: "node-b", lease: .seconds(30))
            // Renewals every second, so the test waits at most about that long.
            let b = try await TestServer.start(store: store, cluster: bus) { $0.clusterLease = 3 }
            let bob = try await b.register("bob")
            // What another node does when it finds b's lease run out (b was frozen or cut off meanwhile).
            _ = try await PostgresAdmin.run(
                [
                    "SELECT node_id FROM cluster_nodes WHERE node_id = 'node-b'",
                    "DELETE FROM cluster_nodes WHERE node_id = 'node-b' RETURNING node_id",
                ],
                on: url
            )
            let last = try await bob.drainUntilClosed(timeout: .seconds(20)).last
            #expect(last?.command == .error)
            #expect(
                last?.parameters.first?.contains("lost its place in the cluster") == true,
                "\(String(describing: last))"
            )
            // The node joined again and its nicks are free to be claimed anew.
            let again = try await b.register("bob")
            try await again.send("PING back")
            #expect(try await again.expect(.pong).parameters.last == "back")
            let nodes = try await PostgresAdmin.run(
                ["SELECT node_id || ' ' || (run <> '')::text FROM cluster_nodes"],
                on: url
            )
            #expect(nodes == ["node-b true"], "joined again, with its run")
            await b.stop()
            try await store.close()
        }
    }

    @Test func usersOnTwoNodesChatInAChannelInOrder() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice", caps: Self.caps)
            let bob = try await b.register("bob", caps: Self.caps)
            let carol = try await a.register("carol", caps: ["message-tags", "server-time"])
            try await a.join("#c", alice, carol)
            try await b.join("#c", bob)
            var sent: [String] = []
            for index in 0..<30 {
                try await alice.send("PRIVMSG #c :from a \(index)")
                let echo = try await alice.expect(.privmsg)
                sent.append(try #require(echo.tag("msgid")))
            }
            var received: [IRCMessage] = []
            while received.count < 30 { received.append(try await bob.expect(.privmsg)) }
            #expect(received.map { $0.parameters.last! } == (0..<30).map { "from a \($0)" })
            #expect(received.map { $0.tag("msgid") } == sent, "the same message ids on both nodes")
            #expect(received.allSatisfy { $0.source?.hasPrefix("alice!") == true && $0.tag("time") != nil })

            try await bob.send("PRIVMSG #c :hello from b")
            let reply = try await alice.expect(.privmsg)
            #expect(reply.parameters.last == "hello from b")
            #expect(reply.source?.hasPrefix("bob!") == true)
            // carol, on alice's node, got alice's lines once each (locally), then bob's.
            var carolSaw: [String] = []
            while carolSaw.count < 31 { carolSaw.append(try await carol.expect(.privmsg).parameters.last!) }
            #expect(carolSaw == (0..<30).map { "from a \($0)" } + ["hello from b"])

            // History is one log: both nodes answer the same.
            try await alice.send("CHATHISTORY LATEST #c * 100")
            let onA = try await self.readBatch(alice).filter { $0.command == .privmsg }.map { $0.tag("msgid") }
            try await bob.send("CHATHISTORY LATEST #c * 100")
            let onB = try await self.readBatch(bob).filter { $0.command == .privmsg }.map { $0.tag("msgid") }
            #expect(onA.count == 31)
            #expect(onA == onB)

            let metrics = try await HTTPTestClient.get(port: b.port, "/metrics").text
            #expect(metrics.contains("parley_cluster_relayed_messages_total 30"), "node b relayed alice's 30 lines")
            #expect(metrics.contains("parley_cluster_nodes 2"))
            let health = try await HTTPTestClient.get(port: b.port, "/healthz")
            #expect(health.status == 200)
            #expect(
                health.text.contains(
                    "\"cluster\":{\"node\":\"node-b\",\"status\":\"ok\",\"listening\":true,\"nodes_alive\":2,"
                ),
                "\(health.text)"
            )
        }
    }

    @Test func aNodeThatWasNotInTheChannelGetsOnlyWhatComesAfterItsMembersJoin() async throws {
        try await self.withTwoNodes { a, b in
            let alice = try await a.register("alice", caps: Self.caps)
            try await a.join("#c", alice)
            try await alice.send("PRIVMSG #c :before bob")
            try await alice.expect(.privmsg)
            // Node b has read it (with no member there to give it to) before bob joins: its relayed count is 1.
            while !(try await HTTPTestClient.get(port: b.port, "/metrics").text)
                .contains("parley_cluster_relayed_messages_total 1")
            {
                try await Task.sleep(for: .milliseconds(20))
            }
            let bob = try await b.register("bob", caps: Self.caps)
            try await b.join("#c", bob)
            try await alice.send("PRIVMSG #c :after bob")
            try await alice.expect(.privmsg)
            let first = try await bob.expect(.privmsg)
            #expect(first.parameters.last == "after bob", "no replay of what came before: that is history's job")
        }
    }
}
