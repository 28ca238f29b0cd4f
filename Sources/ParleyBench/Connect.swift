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
        // Each of the tool's loops drives its share of the registrations and of the concurrency on its own.
        let loops = clients.loops.count
        var futures: [EventLoopFuture<[UInt64?]>] = []
        for (slot, loop) in clients.loops.enumerated() {
            let stats = clients.stats[slot]
            let share = options.concurrency / loops + (slot < options.concurrency % loops ? 1 : 0)
            futures.append(
                loop.flatSubmit {
                    RegistrationDriver(
                        loop: loop,
                        target: target,
                        stats: stats.value,
                        tag: tag,
                        first: slot,
                        stride: loops,
                        total: options.registrations
                    ).run(concurrency: share)
                }
            )
        }
        var outcomes: [UInt64?] = []
        for future in futures { outcomes += try await future.get() }
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
