import ParleyClient
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// The security issue's reproductions over real sockets: DMs belong to the people in them, not to whoever holds a
/// nick later.
@Suite(.timeLimit(.minutes(2))) struct PrivateHistoryIntegrationTests {
    static let caps = ["draft/chathistory", "batch", "server-time", "message-tags", "echo-message"]

    private func withServer(_ body: (TestServer) async throws -> Void) async throws {
        try await TestServer.withHistory({ $0.nickGrace = 30 }, { server, _ in try await body(server) })
    }

    /// The PRIVMSG and NOTICE lines of the next batch.
    private func readBatch(_ client: TestClient) async throws -> [IRCMessage] {
        try await client.expect(.batch)
        var messages: [IRCMessage] = []
        while let message = try await client.next(), message.command != .batch { messages.append(message) }
        return messages
    }

    /// Everything `client` can read of its conversation with `other`: CHATHISTORY, TARGETS and SEARCH.
    private func everythingRead(by client: TestClient, about other: String) async throws -> [String] {
        try await client.send("CHATHISTORY LATEST \(other) * 50")
        let history = try await self.readBatch(client).compactMap { $0.parameters.count > 1 ? $0.parameters[1] : nil }
        try await client.send(
            "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 50"
        )
        let targets = try await self.readBatch(client).map { $0.parameters[1] }
        try await client.send("SEARCH text=secret")
        let found = try await self.readBatch(client).compactMap { $0.parameters.count > 1 ? $0.parameters[1] : nil }
        return history + targets.map { "target " + $0 } + found
    }

    @Test func aNewClientUnderAFreedNickReadsNothingOfTheOldConversation() async throws {
        try await self.withServer { server in
            let alice = try await server.register("alice", caps: Self.caps)
            let bob = try await server.register("bob", caps: Self.caps)
            try await alice.send("PRIVMSG bob :secret one")
            try await bob.expect(.privmsg)
            try await bob.send("PRIVMSG alice :secret two")
            try await alice.expect(.privmsg)
            try await alice.expect(.privmsg)
            try await bob.send("NICK robert")
            try await bob.expect(.nick)

            let thief = try await server.register("bob", caps: Self.caps)
            let stolen = try await self.everythingRead(by: thief, about: "alice")
            #expect(stolen.isEmpty, "the new bob reads: \(stolen)")
            // The person who was bob still has the conversation, under the nick it had then.
            let kept = try await self.everythingRead(by: bob, about: "alice")
            #expect(kept.filter { $0.hasPrefix("secret") } == ["secret one", "secret two", "secret one", "secret two"])
            #expect(kept.contains("target alice"))
        }
    }

    @Test func someoneWhoTakesAnOfflineAccountsNickReadsAndReceivesNoneOfItsMessages() async throws {
        try await self.withServer { server in
            let carol = try await server.register("carol", caps: Self.caps)
            try await carol.send("PRIVMSG NickServ :REGISTER carol-password")
            try await carol.expect(.rplLoggedIn)
            try await carol.send("QUIT")
            _ = try await carol.drainUntilClosed()

            let alice = try await server.register("alice", caps: Self.caps)
            try await alice.send("PRIVMSG carol :secret while you were away")
            #expect(try await alice.expect(.notice).parameters.last?.contains("offline") == true)

            let impostor = try await server.register("carol", caps: Self.caps)
            let warning = try await impostor.expect(.notice)
            #expect(warning.parameters.last?.contains("belongs to a registered account") == true)
            let read = try await self.everythingRead(by: impostor, about: "alice")
            #expect(read.isEmpty, "the impostor reads: \(read)")
            try await alice.send("PRIVMSG carol :live secret")
            let kept = try await alice.expect(.notice)
            #expect(kept.parameters.last?.contains("not logged in") == true)
            try await impostor.send("PING after")
            var lines: [IRCMessage] = []
            while let line = try await impostor.next(), line.command != .pong { lines.append(line) }
            #expect(!lines.contains { $0.command == .privmsg }, "a live DM reached the impostor: \(lines)")

            // The owner logs in elsewhere, takes the nick back at once, and gets both messages.
            let owner = try await server.register("carol2", caps: Self.caps)
            try await owner.send("PRIVMSG NickServ :IDENTIFY carol carol-password")
            try await owner.expect(.rplLoggedIn)
            var delivered: [String] = []
            while delivered.count < 2 { delivered.append(try await owner.expect(.privmsg).parameters[1]) }
            #expect(delivered == ["secret while you were away", "live secret"])
            try await owner.send("PRIVMSG NickServ :REGAIN carol")
            try await owner.expect(.nick)
            _ = try await impostor.drainUntilClosed()
            let history = try await self.everythingRead(by: owner, about: "alice")
            #expect(history.filter { $0.hasPrefix("secret") || $0.hasPrefix("live") }.count == 4)
        }
    }

    @Test func whoeverRecreatesAnEmptiedChannelReadsNothingOfItsPastButARegisteredOneKeepsIt() async throws {
        try await self.withServer { server in
            let caps = Self.caps + ["draft/event-playback"]
            let alice = try await server.register("alice", caps: caps)
            try await alice.send("JOIN #secret")
            try await alice.expect(.rplEndOfNames)
            try await alice.send("MODE #secret +sk hunter2")
            try await alice.expect(.mode)
            try await alice.send("PRIVMSG #secret :secret plans")
            try await alice.expect(.privmsg)
            try await alice.send("PART #secret")
            try await alice.expect(.part)

            let mallory = try await server.register("mallory", caps: caps)
            try await mallory.send("JOIN #secret")
            try await mallory.expect(.rplEndOfNames)
            try await mallory.send("CHATHISTORY LATEST #secret * 50")
            let lines = try await self.readBatch(mallory)
            let text = lines.map { $0.parameters.joined(separator: " ") }
            #expect(!text.contains { $0.contains("secret plans") || $0.contains("hunter2") }, "\(text)")
            #expect(lines.allSatisfy { $0.source?.hasPrefix("mallory!") == true }, "only this incarnation: \(text)")
            try await mallory.send("SEARCH text=plans")
            #expect(try await self.readBatch(mallory).isEmpty)
            try await mallory.send("CHATHISTORY AFTER #secret timestamp=2000-01-01T00:00:00.000Z 50")
            #expect(try await self.readBatch(mallory).allSatisfy { $0.source?.hasPrefix("mallory!") == true })

            // A channel registered with ChanServ keeps its history across empty periods.
            try await mallory.send("PRIVMSG NickServ :REGISTER mallory-password")
            try await mallory.expect(.rplLoggedIn)
            try await mallory.send("PRIVMSG ChanServ :REGISTER #secret")
            try await mallory.expect(.notice)
            try await mallory.send("PRIVMSG #secret :kept for later")
            try await mallory.expect(.privmsg)
            try await mallory.send("PART #secret")
            try await mallory.expect(.part)
            try await alice.send("JOIN #secret")
            try await alice.expect(.rplEndOfNames)
            try await alice.send("CHATHISTORY LATEST #secret * 50")
            let kept = try await self.readBatch(alice).compactMap { $0.command == .privmsg ? $0.parameters[1] : nil }
            #expect(kept == ["kept for later"])
        }
    }

    /// Offline DMs stay kept until a session has them: one that drops before answering the PING after them leaves
    /// them kept for the next login; once answered, they are gone.
    @Test func offlineMessagesAreKeptUntilASessionHasThem() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store)
        do {
            let carol = try await server.register("carol")
            try await carol.send("PRIVMSG NickServ :REGISTER carol-password")
            try await carol.expect(.rplLoggedIn)
            try await carol.send("QUIT")
            _ = try await carol.drainUntilClosed()
            let alice = try await server.register("alice")
            try await alice.send("PRIVMSG carol :while you were out")
            try await alice.expect(.notice)

            /// Logs in as carol under `nick` and returns the client once the kept DM arrived.
            func logIn(_ nick: String, answering: Bool) async throws -> TestClient {
                let client = try await server.connect(answerPings: answering)
                try await client.client.startRegistration(nick: nick, capabilities: [])
                try await client.expect(.errNoMotd, .rplEndOfMotd)
                try await client.send("PRIVMSG NickServ :IDENTIFY carol carol-password")
                try await client.expect(.rplLoggedIn)
                #expect(try await client.expect(.privmsg).parameters.last == "while you were out")
                return client
            }
            func kept() async throws -> Int { try await store.pendingDeliveries(for: "carol").count }

            let dropped = try await logIn("carol1", answering: false)
            await dropped.close()
            #expect(try await kept() == 1, "not lost with the session that dropped")
            let reading = try await logIn("carol2", answering: true)
            for _ in 0..<200 where try await kept() > 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(try await kept() == 0, "acknowledged by the PONG")
            await reading.close()
            await server.stop()
            try await store.close()
        } catch {
            await server.stop()
            try await store.close()
            throw error
        }
    }
}
