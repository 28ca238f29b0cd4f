import NIOConcurrencyHelpers
public import ParleyClient
public import ParleyIRC

public struct TimeoutError: Error, CustomStringConvertible {
    public var waitingFor: String
    public init(waitingFor: String) { self.waitingFor = waitingFor }
    public var description: String { "timed out waiting for \(self.waitingFor)" }
}

/// An ``IRCClient`` whose messages are read with a timeout, so a broken server fails a test instead of hanging it.
public final class TestClient: Sendable {
    private struct State {
        var buffer: [IRCMessage] = []
        var finished = false
        var waiter: CheckedContinuation<IRCMessage?, Never>?
    }

    public let client: IRCClient
    private let state = NIOLockedValueBox(State())

    public init(_ client: IRCClient) {
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
    public func next(timeout: Duration = .seconds(10)) async throws -> IRCMessage? {
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
    public func expect(_ commands: IRCCommand..., timeout: Duration = .seconds(10)) async throws -> IRCMessage {
        try await self.expect(commands.map(\.rawValue), timeout: timeout) { commands.contains($0.command) }
    }

    /// Reads until `matches`; a timeout names what was skipped on the way, to show what came instead.
    private func expect(
        _ wanted: [String],
        timeout: Duration,
        _ matches: (IRCMessage) -> Bool
    ) async throws -> IRCMessage {
        var skipped: [String] = []
        while true {
            let message: IRCMessage?
            do {
                message = try await self.next(timeout: timeout)
            } catch {
                throw TimeoutError(waitingFor: "\(wanted); skipped: \(skipped.suffix(8))")
            }
            guard let message else { throw TimeoutError(waitingFor: "\(wanted) (connection closed)") }
            if matches(message) { return message }
            skipped.append(message.line)
        }
    }

    @discardableResult
    public func expect(_ numerics: IRCNumeric..., timeout: Duration = .seconds(10)) async throws -> IRCMessage {
        try await self.expect(numerics.map { IRCCommand($0).rawValue }, timeout: timeout) { message in
            numerics.contains { IRCCommand($0) == message.command }
        }
    }

    /// Reads until the connection closes; returns everything read.
    public func drainUntilClosed(timeout: Duration = .seconds(10)) async throws -> [IRCMessage] {
        var all: [IRCMessage] = []
        while let message = try await self.next(timeout: timeout) { all.append(message) }
        return all
    }

    public func send(_ line: String) async throws {
        try await self.client.send(raw: line)
    }

    public func close() async {
        await self.client.close()
    }
}
