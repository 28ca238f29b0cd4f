import NIOCore

/// `idle`: many registered connections that do nothing; the server's memory per connection.
public enum Idle {
    public struct Options: Codable, Sendable {
        public var connections = 10_000
        public var connectRate = 2000.0
        public var threads = 1
        /// The server's process id, to read its resident memory from /proc.
        public var serverPID: Int32?
        /// Seconds to wait after the last registration before reading memory.
        public var settle = 2.0
        /// Seconds the connections stay open after memory was read.
        public var hold = 0.0

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var scenario = "idle"
        public var options: Options
        public var registered: Int
        public var secondsToRegisterAll: Double
        public var serverRSSBefore: Int?
        public var serverRSSAfter: Int?
        public var bytesPerConnection: Double?
        public var disconnects: Int
    }

    public static func run(
        _ target: BenchTarget,
        _ options: Options,
        log: @Sendable (String) -> Void
    ) async throws
        -> Result
    {
        let clients = try await BenchClients(target: target, threads: options.threads)
        let before = options.serverPID.flatMap(BenchProcess.residentBytes)
        let tag = String(UInt32.random(in: 0..<(36 * 36)), radix: 36)
        var connections: [BenchClients.Client] = []
        do {
            log("opening \(options.connections) connections at ≤ \(Int(options.connectRate))/s")
            let start = monotonicNanos()
            connections = try await clients.connectAll(
                count: options.connections,
                nickPrefix: "i\(tag)",
                senders: 0,
                rate: options.connectRate
            )
            let seconds = Double(monotonicNanos() - start) / 1e9
            log("registered \(connections.count) connections in \((seconds * 100).rounded() / 100) s")
            try await Task.sleep(for: .milliseconds(Int(options.settle * 1000)))
            let after = options.serverPID.flatMap(BenchProcess.residentBytes)
            let snapshot = try await clients.snapshot()
            var perConnection: Double?
            if let before, let after { perConnection = Double(after - before) / Double(options.connections) }
            let result = Result(
                options: options,
                registered: connections.count,
                secondsToRegisterAll: seconds,
                serverRSSBefore: before,
                serverRSSAfter: after,
                bytesPerConnection: perConnection,
                disconnects: snapshot.disconnects
            )
            if options.hold > 0 {
                log("holding \(connections.count) connections for \(options.hold) s")
                try await Task.sleep(for: .milliseconds(Int(options.hold * 1000)))
            }
            await clients.close(connections)
            await clients.shutdown()
            return result
        } catch {
            await clients.close(connections)
            await clients.shutdown()
            throw error
        }
    }
}
