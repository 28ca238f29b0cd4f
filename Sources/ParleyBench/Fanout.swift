import Histogram
import NIOCore

/// `fanout`: clients join channels, some of them send, everyone receives; deliveries per second, latency, loss.
public enum Fanout {
    public struct Options: Codable, Sendable {
        public var clients = 100
        public var channels = 1
        public var senders = 10
        /// Closed loop: each sender keeps at most this many messages not yet seen by the observer.
        public var window: Int? = 10
        /// Fixed rate: messages per second over all senders (replaces `window`).
        public var rate: Double?
        public var duration = 10.0
        public var warmup = 2.0
        /// Bytes of padding in each message (the whole line is about 40 bytes more).
        public var size = 64
        public var connectRate = 500.0
        public var threads = 1
        /// The server's process ids (one per node of a cluster), to read the CPU time they spent while measured.
        public var serverPIDs: [Int32] = []

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var scenario = "fanout"
        public var options: Options
        public var messagesSent: Int
        /// Every delivery counted from the first message to the end of the drain (warm-up included).
        public var totalDeliveries: Int
        public var messagesPerSecond: Double
        public var deliveriesPerSecond: Double
        public var latencyMicroseconds: Latency
        public var lost: Int
        public var duplicates: Int
        public var disconnects: Int
        public var setupSeconds: Double
        /// Share of one core the server used while measured (1.0 = one core busy), if its pid was given.
        public var serverCPU: Double?
        /// Deliveries per second of server CPU time: what the server does with the CPU it gets, which is the fair
        /// comparison when the load generator shares the machine.
        public var deliveriesPerServerCPUSecond: Double?
    }

