import Logging
import ParleyStore
import ServiceLifecycle

// The server's background work, each piece a `Service` in the one `ServiceGroup` that `ParleyServer` runs. The group
// stops them in the reverse of the order it starts them (`ParleyServer.services`), so each one's graceful shutdown
// finds what it relies on still running.

/// The history writer: writes until the shutdown; then lets held output go out once committed and stops after what
/// is queued is written, all within the shutdown's grace time. A store that does not answer in that time is left
/// behind, and what waited for it is dropped: it was never acknowledged, so nothing acknowledged is lost.
struct HistoryService: Service, CustomStringConvertible {
    let description = "history writer"
    let writer: HistoryWriter
    let host: CoreHost
    let clock: ShutdownClock
    /// Waits until every loop wrote what was queued for it.
    let drainLoops: @Sendable () async -> Void
    /// Called when the store was left behind.
    let abandoned: @Sendable () -> Void
    let logger: Logger

    func run() async {
        // A task of its own, not a child: a store that never answers must not keep the server from stopping.
        let writing = Task { await self.writer.run() }
        try? await gracefulShutdown()
        await self.host.waitUntilReleased(timeout: self.clock.remaining)
        await self.drainLoops()
        self.writer.finish()
        do {
            try await withDeadline(self.clock.remaining) { await writing.value }
        } catch {
            self.logger.error(
                "the store did not finish within the shutdown grace time; unacknowledged messages were not stored",
                metadata: ["parley.held": "\(self.host.heldCount)"]
            )
            self.abandoned()
            self.host.abandonHeld()
            await self.drainLoops()
        }
    }
}

/// Applies the retention settings at start and every hour.
struct RetentionService: Service, CustomStringConvertible {
    let description = "history retention"
    let prune: @Sendable () async -> Void

    func run() async {
        // A prune under way at shutdown ends on its own (it deletes in small batches); nobody waits for it.
        let pruning = Task {
            while !Task.isCancelled {
                await self.prune()
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        try? await gracefulShutdown()
        pruning.cancel()
    }
}

/// Renames, every second, the sessions whose grace period on a registered nick ran out.
struct ReservationService: Service, CustomStringConvertible {
    let description = "nick reservations"
    let host: CoreHost

    func run() async {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(1))
                self.host.expireReservations()
            }
        }
    }
}

/// This node's place in the cluster: left at shutdown, once the nick queue has given back what it could.
struct ClusterMembership: Service, CustomStringConvertible {
    let description = "cluster membership"
    let bus: any ClusterBus
    let logger: Logger

    func run() async {
        try? await gracefulShutdown()
        do {
            try await self.bus.leave()
        } catch {
            self.logger.warning("cluster: cannot leave (the lease will run out): \(error)")
        }
    }
}

/// The cluster's nick claims and releases, carried out until the shutdown, then what is queued.
struct ClusterNickService: Service, CustomStringConvertible {
    let description = "cluster nick claims"
    let queue: ClusterNickQueue
    let host: CoreHost

    func run() async {
        let host = self.host
        await withGracefulShutdownHandler {
            await self.queue.run { id, nick, answer in host.nickClaimed(id, nick: nick, answer) }
        } onGracefulShutdown: {
            self.queue.finish()
        }
    }
}

extension ClusterSignals: Service, CustomStringConvertible {
    var description: String { "cluster signals" }

    func run() async {
        await withGracefulShutdownHandler {
            await self.pass()
        } onGracefulShutdown: {
            self.finish()
        }
    }
}

extension ClusterRelay: Service, CustomStringConvertible {
    var description: String { "cluster relay" }

    func run() async {
        await cancelWhenGracefulShutdown { await self.relay() }
    }
}
