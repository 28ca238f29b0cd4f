import Foundation
import ParleyClient
import ParleyCore
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import SQLiteNIO
import Testing

/// A stalled store delays only what needs it (DESIGN.md, "Ordering"). The stall is real: a second SQLite connection
/// holds the write lock, as another process (a backup, a sqlite3 shell) would; SQLite's busy handler makes the
/// server's commit wait for it. That wait blocks one thread of NIO's shared thread pool (two threads here), so these
/// tests run one at a time: two stalls at once would leave none for the other suites' stores and password checks.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StalledStoreIntegrationTests {
    /// Holds the database's write lock until `release()`.
    struct WriteLock {
        let connection: SQLiteConnection

        static func take(_ store: TestStore) async throws -> WriteLock {
            let path = store.directory.appendingPathComponent("parley.sqlite").path
            let connection = try await SQLiteConnection.open(storage: .file(path: path))
            _ = try await connection.query("BEGIN IMMEDIATE")
            return WriteLock(connection: connection)
        }

        func release() async throws {
            _ = try await self.connection.query("COMMIT")
            try await self.connection.close()
        }
    }

    @Test func whileAMessageWaitsForAStalledStoreOthersArePongedRegisterAndChatElsewhere() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store)
        let alice = try await server.register("alice", caps: ["echo-message"])
        let bob = try await server.register("bob")
        try await server.join("#stuck", alice, bob)
        let lock = try await WriteLock.take(store)

        try await alice.send("PRIVMSG #stuck :waiting for the disk")
        // bob is in the channel whose message waits; his own PING is not behind it.
        try await bob.send("PING still-here")
        let pong = try await bob.next()
        #expect(pong?.command == .pong)
        #expect(pong?.parameters.last == "still-here")
        // alice's own later reply does wait: her replies keep the order of her commands.
        try await alice.send("PING after-the-message")
        // A newcomer registers meanwhile, and a PING of hers is answered.
        let carol = try await server.register("carol")
        try await carol.send("PING hello")
        #expect(try await carol.expect(.pong).parameters.last == "hello")
        let health = try await HTTPTestClient.get(port: server.port, "/healthz")
        #expect(health.status == 503)
        #expect(health.text.contains("\"store\":\"stalled\""))

        try await lock.release()
        let delivered = try await bob.expect(.privmsg)
        #expect(delivered.parameters == ["#stuck", "waiting for the disk"])
        let echo = try await alice.expect(.privmsg)
        #expect(echo.parameters == ["#stuck", "waiting for the disk"])
        let alicePong = try await alice.next()
        #expect(alicePong?.command == .pong)
        #expect(alicePong?.parameters.last == "after-the-message")
        #expect(try await HTTPTestClient.get(port: server.port, "/healthz").status == 200)
        await carol.close()
        await alice.close()
        await bob.close()
        await server.stop()
        try await store.close()
    }

    @Test func shutdownEndsWithinItsGraceTimeWhileTheStoreStaysStalled() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store) { $0.shutdownGrace = 1 }
        let alice = try await server.register("alice", caps: ["echo-message"])
        try await server.join("#stuck", alice)
        let lock = try await WriteLock.take(store)
        try await alice.send("PRIVMSG #stuck :never acknowledged")
        try await alice.send("PING queued-behind-it")
        // The lock is released only after shutdown returns: a shutdown that waited for the store never would.
        await server.stop()
        #expect(server.server.abandonedStore)
        // What waited for the store is dropped, but alice is still told the server is going and is closed.
        let rest: [IRCMessage]
        do {
            rest = try await alice.drainUntilClosed()
        } catch {
            try await lock.release()
            throw error
        }
        try await lock.release()
        try await store.close()
        #expect(!rest.contains { $0.command == .privmsg }, "the message was acknowledged: \(rest.map(\.line))")
        #expect(rest.last?.parameters == ["Closing link (Server shutting down)"])
    }

    /// The commands `client` reads up to and including the next PONG.
    private func commandsUntilPong(_ client: TestClient) async throws -> [String] {
        var commands: [String] = []
        while let message = try await client.next() {
            commands.append(message.command.rawValue)
            if message.command == .pong { return commands }
        }
        return commands
    }

    @Test func repliesLeaveInTheOrderOfTheirCommands() async throws {
        let hash = try OperatorPassword.hash("hunter2", rounds: 50_000)
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store) {
            $0.operators = [.init(name: "admin", passwordHash: hash)]
        }
        let alice = try await server.register("alice", caps: ["draft/chathistory", "batch", "server-time"])
        // The password check takes a while on another thread; the PING after it is answered after it.
        try await alice.send("OPER admin hunter2\r\nPING after-oper")
        let oper = try await self.commandsUntilPong(alice)
        #expect(oper.contains(IRCCommand(.rplYoureOper).rawValue), "\(oper)")
        // A history query goes to the store; the PING after it waits for its answer.
        try await alice.send("JOIN #a\r\nCHATHISTORY LATEST #a * 10\r\nPING after-history")
        let history = try await self.commandsUntilPong(alice)
        let join = try #require(history.firstIndex(of: "JOIN"))
        let batch = try #require(history.firstIndex(of: "BATCH"))
        #expect(join < batch)
        #expect(history.lastIndex(of: "BATCH") == history.count - 2, "\(history)")
        await alice.close()
        await server.stop()
        try await store.close()
    }
}
