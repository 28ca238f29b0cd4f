import Histogram
import ParleyStore
import ParleyStorePostgres

/// `notify`: what NOTIFY costs committing transactions. PostgreSQL queues a transaction's notifications under one
/// lock taken at commit, so committers that notify are serialized there while others are not. Several writers (each
/// a store with its own connections, like nodes) append to targets of their own, so only that lock is shared, with
/// and without notifications, for each number of writers.
public enum NotifyBench {
    public struct Options: Codable, Sendable {
        public var database = ""
        public var writers = [1, 2, 4, 8, 16]
        /// Messages per transaction.
        public var batch = 1
        public var seconds = 5.0

        public init() {}
    }

    public struct Row: Codable, Sendable {
        public var writers: Int
        public var notify: Bool
        public var commitsPerSecond: Double
        public var commitMicroseconds: Latency
    }

    public static func run(_ options: Options, log: @Sendable (String) -> Void) async throws -> [Row] {
        let most = options.writers.max() ?? 1
        var stores: [PostgresStore] = []
        for _ in 0..<most { stores.append(try await PostgresStore.open(url: options.database)) }
        var rows: [Row] = []
        // Message ids must be new in a database an earlier run filled.
        let run = UInt32.random(in: 0...UInt32.max)
        var round = 0
        for writers in options.writers {
            for notify in [false, true] {
                round += 1
                log("\(writers) writers, notify \(notify ? "on" : "off")")
                for store in stores { store.notifiesOtherNodes = notify }
                let deadline = monotonicNanos() + UInt64(options.seconds * 1e9)
                let start = monotonicNanos()
                let histograms = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
                    for writer in 0..<writers {
                        let store = stores[writer]
                        let current = round
                        group.addTask {
                            var histogram = Histogram<UInt64>(
                                highestTrackableValue: 60_000_000,
                                numberOfSignificantValueDigits: .three
                            )
                            var index = 0
                            while monotonicNanos() < deadline {
                                let target = "#w\(writer)"
                                let batch = (0..<options.batch).map { offset in
                                    StoredMessage(
                                        msgid: "n\(run)-\(current)-\(writer)-\(index)-\(offset)",
                                        target: target,
                                        time: 1_700_000_000_000,
                                        sender: "bench!b@127.0.0.1",
                                        command: "PRIVMSG",
                                        recipient: target,
                                        text: "message \(index)"
                                    )
                                }
                                let begin = monotonicNanos()
                                try await store.append(batch)
                                _ = histogram.record((monotonicNanos() - begin) / 1000)
                                index += 1
                            }
                            return histogram
                        }
                    }
                    var all: [Histogram<UInt64>] = []
                    for try await histogram in group { all.append(histogram) }
                    return all
                }
                let elapsed = Double(monotonicNanos() - start) / 1e9
                var merged = Histogram<UInt64>(
                    highestTrackableValue: 60_000_000,
                    numberOfSignificantValueDigits: .three
                )
                for histogram in histograms { merged.add(histogram) }
                rows.append(
                    Row(
                        writers: writers,
                        notify: notify,
                        commitsPerSecond: Double(merged.totalCount) / elapsed,
                        commitMicroseconds: Latency(merged)
                    )
                )
            }
        }
        for store in stores { try await store.close() }
        return rows
    }
}
