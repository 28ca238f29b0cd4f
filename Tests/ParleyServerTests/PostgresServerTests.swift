import ParleyIRC
import ParleyStorePostgres
import ParleyTestSupport
import Testing

/// The server with everything in PostgreSQL (`--database postgres://…`): accounts, registered channels, history and
/// search, kept across a restart. Needs `PARLEY_TEST_POSTGRES` (CI provides it).
@Suite(.enabled(if: testPostgresURL != nil, "PARLEY_TEST_POSTGRES is not set"), .timeLimit(.minutes(2)))
struct PostgresServerTests {
    static let caps = [
        "draft/chathistory", "batch", "server-time", "message-tags", "echo-message", "soju.im/search",
    ]

    private func readBatch(_ client: TestClient) async throws -> [IRCMessage] {
        try await client.expect(.batch)
        var messages: [IRCMessage] = []
        while let message = try await client.next(), message.command != .batch {
            messages.append(message)
        }
        return messages
    }

    @Test func theServerKeepsEverythingInPostgresAcrossARestart() async throws {
        try await withPostgresDatabase { url in
            let store = try await PostgresStore.open(url: url)
            let first = try await TestServer.start(store: store)
            let quinn = try await first.register("quinn", caps: Self.caps)
            try await quinn.send("PRIVMSG NickServ :REGISTER quinn-password")
            try await quinn.expect(.rplLoggedIn)
            try await first.join("#club", quinn)
            try await quinn.send("PRIVMSG ChanServ :REGISTER #club")
            let registered = try await quinn.expect(.notice)
            #expect(registered.parameters.last?.contains("#club is registered to quinn") == true)
            try await quinn.send("TOPIC #club :Members only")
            try await quinn.expect(.topic)
            for index in 0..<30 {
                try await quinn.send("PRIVMSG #club :line \(index)")
                // The echo comes after the commit.
                while try await quinn.expect(.privmsg).parameters.last != "line \(index)" {}
            }
            await first.stop()
            try await store.close()

            let reopened = try await PostgresStore.open(url: url)
            let second = try await TestServer.start(store: reopened)
            let back = try await second.register("quinn", caps: Self.caps)
            try await back.send("PRIVMSG NickServ :IDENTIFY quinn-password")
            try await back.expect(.rplLoggedIn)
            try await back.send("JOIN #club")
            let topic = try await back.expect(.rplTopic)
            #expect(topic.parameters.last == "Members only")
            try await back.send("CHATHISTORY LATEST #club * 100")
            let lines = try await self.readBatch(back).filter { $0.command == .privmsg }
            #expect(lines.map { $0.parameters.last! } == (0..<30).map { "line \($0)" })
            try await back.send("SEARCH :in=#club;text=line 7")
            let found = try await self.readBatch(back)
            #expect(found.map { $0.parameters.last! } == ["line 7"])
            await second.stop()
            try await reopened.close()
        }
    }
}
