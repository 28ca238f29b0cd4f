import NIOConcurrencyHelpers
public import NIOCore

/// Told, on an event loop, which of the messages it submitted there are committed (or failed), a whole batch at once.
///
/// What a server uses instead of a promise per message: a promise, its future and its callback cost allocations and
/// a lock each for every stored message; a listener gets one call per batch and event loop.
public protocol HistoryCommitListener: AnyObject, Sendable {
    /// `tokens` are those given to ``HistoryWriter/submit(_:token:on:listener:)``, in submission order; runs on
    /// the event loop they were submitted for.
    func committed(_ tokens: [UInt64], on eventLoop: any EventLoop, result: Result<Void, any Error>)
}

/// Group commit: messages from every event loop are queued here (one lock, no actor hop) and written by one task in
/// batches: whatever queued up while the previous transaction was committing goes into the next one. Each message's
/// promise (or listener) is told after the transaction holding it has committed, so a server can acknowledge it then.
public final class HistoryWriter: Sendable {
    public struct Options: Sendable {
        /// Most messages in one transaction.
        public var batchSize = 512
        /// How long a batch that is not full may wait for more (zero: commit what is there at once).
        public var maximumWait: Duration = .zero
        /// Told the size and duration of each committed batch (for metrics); called on the writer's task.
        public var observe: (@Sendable (_ messages: Int, _ duration: Duration) -> Void)?

        public init(
            batchSize: Int = 512,
            maximumWait: Duration = .zero,
            observe: (@Sendable (_ messages: Int, _ duration: Duration) -> Void)? = nil
        ) {
            self.batchSize = batchSize
            self.maximumWait = maximumWait
            self.observe = observe
        }
    }

    /// Counters, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        public var messages = 0
        public var batches = 0
        public var largestBatch = 0
        public var failures = 0
    }

    /// Who is told when a queued message is committed.
    enum Waiter {
        case none
        case promise(EventLoopPromise<Void>)
        case listener(any HistoryCommitListener, token: UInt64, on: any EventLoop)
    }

    private struct State {
        var queue: [(StoredMessage, Waiter)] = []
        var finished = false
        var statistics = Statistics()
    }

    private let store: any HistoryAppender
    private let options: Options
    private let state = NIOLockedValueBox(State())
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(store: any HistoryAppender, options: Options = Options()) {
        self.store = store
        self.options = options
        (self.wakeUps, self.wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `message`; `promise` (if any) succeeds once it is committed, or fails with the store's error.
    public func submit(_ message: StoredMessage, promise: EventLoopPromise<Void>?) {
        guard !self.enqueue(message, promise.map { .promise($0) } ?? .none) else { return }
        promise?.fail(Self.stopped)
    }

    /// Queues `message`; `listener` is told `token` on `eventLoop` once it is committed, or that it failed (at once,
    /// on `eventLoop`, when the writer has stopped).
    public func submit(
        _ message: StoredMessage,
        token: UInt64,
        on eventLoop: any EventLoop,
        listener: any HistoryCommitListener
    ) {
        guard !self.enqueue(message, .listener(listener, token: token, on: eventLoop)) else { return }
        eventLoop.execute { listener.committed([token], on: eventLoop, result: .failure(Self.stopped)) }
    }

    private static let stopped = StoreError("the history writer has stopped; the message was not stored")

    /// Returns whether the message was queued (not after ``finish()``).
    private func enqueue(_ message: StoredMessage, _ waiter: Waiter) -> Bool {
        let (accepted, wasEmpty) = self.state.withLockedValue { state -> (Bool, Bool) in
            guard !state.finished else { return (false, false) }
            let wasEmpty = state.queue.isEmpty
            state.queue.append((message, waiter))
            return (true, wasEmpty)
        }
        // The writer takes batches until the queue is empty before it waits again, so only the first message of a
        // batch needs to wake it (a wake-up per message cost a lock each).
        if accepted && wasEmpty { self.wake.yield() }
        return accepted
    }

    public var statistics: Statistics { self.state.withLockedValue { $0.statistics } }

    /// Writes batches until ``finish()`` is called and the queue is empty.
    public func run() async {
        for await _ in self.wakeUps {
            if self.options.maximumWait > .zero {
                let queued = self.state.withLockedValue { $0.queue.count }
                if queued < self.options.batchSize { try? await Task.sleep(for: self.options.maximumWait) }
            }
            while let batch = self.takeBatch() {
                await self.commit(batch)
            }
            if self.state.withLockedValue({ $0.finished && $0.queue.isEmpty }) { break }
        }
    }

    /// Stops taking messages; ``run()`` returns once what was queued is written.
    public func finish() {
        self.state.withLockedValue { $0.finished = true }
        self.wake.yield()
        self.wake.finish()
    }

    private func takeBatch() -> [(StoredMessage, Waiter)]? {
        self.state.withLockedValue { state in
            guard !state.queue.isEmpty else { return nil }
            let count = min(state.queue.count, self.options.batchSize)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return batch
        }
    }

    private func commit(_ batch: [(StoredMessage, Waiter)]) async {
        do {
            let started = ContinuousClock.now
            try await self.store.append(batch.map(\.0))
            self.options.observe?(batch.count, ContinuousClock.now - started)
            self.state.withLockedValue { state in
                state.statistics.messages += batch.count
                state.statistics.batches += 1
                state.statistics.largestBatch = max(state.statistics.largestBatch, batch.count)
            }
            Self.complete(batch, with: .success(()))
        } catch {
            self.state.withLockedValue { $0.statistics.failures += batch.count }
            Self.complete(batch, with: .failure(error))
        }
    }

    /// Tells the batch's waiters with one hop per event loop: completing each promise from here would cost a task (a
    /// lock and a wake-up) per message. A listener gets its tokens for that loop in one call.
    private static func complete(_ batch: [(StoredMessage, Waiter)], with result: Result<Void, any Error>) {
        struct Hop {
            let loop: any EventLoop
            var promises: [EventLoopPromise<Void>] = []
            var listener: (any HistoryCommitListener)?
            var tokens: [UInt64] = []
        }
        var hops: [Hop] = []
        func hop(for loop: any EventLoop) -> Int {
            if let index = hops.firstIndex(where: { $0.loop === loop }) { return index }
            hops.append(Hop(loop: loop))
            return hops.count - 1
        }
        for (_, waiter) in batch {
            switch waiter {
            case .none:
                continue
            case .promise(let promise):
                hops[hop(for: promise.futureResult.eventLoop)].promises.append(promise)
            case .listener(let listener, let token, let loop):
                // A server has one listener; a second one on the same loop gets a hop of its own.
                var index = hop(for: loop)
                if let other = hops[index].listener, other !== listener {
                    hops.append(Hop(loop: loop))
                    index = hops.count - 1
                }
                hops[index].listener = listener
                hops[index].tokens.append(token)
            }
        }
        for hop in hops {
            hop.loop.execute {
                for promise in hop.promises { promise.completeWith(result) }
                if let listener = hop.listener { listener.committed(hop.tokens, on: hop.loop, result: result) }
            }
        }
    }
}
