import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ParleyStore
import Testing

@Suite struct HistoryWriterTests {
    /// An appender in memory that records each batch, and can be told to fail.
    final class RecordingStore: HistoryAppender {
        let batches = NIOLockedValueBox<[[StoredMessage]]>([])
        let failing = NIOLockedValueBox(false)

        func append(_ messages: [StoredMessage]) async throws {
            if self.failing.withLockedValue({ $0 }) { throw StoreError("disk full") }
            // A commit takes a moment, so submissions pile up behind it (as with a real fsync).
            try await Task.sleep(for: .milliseconds(2))
            self.batches.withLockedValue { $0.append(messages) }
        }
    }

    private func message(_ index: Int) -> StoredMessage {
        StoredMessage(
            msgid: "m\(index)",
            target: "#t",
            time: Int64(index),
            sender: "a!a@h",
            command: "PRIVMSG",
            recipient: "#t",
            text: "\(index)"
        )
    }

    @Test func everyPromiseCompletesAfterItsBatchCommittedInOrder() async throws {
        let store = RecordingStore()
        let writer = HistoryWriter(store: store, options: .init(batchSize: 100))
        let runner = Task { await writer.run() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var futures: [EventLoopFuture<Void>] = []
        for index in 0..<1000 {
            let promise = loop.makePromise(of: Void.self)
            futures.append(promise.futureResult)
            writer.submit(self.message(index), promise: promise)
        }
        for future in futures { try await future.get() }
        let batches = store.batches.withLockedValue { $0 }
        #expect(batches.flatMap { $0 }.map(\.msgid) == (0..<1000).map { "m\($0)" })
        #expect(batches.count < 1000)  // grouped
        #expect(batches.allSatisfy { $0.count <= 100 })
        let statistics = writer.statistics
        #expect(statistics.messages == 1000 && statistics.batches == batches.count && statistics.failures == 0)
        writer.finish()
        await runner.value
    }

    @Test func aFailedCommitFailsItsPromisesAndLaterOnesStillCommit() async throws {
        let store = RecordingStore()
        let writer = HistoryWriter(store: store)
        let runner = Task { await writer.run() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        store.failing.withLockedValue { $0 = true }
        let failed = loop.makePromise(of: Void.self)
        writer.submit(self.message(1), promise: failed)
        await #expect(throws: StoreError.self) { try await failed.futureResult.get() }
        store.failing.withLockedValue { $0 = false }
        let stored = loop.makePromise(of: Void.self)
        writer.submit(self.message(2), promise: stored)
        try await stored.futureResult.get()
        #expect(store.batches.withLockedValue { $0.flatMap { $0 }.map(\.msgid) } == ["m2"])
        #expect(writer.statistics.failures == 1)
        writer.finish()
        await runner.value
        let late = loop.makePromise(of: Void.self)
        writer.submit(self.message(3), promise: late)
        await #expect(throws: StoreError.self) { try await late.futureResult.get() }
    }

    /// Records each call a listener gets: its tokens, whether it ran on the loop they were submitted for, the result.
    final class RecordingListener: HistoryCommitListener {
        let calls = NIOLockedValueBox<[(tokens: [UInt64], onItsLoop: Bool, failed: Bool)]>([])

        func committed(_ tokens: [UInt64], on eventLoop: any EventLoop, result: Result<Void, any Error>) {
            let failed: Bool
            if case .failure = result { failed = true } else { failed = false }
            self.calls.withLockedValue { $0.append((tokens, eventLoop.inEventLoop, failed)) }
        }
    }

    @Test func aListenerIsToldItsTokensPerBatchAndLoopInOrder() async throws {
        let store = RecordingStore()
        let writer = HistoryWriter(store: store, options: .init(batchSize: 50))
        let listener = RecordingListener()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = [group.next(), group.next()]
        // Held until all 200 are queued, so batches are full and each holds tokens of both loops.
        for index in 0..<200 {
            writer.submit(self.message(index), token: UInt64(index), on: loops[index % 2], listener: listener)
        }
        let runner = Task { await writer.run() }
        while listener.calls.withLockedValue({ $0.flatMap(\.tokens).count }) < 200 {
            try await Task.sleep(for: .milliseconds(5))
        }
        let calls = listener.calls.withLockedValue { $0 }
        #expect(store.batches.withLockedValue { $0.count } == 4)
        #expect(calls.count == 8)  // one call per batch and loop, not one per message
        #expect(calls.allSatisfy { $0.onItsLoop && !$0.failed })
        for parity in 0..<2 {
            let tokens = calls.filter { $0.tokens.first.map { Int($0) % 2 == parity } ?? false }.flatMap(\.tokens)
            #expect(tokens == (0..<200).filter { $0 % 2 == parity }.map(UInt64.init))
        }
        store.failing.withLockedValue { $0 = true }
        writer.submit(self.message(900), token: 900, on: loops[0], listener: listener)
        while listener.calls.withLockedValue({ $0.count }) < 9 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(listener.calls.withLockedValue { $0.last.map { $0.tokens == [900] && $0.failed } } == true)
        writer.finish()
        await runner.value
        writer.submit(self.message(901), token: 901, on: loops[1], listener: listener)
        while listener.calls.withLockedValue({ $0.count }) < 10 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(listener.calls.withLockedValue { $0.last.map { $0.tokens == [901] && $0.failed } } == true)
        try await group.shutdownGracefully()
    }

    @Test func finishWritesWhatWasQueued() async throws {
        let store = RecordingStore()
        let writer = HistoryWriter(store: store, options: .init(batchSize: 7))
        for index in 0..<50 { writer.submit(self.message(index), promise: nil) }
        writer.finish()
        await writer.run()
        #expect(store.batches.withLockedValue { $0.flatMap { $0 }.count } == 50)
    }
}
