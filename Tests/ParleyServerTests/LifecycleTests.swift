import Logging
import ParleyClient
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@Suite(.timeLimit(.minutes(1))) struct LifecycleTests {
    @Test func gracefulShutdownOfTheServiceTellsClientsAndReturns() async throws {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let server = ParleyServer(configuration: configuration, logger: Logger(label: "parley.test"))
        let port = try await server.start()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let client = TestClient(try await IRCClient.connect(host: "127.0.0.1", port: port))
                try await client.client.startRegistration(nick: "alice")
                try await client.expect(.rplWelcome)
                trigger.triggerGracefulShutdown()
                let rest = try await client.drainUntilClosed()
                #expect(rest.last?.parameters == ["Closing link (Server shutting down)"])
                // run() returns once the listener is closed and the loops drained.
                try await group.waitForAll()
                #expect(server.connectionCount == 0)
            }
        }
    }
}
