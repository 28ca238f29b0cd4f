import Histogram
import NIOCore
import NIOPosix
import ParleyStore
import ParleyStorePostgres
import ParleyStoreSQLite

/// `store`: the history store on its own (SQLite, or PostgreSQL with a database URL): insert throughput through group commit, then CHATHISTORY-shaped query
/// latency on the filled database.
public enum StoreBench {
    public struct Options: Codable, Sendable {
        public var path = "/tmp/parley-bench-store.sqlite"
        /// A PostgreSQL URL to measure instead of the SQLite file at `path`.
        public var database: String?
        public var messages = 1_000_000
        public var targets = 100
        /// Tasks submitting at once (like event loops handing over messages).
        public var producers = 4
        /// Messages each producer may have waiting for their commit.
        public var window = 1000
        public var batchSize = 512
        public var queries = 2000
        public var limit = 50

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var scenario = "store"
        public var options: Options
        public var insertSeconds: Double
        public var insertsPerSecond: Double
        public var batches: Int
        public var largestBatch: Int
        public var messagesInDatabase: Int
        public var latestMicroseconds: Latency
        public var beforeMicroseconds: Latency
    }

    public static func run(_ options: Options, log: @Sendable (String) -> Void) async throws -> Result {
        let store: any ParleyStorage
        let count: () async throws -> Int
        let close: () async throws -> Void
        if let url = options.database {
            let postgres = try await PostgresStore.open(url: url)
            (store, count, close) = (postgres, postgres.countMessages, postgres.close)
        } else {
            let sqlite = try await SQLiteStore.open(path: options.path)
            (store, count, close) = (sqlite, sqlite.countMessages, sqlite.close)
        }
        let writer = HistoryWriter(store: store, options: .init(batchSize: options.batchSize))
        let runner = Task { await writer.run() }
        let existing = try await store.latest("#t0", after: nil, limit: 1).first?.sequence ?? 0
        log(
            "inserting \(options.messages) messages into \(options.targets) targets (\(existing) rows already in #t0's tail)"
        )
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let start = monotonicNanos()
        let base = Int64(existing) + 1
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<options.producers {
                group.addTask {
                    var outstanding: [EventLoopFuture<Void>] = []
                    var index = producer
                    while index < options.messages {
                        let number = base + Int64(index)
                        let target = "#t\(index % options.targets)"
                        let promise = loop.makePromise(of: Void.self)
                        writer.submit(
                            StoredMessage(
                                msgid: "b\(number)-\(producer)",
                                target: target,
                                time: 1_700_000_000_000 + number,
                                sender: "bench\(producer)!b@127.0.0.1",
                                command: "PRIVMSG",
                                recipient: target,
                                text: "message \(number) with some ordinary words in it"
                            ),
                            promise: promise
                        )
                        outstanding.append(promise.futureResult)
                        if outstanding.count >= options.window {
                            try await outstanding.removeFirst().get()
                        }
                        index += options.producers
                    }
                    for future in outstanding { try await future.get() }
                }
            }
            try await group.waitForAll()
        }
        let insertSeconds = Double(monotonicNanos() - start) / 1e9
        let statistics = writer.statistics
        writer.finish()
        await runner.value

        log("querying: \(options.queries) × LATEST and BEFORE, limit \(options.limit)")
        var latest = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var before = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<options.queries {
            let target = "#t\(Int.random(in: 0..<options.targets, using: &generator))"
            var begin = monotonicNanos()
            _ = try await store.latest(target, after: nil, limit: options.limit)
            _ = latest.record((monotonicNanos() - begin) / 1000)
            let middle = 1_700_000_000_000 + base + Int64.random(in: 0..<Int64(max(options.messages, 1)))
            begin = monotonicNanos()
            _ = try await store.before(target, .timestamp(middle), limit: options.limit)
            _ = before.record((monotonicNanos() - begin) / 1000)
        }
        let rows = try await count()
        try await close()
        return Result(
            options: options,
            insertSeconds: insertSeconds,
            insertsPerSecond: Double(options.messages) / insertSeconds,
            batches: statistics.batches,
            largestBatch: statistics.largestBatch,
            messagesInDatabase: rows,
            latestMicroseconds: Latency(latest),
            beforeMicroseconds: Latency(before)
        )
    }
}
