import NIOConcurrencyHelpers
public import NIOCore

/// Group commit: messages from every event loop are queued here (one lock, no actor hop) and written by one task in
/// batches: whatever queued up while the previous transaction was committing goes into the next one. Each message's
/// promise completes after the transaction holding it has committed, so a server can acknowledge it then.
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

    private struct State {
        var queue: [(StoredMessage, EventLoopPromise<Void>?)] = []
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
        let (accepted, wasEmpty) = self.state.withLockedValue { state -> (Bool, Bool) in
            guard !state.finished else { return (false, false) }
            let wasEmpty = state.queue.isEmpty
            state.queue.append((message, promise))
            return (true, wasEmpty)
        }
        // The writer takes batches until the queue is empty before it waits again, so only the first message of a
        // batch needs to wake it (a wake-up per message cost a lock each).
        if accepted {
            if wasEmpty { self.wake.yield() }
        } else {
            promise?.fail(StoreError("the history writer has stopped; the message was not stored"))
        }
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

    private func takeBatch() -> [(StoredMessage, EventLoopPromise<Void>?)]? {
        self.state.withLockedValue { state in
            guard !state.queue.isEmpty else { return nil }
            let count = min(state.queue.count, self.options.batchSize)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return batch
        }
    }

    private func commit(_ batch: [(StoredMessage, EventLoopPromise<Void>?)]) async {
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

    /// Completes the batch's promises with one hop per event loop: completing each from here would cost a task
    /// (a lock and a wake-up) per message.
    private static func complete(
        _ batch: [(StoredMessage, EventLoopPromise<Void>?)],
        with result: Result<Void, any Error>
    ) {
        var byLoop: [(any EventLoop, [EventLoopPromise<Void>])] = []
        for case (_, let promise?) in batch {
            let loop = promise.futureResult.eventLoop
            if let index = byLoop.firstIndex(where: { $0.0 === loop }) {
                byLoop[index].1.append(promise)
            } else {
                byLoop.append((loop, [promise]))
            }
        }
        for (loop, promises) in byLoop {
            loop.execute {
                for promise in promises { promise.completeWith(result) }
            }
        }
    }
}
