import Foundation
import Logging
import ParleyClient
import ParleyCore
import ParleyIRC
public import ParleyServer
public import ParleyStore

/// A real server on 127.0.0.1 and a free port, with flood control off unless a test turns it on.
public struct TestServer: Sendable {
    public let server: ParleyServer
    public let port: Int

    public static func start(
        motd: [String]? = nil,
        store: (any ParleyStorage)? = nil,
        cluster: (any ClusterBus)? = nil,
        _ configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws
        -> TestServer
    {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.serverName = "irc.test"
        configuration.floodControl = false
        configuration.passwordIterations = 4096
        // Under the sanitizers a client can take more than the usual second to send its first bytes.
        if let patience = ProcessInfo.processInfo.environment["PARLEY_TEST_SNIFF_PATIENCE"].flatMap(Double.init) {
            configuration.sniffPatience = patience
        }
        configure(&configuration)
        var logger = Logger(label: "parley.test")
        logger.logLevel = .warning
        let server = ParleyServer(
            configuration: configuration,
            motd: motd,
            store: store,
            cluster: cluster,
            logger: logger
        )
        let port = try await server.start()
        return TestServer(server: server, port: port)
    }

    public func connect(answerPings: Bool = true) async throws -> TestClient {
        TestClient(try await IRCClient.connect(host: "127.0.0.1", port: self.port, answerPings: answerPings))
    }

    /// Connects and registers `nick`, then waits for the end of the welcome burst.
    public func register(_ nick: String, caps: [String] = []) async throws -> TestClient {
        let client = try await self.connect()
        try await client.client.startRegistration(nick: nick, capabilities: caps)
        try await client.expect(.errNoMotd, .rplEndOfMotd)
        return client
    }

    /// Each client joins `channel` in turn and reads up to its end of NAMES.
    public func join(_ channel: String, _ clients: TestClient...) async throws {
        for client in clients {
            try await client.send("JOIN \(channel)")
            try await client.expect(.rplEndOfNames)
        }
    }

    /// The end of every abuse case: a fresh client registers and gets an answer, and once it has gone the server
    /// holds no socket on its port but the listener (counted from /proc). Returns what went wrong, or `nil`.
    public func recoveryProblem() async throws -> String? {
        let fresh = try await self.register("fresh\(UInt16.random(in: 0...9999))")
        try await fresh.send("PING alive")
        guard try await fresh.expect(.pong).parameters.last == "alive" else { return "no answer to a fresh client" }
        await fresh.close()
        let open = await OpenSockets.settle(localPort: self.port, to: 1)
        return open == 1 ? nil : "the server still holds \(open - 1) connection(s) besides its listener"
    }

    public func stop() async {
        await self.server.shutdown()
    }
}

extension TestServer {
    /// Runs `body` against a server keeping history (and accounts) in a fresh SQLite store; stops both afterwards,
    /// also when `body` throws.
    public static func withHistory(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer, TestStore) async throws -> Void
    ) async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store, configure)
        do {
            try await body(server, store)
        } catch {
            await server.stop()
            try await store.close()
            throw error
        }
        await server.stop()
        try await store.close()
    }
}
