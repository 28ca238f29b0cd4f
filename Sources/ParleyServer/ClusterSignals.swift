import Logging
import ParleyStore

/// Passes a cluster node's signals (typing notices, which are not stored) to the other nodes, one at a time in the
/// order the core made them, so a "done" never overtakes its "active".
///
/// Best effort by design, as typing notices are everywhere: one that would wait behind ``capacity`` others, or that
/// the database does not take within ``deadline``, is dropped; it describes a moment that has passed, and no one was
/// told it was delivered.
final class ClusterSignals: Sendable {
    static let capacity = 256
    static let deadline = Duration.seconds(2)

    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    let bus: any ClusterBus
    let logger: Logger

    init(bus: any ClusterBus, logger: Logger) {
        (self.stream, self.continuation) = AsyncStream.makeStream(
            of: String.self,
            bufferingPolicy: .bufferingOldest(Self.capacity)
        )
        self.bus = bus
        self.logger = logger
    }

    /// Queues `line`; callers queue under the core's lock, so the queue's order is the core's.
    func enqueue(_ line: String) {
        guard line.utf8.count <= signalLimit else { return }
        self.continuation.yield(line)
    }

    /// Passes the queue on until ``finish()``.
    func pass() async {
        for await line in self.stream {
            do {
                try await withDeadline(Self.deadline) { try await self.bus.signal(line) }
            } catch {
                self.logger.debug("cluster: a typing notice was not passed on: \(error)")
            }
        }
    }

    /// Ends the queue once what is queued has been passed on.
    func finish() {
        self.continuation.finish()
    }
}
