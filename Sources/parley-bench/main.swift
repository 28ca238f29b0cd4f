import ArgumentParser
import Foundation
import ParleyBench
import ParleyStorePostgres
import ParleyVersion

/// `parley-bench SCENARIO …`: load for an IRC server on this machine.
@main
struct ParleyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-bench",
        abstract: "Measure an IRC server (Parley, ngIRCd, InspIRCd, …) on this machine.",
        discussion: """
            Every scenario is bounded in time and talks only to loopback addresses unless --allow-remote is given.
            Start Parley with `--flood-control off` and PARLEY_MAX_CONNECTIONS_PER_IP raised for fan-out runs.
            """,
        version: ParleyVersion.line("parley-bench"),
        subcommands: [
            FanoutCommand.self, IdleCommand.self, ConnectCommand.self, StoreCommand.self, HistoryCommand.self,
            NotifyCommand.self,
        ]
    )
}

struct TargetOptions: ParsableArguments {
    @Option(help: "The server's address.")
    var host = "127.0.0.1"

    @Option(help: "The server's port.")
    var port = 1060

    @Option(
        name: .customLong("node-ports"),
        help: "Ports of the nodes of a cluster on --host, comma-separated: clients go to each in turn (not --port)."
    )
    var nodePorts: String?

    @Option(help: "Connection password (PASS), if the server needs one.")
    var password: String?

    @Flag(help: "Allow a target outside 127.0.0.0/8 and ::1.")
    var allowRemote = false

    @Option(help: "Event loops for the tool itself.")
    var threads = 1

    @Option(help: "A name for the server in the output (e.g. parley, ngircd).")
    var label = "server"

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        guard (1...65535).contains(self.port) else { throw ValidationError("--port must be 1…65535") }
        if let nodePorts, self.ports == nil {
            throw ValidationError("--node-ports must be ports 1…65535 separated by commas, not '\(nodePorts)'")
        }
        guard (1...64).contains(self.threads) else { throw ValidationError("--threads must be 1…64") }
    }

    /// The ports of `--node-ports`, or `nil` when it is missing or malformed.
    var ports: [Int]? {
        guard let nodePorts else { return nil }
        let ports = nodePorts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ports.isEmpty, ports.count == nodePorts.split(separator: ",").count,
            ports.allSatisfy({ (1...65535).contains($0) })
        else { return nil }
        return ports
    }

    func target() throws -> BenchTarget {
        BenchProcess.raiseFileLimit()
        do {
            return try BenchTarget(
                host: self.host,
                port: self.ports?.first ?? self.port,
                ports: self.ports,
                password: self.password,
                allowRemote: self.allowRemote
            )
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func log(_ text: String) {
        if !self.json { FileHandle.standardError.write(Data("[\(self.label)] \(text)\n".utf8)) }
    }

    func emit<Result: Encodable>(_ result: Result, table: [(String, String)]) throws {
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var object = try JSONSerialization.jsonObject(with: encoder.encode(result)) as? [String: Any] ?? [:]
            object["label"] = self.label
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let width = table.map { $0.0.count }.max() ?? 0
            for (key, value) in table {
                print("  " + key + String(repeating: " ", count: width - key.count) + "  " + value)
            }
        }
    }
}

func grouped(_ value: Double) -> String {
    let number = Int(value.rounded())
    let digits = String(number)
    var out = ""
    for (offset, character) in digits.enumerated() {
        if offset > 0 && (digits.count - offset) % 3 == 0 { out += "," }
        out.append(character)
    }
    return out
}

func latencyText(_ latency: Latency) -> String {
    "p50 \(grouped(Double(latency.p50)))  p99 \(grouped(Double(latency.p99)))  p99.9 \(grouped(Double(latency.p999)))"
        + "  max \(grouped(Double(latency.max)))  (n=\(latency.count))"
}

struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "C clients in K channels; S senders, closed loop (--window) or at a fixed total --rate."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Clients (each joins every channel).") var clients = 100
    @Option(help: "Channels.") var channels = 1
    @Option(help: "Senders among the clients.") var senders = 10
    @Option(help: "Closed loop: messages each sender may have in flight.") var window = 10
    @Option(help: "Fixed rate: messages per second over all senders (instead of --window).") var rate: Double?
    @Option(help: "Seconds measured.") var duration = 10.0
    @Option(help: "Seconds of traffic before measuring.") var warmup = 2.0
    @Option(help: "Padding bytes per message.") var size = 64
    @Option(help: "Connections opened per second during setup.") var connectRate = 500.0
    @Option(help: "The server's process id, to report the CPU it used (once per node of a cluster).")
    var serverPid: [Int32] = []

    func validate() throws {
        guard self.clients > self.senders, self.senders >= 1 else {
            throw ValidationError("--clients must exceed --senders (one client only observes), and --senders ≥ 1")
        }
        guard (0.1...600).contains(self.duration) else { throw ValidationError("--duration must be 0.1…600 s") }
        guard self.window >= 1 else { throw ValidationError("--window must be ≥ 1") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be > 0") }
    }

    func run() async throws {
        var options = Fanout.Options()
        options.clients = self.clients
        options.channels = self.channels
        options.senders = self.senders
        options.window = self.rate == nil ? self.window : nil
        options.rate = self.rate
        options.duration = self.duration
        options.warmup = self.warmup
        options.size = self.size
        options.connectRate = self.connectRate
        options.threads = self.target.threads
        options.serverPIDs = self.serverPid
        let target = self.target
        let result = try await Fanout.run(try target.target(), options) { target.log($0) }
        let mode = self.rate.map { "rate \(grouped($0))/s" } ?? "window \(self.window)"
        try target.emit(
            result,
            table: [
                (
                    "fanout",
                    "\(target.label): \(self.clients) clients, \(self.channels) channel(s), \(self.senders) senders, \(mode)"
                ),
                ("messages/s", grouped(result.messagesPerSecond)),
                ("deliveries/s", grouped(result.deliveriesPerSecond)),
                ("latency µs", latencyText(result.latencyMicroseconds)),
                (
                    "server CPU",
                    result.serverCPU.map { String(format: "%.0f %% of a core", $0 * 100) } ?? "? (no --server-pid)"
                ),
                ("deliveries/CPU-s", result.deliveriesPerServerCPUSecond.map(grouped) ?? "?"),
                ("lost", "\(result.lost)"), ("duplicates", "\(result.duplicates)"),
                ("disconnects", "\(result.disconnects)"),
                ("setup", String(format: "%.1f s", result.setupSeconds)),
            ]
        )
    }
}

struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "N idle registered connections; the server's memory per connection (give --server-pid)."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Connections.") var connections = 10_000
    @Option(help: "Connections opened per second.") var connectRate = 2000.0
    @Option(help: "The server's process id (its RSS is read from /proc).") var serverPid: Int32?
    @Option(help: "Seconds to wait before reading memory.") var settle = 2.0
    @Option(help: "Seconds to keep the connections open after reading memory (for runs of several processes).")
    var hold = 0.0

    func run() async throws {
        guard self.hold >= 0 else { throw ValidationError("--hold must be 0 or more seconds.") }
        var options = Idle.Options()
        options.hold = self.hold
        options.connections = self.connections
        options.connectRate = self.connectRate
        options.threads = self.target.threads
        options.serverPID = self.serverPid
        options.settle = self.settle
        let target = self.target
        let result = try await Idle.run(try target.target(), options) { target.log($0) }
        try target.emit(
            result,
            table: [
                ("idle", "\(target.label): \(self.connections) connections"),
                ("registered", "\(result.registered) in \(String(format: "%.2f", result.secondsToRegisterAll)) s"),
                (
                    "server RSS",
                    "\(result.serverRSSBefore.map { grouped(Double($0)) } ?? "?") → "
                        + "\(result.serverRSSAfter.map { grouped(Double($0)) } ?? "?") bytes"
                ),
                ("bytes/connection", result.bytesPerConnection.map { grouped($0) } ?? "? (no --server-pid)"),
                ("disconnects", "\(result.disconnects)"),
            ]
        )
    }
}

struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Registrations per second: connect, register, close; --concurrency at a time."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Registrations.") var registrations = 2000
    @Option(help: "Registrations in flight.") var concurrency = 50

    func run() async throws {
        var options = Connect.Options()
        options.registrations = self.registrations
        options.concurrency = self.concurrency
        options.threads = self.target.threads
        let target = self.target
        let result = try await Connect.run(try target.target(), options) { target.log($0) }
        try target.emit(
            result,
            table: [
                ("connect", "\(target.label): \(self.registrations) registrations, \(self.concurrency) at a time"),
                ("registrations/s", grouped(result.registrationsPerSecond)),
                (
                    "completed",
                    "\(result.completed) (\(result.failed) failed) in \(String(format: "%.2f", result.seconds)) s"
                ),
                ("latency µs", latencyText(result.latencyMicroseconds)),
            ]
        )
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "CHATHISTORY LATEST and BEFORE round trips through a running server (the channel must hold history)."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Channel to read (parley-bench store fills #t0…#t99).") var channel = "#t0"
    @Option(help: "Requests of each kind.") var queries = 2000
    @Option(help: "Messages per request.") var limit = 50

    func validate() throws {
        guard self.channel.hasPrefix("#") else { throw ValidationError("--channel must start with #") }
        guard self.queries > 0 else { throw ValidationError("--queries must be positive") }
        guard (1...1000).contains(self.limit) else { throw ValidationError("--limit must be 1…1000") }
    }

    func run() async throws {
        var options = HistoryBench.Options()
        options.channel = self.channel
        options.queries = self.queries
        options.limit = self.limit
        let result = try await HistoryBench.run(try self.target.target(), options) { self.target.log($0) }
        if self.target.json {
            let data = try JSONEncoder().encode(result)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("  history           \(self.target.label), \(self.channel), \(self.limit) per request")
        print("  LATEST µs         \(latencyText(result.latestMicroseconds))")
        print("  BEFORE µs         \(latencyText(result.beforeMicroseconds))")
        print("  messages read     \(grouped(Double(result.messagesRead)))")
    }
}

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract:
            "The history store alone (SQLite or PostgreSQL): insert throughput with group commit, then LATEST/BEFORE latency."
    )

    @Option(help: "Database file (created; reused if it exists, so a second run queries a bigger database).")
    var path = "/tmp/parley-bench-store.sqlite"
    @Option(help: "Measure PostgreSQL at this URL (postgres://USER@HOST:PORT/DB) instead of the SQLite file.")
    var database: String?
    @Option(help: "Messages to insert.") var messages = 1_000_000
    @Option(help: "History targets (channels).") var targets = 100
    @Option(help: "Concurrent producers.") var producers = 4
    @Option(help: "Most messages in one transaction.") var batchSize = 512
    @Option(help: "Queries of each kind.") var queries = 2000
    @Option(help: "Messages per query.") var limit = 50
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func run() async throws {
        var options = StoreBench.Options()
        options.path = self.path
        options.database = self.database
        options.messages = self.messages
        options.targets = self.targets
        options.producers = self.producers
        options.batchSize = self.batchSize
        options.queries = self.queries
        options.limit = self.limit
        let quiet = self.json
        let result = try await StoreBench.run(options) { text in
            if !quiet { FileHandle.standardError.write(Data("[store] \(text)\n".utf8)) }
        }
        if self.json {
            let data = try JSONEncoder().encode(result)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("  database          \(self.database.map { (try? PostgresURL($0).redacted) ?? $0 } ?? self.path)")
        print("  store             \(self.messages) messages, \(self.targets) targets, \(self.producers) producers")
        print(
            "  inserts/s         \(grouped(result.insertsPerSecond)) (\(result.batches) commits, largest \(result.largestBatch))"
        )
        print("  rows in database  \(grouped(Double(result.messagesInDatabase)))")
        print("  LATEST µs         \(latencyText(result.latestMicroseconds))")
        print("  BEFORE µs         \(latencyText(result.beforeMicroseconds))")
    }
}

struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "PostgreSQL: commits/s of concurrent writers with and without NOTIFY (its commit-time lock)."
    )

    @Option(help: "PostgreSQL URL (postgres://USER@HOST:PORT/DB); the bench writes to targets #w0, #w1, …")
    var database: String
    @Option(help: "Writer counts to measure, comma-separated.") var writers = "1,2,4,8,16"
    @Option(help: "Messages per transaction.") var batch = 1
    @Option(help: "Seconds per measurement.") var seconds = 5.0
    @Flag(help: "Print JSON instead of the table.") var json = false

    func run() async throws {
        var options = NotifyBench.Options()
        options.database = self.database
        let counts = self.writers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...256).contains($0) }) else {
            throw ValidationError("--writers must be a comma-separated list of numbers from 1 to 256")
        }
        options.writers = counts
        options.batch = max(1, self.batch)
        options.seconds = self.seconds
        let quiet = self.json
        let rows = try await NotifyBench.run(options) { text in
            if !quiet { FileHandle.standardError.write(Data("[notify] \(text)\n".utf8)) }
        }
        if self.json {
            print(String(decoding: try JSONEncoder().encode(rows), as: UTF8.self))
            return
        }
        print("  writers  notify  commits/s   commit µs")
        for row in rows {
            let writers = String(row.writers).padding(toLength: 7, withPad: " ", startingAt: 0)
            let notify = (row.notify ? "on" : "off").padding(toLength: 6, withPad: " ", startingAt: 0)
            let rate = grouped(row.commitsPerSecond).padding(toLength: 10, withPad: " ", startingAt: 0)
            print("  \(writers)  \(notify)  \(rate)  \(latencyText(row.commitMicroseconds))")
        }
    }
}
