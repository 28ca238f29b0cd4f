import NIOConcurrencyHelpers

/// Tasks waiting for a condition on state someone else changes, woken by ``signal()`` when it may hold: what start
/// and shutdown wait for (the relay listening, work in flight done, held output gone) without polling it.
final class ConditionWaiters: Sendable {
    private struct State {
        /// Counts signals: a waiter that saw one number before checking its condition does not sleep through a
        /// signal given after the check.
        var generation: UInt64 = 0
        var nextID: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters cancelled before they suspended.
        var cancelled: Set<UInt64> = []
    }

    private let state = NIOLockedValueBox(State())

    /// Wakes every waiter to check its condition again. Cheap when nobody waits.
    func signal() {
        let continuations = self.state.withLockedValue { state in
            state.generation &+= 1
            let continuations = Array(state.waiting.values)
            state.waiting.removeAll()
            return continuations
        }
        for continuation in continuations { continuation.resume() }
    }

    /// Waits until `condition` holds (checked now and after every ``signal()``), at most `timeout`; returns whether
    /// it holds.
    func wait(until condition: @escaping @Sendable () -> Bool, timeout: Duration) async -> Bool {
        if condition() { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    let seen = self.state.withLockedValue { $0.generation }
                    if condition() { return true }
                    await self.sleep(unlessSignalledSince: seen)
                }
                return condition()
            }
            group.addTask {
                // Cancelled: the other child answered.
                guard (try? await Task.sleep(for: timeout)) != nil else { return false }
                return condition()
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Suspends until the next signal after generation `seen` (at once if one came already) or cancellation.
    private func sleep(unlessSignalledSince seen: UInt64) async {
        let id = self.state.withLockedValue { state in
            state.nextID &+= 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = self.state.withLockedValue { state in
                    if state.generation != seen || state.cancelled.remove(id) != nil { return true }
                    state.waiting[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = self.state.withLockedValue { state in
                guard let continuation = state.waiting.removeValue(forKey: id) else {
                    // Not suspended yet: it sees this before it suspends.
                    state.cancelled.insert(id)
                    return CheckedContinuation<Void, Never>?.none
                }
                return continuation
            }
            continuation?.resume()
        }
        // A cancellation that came after a signal woke this waiter left its mark: nobody needs it.
        self.state.withLockedValue { _ = $0.cancelled.remove(id) }
    }
}
