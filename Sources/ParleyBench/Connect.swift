import Histogram
import NIOCore

/// `connect`: registrations per second (connect, register, close), with a bounded number in flight.
public enum Connect {
    public struct Options: Codable, Sendable {
        public var registrations = 2000
        public var concurrency = 50
        public var threads = 1

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var scenario = "connect"
        public var options: Options
        public var completed: Int
        public var failed: Int
        public var seconds: Double
        public var registrationsPerSecond: Double
        public var latencyMicroseconds: Latency
    }

    public static func run(
        _ target: BenchTarget,
        _ options: Options,
        log: @Sendable (String) -> Void
    ) async throws
        -> Result
    {
        let clients = try await BenchClients(target: target, threads: options.threads)
        let tag = String(UInt32.random(in: 0..<(36 * 36)), radix: 36)
        log("\(options.registrations) registrations, \(options.concurrency) at a time")
        let start = monotonicNanos()
        let outcomes = try await withThrowingTaskGroup(of: [UInt64?].self) { group in
            let workers = max(1, min(options.concurrency, options.registrations))
            for worker in 0..<workers {
                group.addTask {
                    var times: [UInt64?] = []
                    var index = worker
                    while index < options.registrations {
                        let begin = monotonicNanos()
                        do {
                            let client = try await clients.connect(index: index, nick: "c\(tag)\(index)", senders: 0)
                            do {
                                try await client.registered.get()
                                times.append(monotonicNanos() - begin)
                            } catch {
                                times.append(nil)
                            }
                            await clients.close([client])
                        } catch {
                            times.append(nil)
                        }
                        index += workers
                    }
                    return times
                }
            }
            var all: [UInt64?] = []
            for try await times in group { all += times }
            return all
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        await clients.shutdown()
        var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        for time in outcomes.compactMap({ $0 }) { _ = histogram.record(time / 1000) }
        let completed = outcomes.compactMap { $0 }.count
        return Result(
            options: options,
            completed: completed,
            failed: outcomes.count - completed,
            seconds: seconds,
            registrationsPerSecond: Double(completed) / seconds,
            latencyMicroseconds: Latency(histogram)
        )
    }
}
