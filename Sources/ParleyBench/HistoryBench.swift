import Histogram
import ParleyClient
import ParleyIRC

/// `history`: CHATHISTORY round trips through a running server: LATEST, then BEFORE paging back through the
/// channel as a client scrolling up would, one request at a time. The channel's history must already be there
/// (e.g. `parley-bench store` fills `#t0`…`#t99`; start the server on a data directory holding that database).
public enum HistoryBench {
    public struct Options: Codable, Sendable {
        public var channel = "#t0"
        public var queries = 2000
        public var limit = 50

        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var scenario = "history"
        public var options: Options
        public var latestMicroseconds: Latency
        public var beforeMicroseconds: Latency
        public var messagesRead: Int
    }

    public static func run(
        _ target: BenchTarget,
        _ options: Options,
        log: @Sendable (String) -> Void
    ) async throws -> Result {
        let client = try await IRCClient.connect(host: target.host, port: target.port, answerPings: true)
        var messages = client.messages.makeAsyncIterator()
        func next() async throws -> IRCMessage {
            guard let message = await messages.next() else { throw BenchError("the server closed the connection") }
            return message
        }
        let nick = "h" + String(UInt32.random(in: 0..<(36 * 36 * 36)), radix: 36)
        try await client.startRegistration(
            nick: nick,
            password: target.password,
            capabilities: ["draft/chathistory", "batch", "server-time", "message-tags"]
        )
        while try await next().command != IRCCommand(.rplWelcome) {}
        try await client.send(raw: "JOIN \(options.channel)")
        while try await next().command != IRCCommand(.rplEndOfNames) {}

        /// One request; returns the msgids of the batch, oldest first.
        func query(_ line: String) async throws -> (UInt64, [String]) {
            let start = monotonicNanos()
            try await client.send(raw: line)
            var ids: [String] = []
            while true {
                let message = try await next()
                if message.command == .fail {
                    throw BenchError("\(line): \(message.parameters.joined(separator: " "))")
                }
                if message.command == .batch, message.parameters.first?.hasPrefix("-") == true { break }
                if message.command == .privmsg || message.command == .notice, let id = message.tag("msgid") {
                    ids.append(id)
                }
            }
            return (monotonicNanos() - start, ids)
        }

        var latest = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var before = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var read = 0
        log(
            "\(options.queries) LATEST and \(options.queries) BEFORE requests of \(options.limit) in \(options.channel)"
        )
        var oldest: String?
        for _ in 0..<options.queries {
            let (time, ids) = try await query("CHATHISTORY LATEST \(options.channel) * \(options.limit)")
            guard ids.count == options.limit else {
                throw BenchError("\(options.channel) holds \(ids.count) messages; fill it first (parley-bench store)")
            }
            _ = latest.record(time / 1000)
            read += ids.count
            if oldest == nil { oldest = ids.first }
        }
        for _ in 0..<options.queries {
            let bound = oldest ?? "*"
            let (time, ids) = try await query("CHATHISTORY BEFORE \(options.channel) msgid=\(bound) \(options.limit)")
            _ = before.record(time / 1000)
            read += ids.count
            // Scroll further back; start again from the newest page at the beginning of the history.
            oldest = ids.count == options.limit ? ids.first : nil
            if oldest == nil {
                oldest = try await query("CHATHISTORY LATEST \(options.channel) * \(options.limit)").1.first
            }
        }
        await client.close()
        return Result(
            options: options,
            latestMicroseconds: Latency(latest),
            beforeMicroseconds: Latency(before),
            messagesRead: read
        )
    }
}
