import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ParleyClient
import ParleyCore
import ParleyIRC
import ParleyServer
import Testing

/// A real server on 127.0.0.1 and a free port, with flood control off unless a test turns it on.
struct TestServer {
    let server: ParleyServer
    let port: Int

    static func start(
        motd: [String]? = nil,
        _ configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws
        -> TestServer
    {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.serverName = "irc.test"
        configuration.floodControl = false
        configure(&configuration)
        var logger = Logger(label: "parley.test")
        logger.logLevel = .warning
        let server = ParleyServer(configuration: configuration, motd: motd, logger: logger)
        let port = try await server.start()
        return TestServer(server: server, port: port)
    }

    func connect(answerPings: Bool = true) async throws -> TestClient {
        TestClient(try await IRCClient.connect(host: "127.0.0.1", port: self.port, answerPings: answerPings))
    }

    /// Connects and registers `nick`, then waits for the end of the welcome burst.
    func register(_ nick: String, caps: [String] = []) async throws -> TestClient {
        let client = try await self.connect()
        try await client.client.startRegistration(nick: nick, capabilities: caps)
        try await client.expect(.errNoMotd, .rplEndOfMotd)
        return client
    }

    /// Each client joins `channel` in turn and reads up to its end of NAMES.
    func join(_ channel: String, _ clients: TestClient...) async throws {
        for client in clients {
            try await client.send("JOIN \(channel)")
            try await client.expect(.rplEndOfNames)
        }
    }

    func stop() async {
        await self.server.shutdown()
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    var waitingFor: String
    var description: String { "timed out waiting for \(self.waitingFor)" }
}

/// An ``IRCClient`` whose messages are read with a timeout, so a broken server fails a test instead of hanging it.
final class TestClient: Sendable {
    private struct State {
        var buffer: [IRCMessage] = []
        var finished = false
        var waiter: CheckedContinuation<IRCMessage?, Never>?
    }

    let client: IRCClient
    private let state = NIOLockedValueBox(State())

    init(_ client: IRCClient) {
        self.client = client
        Task { [self] in
            for await message in client.messages { self.push(message) }
            self.finish()
        }
    }

    private func push(_ message: IRCMessage) {
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<IRCMessage?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(message)
            return nil
        }
        waiter?.resume(returning: message)
    }

    private func finish() {
        let waiter = self.state.withLockedValue { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    private func wait() async -> IRCMessage? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: IRCMessage?? = self.state.withLockedValue { state in
                    if !state.buffer.isEmpty { return .some(state.buffer.removeFirst()) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = self.state.withLockedValue { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// The next message, or `nil` when the connection closed. Throws after `timeout`.
    func next(timeout: Duration = .seconds(10)) async throws -> IRCMessage? {
        enum Outcome: Sendable {
            case message(IRCMessage?)
            case timedOut
        }
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { .message(await self.wait()) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            let first = try await group.next() ?? .timedOut
            group.cancelAll()
            while let other = try? await group.next() {
                // A message that raced with the timeout goes back to the front.
                if case .message(let late?) = other { self.state.withLockedValue { $0.buffer.insert(late, at: 0) } }
            }
            switch first {
            case .message(let message): return message
            case .timedOut: throw TimeoutError(waitingFor: "the next message")
            }
        }
    }

    /// Reads until a message with one of `commands`; returns it.
    @discardableResult
    func expect(_ commands: IRCCommand..., timeout: Duration = .seconds(10)) async throws -> IRCMessage {
        while true {
            guard let message = try await self.next(timeout: timeout) else {
                throw TimeoutError(waitingFor: "\(commands) (connection closed)")
            }
            if commands.contains(message.command) { return message }
        }
    }

    @discardableResult
    func expect(_ numerics: IRCNumeric..., timeout: Duration = .seconds(10)) async throws -> IRCMessage {
        while true {
            guard let message = try await self.next(timeout: timeout) else {
                throw TimeoutError(waitingFor: "\(numerics) (connection closed)")
            }
            if numerics.contains(where: { IRCCommand($0) == message.command }) { return message }
        }
    }

    /// Reads until the connection closes; returns everything read.
    func drainUntilClosed(timeout: Duration = .seconds(10)) async throws -> [IRCMessage] {
        var all: [IRCMessage] = []
        while let message = try await self.next(timeout: timeout) { all.append(message) }
        return all
    }

    func send(_ line: String) async throws {
        try await self.client.send(raw: line)
    }

    func close() async {
        await self.client.close()
    }
}