    public static func run(
        _ target: BenchTarget,
        _ options: Options,
        log: @Sendable (String) -> Void
    ) async throws
        -> Result
    {
        guard options.clients > options.senders, options.senders > 0, options.channels > 0 else {
            throw BenchError("fanout needs more clients than senders (one client only observes), and ≥ 1 sender")
        }
        let clients = try await BenchClients(target: target, threads: options.threads)
        let setupStart = monotonicNanos()
        let tag = String(UInt32.random(in: 0..<(36 * 36)), radix: 36)
        var connections: [BenchClients.Client] = []
        do {
            log("connecting \(options.clients) clients at ≤ \(Int(options.connectRate))/s")
            connections = try await clients.connectAll(
                count: options.clients,
                nickPrefix: "b\(tag)",
                senders: options.senders,
                rate: options.connectRate
            )
            let channels = (0..<options.channels).map { "#bench\($0)" }
            log("joining \(channels.count) channel(s)")
            for batch in stride(from: 0, to: connections.count, by: 50) {
                let slice = Array(connections[batch..<min(batch + 50, connections.count)])
                var joins: [EventLoopFuture<Void>] = []
                for connection in slice {
                    let promise = connection.channel.eventLoop.makePromise(of: Void.self)
                    joins.append(promise.futureResult)
                    try await connection.channel.eventLoop.submit {
                        connection.handler.value.join(channels, promise: promise)
                    }.get()
                }
                for join in joins { try await join.get() }
            }
            let setupSeconds = Double(monotonicNanos() - setupStart) / 1e9

            let senders = Array(connections.prefix(options.senders))
            let senderHandles = senders.map(\.handler)
            let observer = connections[connections.count - 1]
            let padding = String(repeating: "x", count: max(options.size, 0))
            for (index, sender) in senders.enumerated() {
                try await sender.channel.eventLoop.submit {
                    sender.handler.value.sender = BenchHandler.SenderRole(
                        index: index,
                        channels: channels,
                        window: options.rate == nil ? max(options.window ?? 1, 1) : nil,
                        rate: options.rate.map { $0 / Double(options.senders) },
                        padding: padding
                    )
                }.get()
            }
            if options.rate == nil {
                try await observer.channel.eventLoop.submit {
                    observer.handler.value.onPayload = { sender, _ in
                        guard sender < senderHandles.count else { return }
                        let handle = senderHandles[sender]
                        if handle.eventLoop.inEventLoop {
                            handle.value.credit()
                        } else {
                            handle.eventLoop.execute { handle.value.credit() }
                        }
                    }
                }.get()
            }

            log("sending: \(options.warmup) s warm-up, then \(options.duration) s measured")
            try await clients.onEach(senders) { $0.startSending() }
            try await Task.sleep(for: .milliseconds(Int(options.warmup * 1000)))
            try await clients.startRecording()
            let sentBefore = try await sentCount(senders)
            let cpuBefore = Self.cpuSeconds(options.serverPIDs)
            let start = monotonicNanos()
            try await Task.sleep(for: .milliseconds(Int(options.duration * 1000)))
            try await clients.stopRecording()
            let elapsed = Double(monotonicNanos() - start) / 1e9
            let cpuAfter = Self.cpuSeconds(options.serverPIDs)
            let sentDuring = try await sentCount(senders) - sentBefore
            try await clients.onEach(senders) { $0.stopSending() }
            let totalSent = try await sentCount(senders)

            // Let what is in flight arrive, then count what never did.
            let expected = totalSent * (options.clients - 1)
            var snapshot = try await clients.snapshot()
            var stableSince = monotonicNanos()
            var last = snapshot.totalDeliveries
            let drainStart = monotonicNanos()
            while snapshot.totalDeliveries - snapshot.duplicates < expected,
                monotonicNanos() - stableSince < 1_000_000_000, monotonicNanos() - drainStart < 10_000_000_000
            {
                try await Task.sleep(for: .milliseconds(50))
                snapshot = try await clients.snapshot()
                if snapshot.totalDeliveries != last {
                    last = snapshot.totalDeliveries
                    stableSince = monotonicNanos()
                }
            }
            var cpu: Double?
            if let cpuBefore, let cpuAfter { cpu = cpuAfter - cpuBefore }
            let result = Result(
                options: options,
                messagesSent: sentDuring,
                totalDeliveries: snapshot.totalDeliveries,
                messagesPerSecond: Double(sentDuring) / elapsed,
                deliveriesPerSecond: Double(snapshot.recordedDeliveries) / elapsed,
                latencyMicroseconds: Latency(snapshot.latency),
                lost: max(expected - (snapshot.totalDeliveries - snapshot.duplicates), 0),
                duplicates: snapshot.duplicates,
                disconnects: snapshot.disconnects,
                setupSeconds: setupSeconds,
                serverCPU: cpu.map { $0 / elapsed },
                deliveriesPerServerCPUSecond: cpu.flatMap { $0 > 0 ? Double(snapshot.recordedDeliveries) / $0 : nil }
            )
            await clients.close(connections)
            await clients.shutdown()
            return result
        } catch {
            await clients.close(connections)
            await clients.shutdown()
            throw error
        }
    }

    /// CPU seconds the processes used so far, together; `nil` without pids or when one cannot be read.
    private static func cpuSeconds(_ pids: [Int32]) -> Double? {
        guard !pids.isEmpty else { return nil }
        var total = 0.0
        for pid in pids {
            guard let seconds = BenchProcess.cpuSeconds(pid: pid) else { return nil }
            total += seconds
        }
        return total
    }

    private static func sentCount(_ senders: [BenchClients.Client]) async throws -> Int {
        var total = 0
        for sender in senders {
            total += try await sender.channel.eventLoop.submit { sender.handler.value.sent }.get()
        }
        return total
    }
}

/// Sleeps as needed so that `done` operations since `since` keep to `rate` per second.
func pace(_ done: Int, rate: Double, since: UInt64) async throws {
    guard rate > 0 else { return }
    let due = UInt64(Double(done) / rate * 1e9)
    let elapsed = monotonicNanos() - since
    if due > elapsed + 2_000_000 { try await Task.sleep(for: .nanoseconds(Int(due - elapsed))) }
}

/// Latency percentiles from a histogram.
public struct Latency: Codable, Sendable {
    public var count: UInt64
    public var p50: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64

    init(_ histogram: Histogram<UInt64>) {
        self.count = histogram.totalCount
        self.p50 = histogram.valueAtPercentile(50)
        self.p99 = histogram.valueAtPercentile(99)
        self.p999 = histogram.valueAtPercentile(99.9)
        self.max = histogram.max
    }
}
