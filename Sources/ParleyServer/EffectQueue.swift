import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The owner of one family of effects (store reads and deletes, password work, channel registrations): an ordered
/// inbox whose jobs start in the order they were queued (the core's order: callers queue while carrying out a plan),
/// at most `width` at a time, each as a task of its own.
///
/// As a `Service` in the server's group it only stops: on graceful shutdown it takes no new job (a job queued
/// later is refused at once, so whoever waits for it is answered), lets what is queued start, and waits for it until
/// the shutdown's deadline. A job still running then (a store that never answers) is left behind, as the store is.
final class EffectQueue: Service, Sendable, CustomStringConvertible {
    /// One piece of work, and what to do instead when the queue has stopped taking work.
    struct Job: Sendable {
        let run: @Sendable () async -> Void
        let refuse: @Sendable () -> Void
    }

    private struct State {
        var waiting = CircularBuffer<Job>()
        var running = 0
        var stopped = false
    }

    let description: String
    private let width: Int
    private let clock: ShutdownClock
    private let state = NIOLockedValueBox(State())
    private let idle = ConditionWaiters()

    init(_ name: String, width: Int, clock: ShutdownClock) {
        precondition(width > 0)
        self.description = name
        self.width = width
        self.clock = clock
    }

    /// Queues `job`; it starts once the jobs queued before it have started and a place is free.
    func enqueue(_ job: Job) {
        let start = self.state.withLockedValue { state -> Bool? in
            if state.stopped { return nil }
            guard state.running < self.width else {
                state.waiting.append(job)
                return false
            }
            state.running += 1
            return true
        }
        switch start {
        case nil: job.refuse()
        case true?: self.work(from: job)
        case false?: break
        }
    }

    /// Queues `body`, which nobody waits for.
    func enqueue(_ body: @escaping @Sendable () async -> Void) {
        self.enqueue(Job(run: body, refuse: {}))
    }

    /// Jobs queued or running.
    var count: Int { self.state.withLockedValue { $0.running + $0.waiting.count } }

    /// Runs `first`, then the queue's next jobs while there are any: a place stays taken until the queue is empty.
    private func work(from first: Job) {
        Task {
            var job = first
            while true {
                await job.run()
                let next = self.state.withLockedValue { state -> Job? in
                    if let next = state.waiting.popFirst() { return next }
                    state.running -= 1
                    return nil
                }
                guard let next else { break }
                job = next
            }
            self.idle.signal()
        }
    }

    func run() async {
        try? await gracefulShutdown()
        self.state.withLockedValue { $0.stopped = true }
        let finished = await self.idle.wait(until: { self.count == 0 }, timeout: self.clock.remaining)
        guard !finished else { return }
        // What never started is refused now, so the sessions waiting for it are answered.
        let refused = self.state.withLockedValue { state in
            defer { state.waiting.removeAll() }
            return Array(state.waiting)
        }
        for job in refused { job.refuse() }
    }
}

/// When a shutdown must be over: `shutdown-grace` seconds from when it began, shared by every service that waits.
final class ShutdownClock: Sendable {
    let grace: Duration
    private let deadline = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

    init(grace: Duration) {
        self.grace = grace
    }

    /// The shutdown begins now, unless it began already.
    func begin() {
        self.deadline.withLockedValue { deadline in
            if deadline == nil { deadline = .now + self.grace }
        }
    }

    /// What is left of the grace time (all of it before the shutdown began).
    var remaining: Duration {
        let deadline = self.deadline.withLockedValue { $0 } ?? .now + self.grace
        return max(deadline - .now, .zero)
    }
}
