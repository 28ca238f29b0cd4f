/// Lets one operation at a time use the store's single SQLite connection.
///
/// Without it, two tasks interleave their statements on the connection: a `BEGIN` inside another's transaction fails,
/// and its `ROLLBACK` then undoes the other's inserts (seen in tests as a committed-looking message that was not
/// stored); a read could also see another's uncommitted rows. Re-entrant within one task, so a method may call
/// another.
final class SerialGate: Sendable {
    private let state = GateState()

    @TaskLocal static var held = false

    func run<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        if Self.held { return try await body() }
        await self.state.acquire()
        do {
            let result = try await Self.$held.withValue(true) { try await body() }
            await self.state.release()
            return result
        } catch {
            await self.state.release()
            throw error
        }
    }
}

private actor GateState {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard self.busy else {
            self.busy = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func release() {
        if self.waiters.isEmpty {
            self.busy = false
        } else {
            // The lock passes straight to the next waiter.
            self.waiters.removeFirst().resume()
        }
    }
}
