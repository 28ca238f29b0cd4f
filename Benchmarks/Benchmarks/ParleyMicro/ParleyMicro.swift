import Benchmark
import Foundation
import NIOCore
import ParleyCore
import ParleyIRC
import ParleyStore
import ParleyStoreSQLite

/// Parser, serializer, channel fan-out routing, the registration burst and the history append path, with
/// allocations counted per operation. Thresholds/ holds the committed allocation limits: `scripts/micro-bench`
/// fails when a benchmark allocates more than they allow. (Names have no spaces: package-benchmark 1.38.1 writes a
/// threshold file with `_` for each space but looks for it with the spaces.)
let benchmarks: @Sendable () -> Void = {
    // The committed thresholds (Thresholds/) hold mallocs per operation; a run may exceed them by this much.
    let allocationTolerance: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(relative: [.p90: 5.0])
    ]
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        thresholds: allocationTolerance
    )

    let line = "@time=2026-11-25T13:57:21.123Z;msgid=abc123 :alice!alice@127.0.0.1 PRIVMSG #lobby :hello everyone"
    let lineBuffer = ByteBuffer(string: line)

    Benchmark("parse-PRIVMSG-with-tags") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try IRCParser.parse(lineBuffer))
        }
    }

    let message = try! IRCParser.parse(line)
    Benchmark("serialize-PRIVMSG-with-tags") { benchmark in
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            message.write(to: &buffer)
            blackHole(buffer.readableBytes)
        }
    }

    // One PRIVMSG to a channel through the core: what the state machine costs per message, before the host encodes
    // and writes. Two sizes, so allocations per recipient show as the difference (the aim is none).
    for members in [10, 100] {
        Benchmark("route-PRIVMSG-to-a-\(members)-member-channel") { benchmark in
            var state = ServerState(configuration: CoreConfiguration(serverName: "irc.bench"))
            var outbox = Outbox()
            let now = Timestamp(millisecondsSince1970: 1_795_615_041_123)
            for index in 1...members {
                let id = SessionID(UInt64(index))
                state.connect(id, host: "127.0.0.1", address: "127.0.0.1", now: now)
                state.handle(IRCMessage(.nick, "user\(index)"), from: id, now: now, into: &outbox)
                state.handle(IRCMessage(.user, "u", "0", "*", "User"), from: id, now: now, into: &outbox)
                state.handle(IRCMessage(.join, "#lobby"), from: id, now: now, into: &outbox)
                outbox.removeAll()
            }
            let privmsg = IRCMessage(.privmsg, "#lobby", "hello everyone")
            let sender = SessionID(1)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                outbox.removeAll()
                state.handle(privmsg, from: sender, now: now, into: &outbox)
                blackHole(outbox.actions.count)
            }
        }
    }

    // A client's registration as the core handles it: NICK and USER in, the whole welcome burst (001–005, LUSERS,
    // MOTD) out, encoded into one buffer as the host sends it.
    Benchmark("register-NICK-USER-and-encode-the-welcome-burst") { benchmark in
        var state = ServerState(configuration: CoreConfiguration(serverName: "irc.bench"))
        var outbox = Outbox()
        var buffer = ByteBufferAllocator().buffer(capacity: 8192)
        let now = Timestamp(millisecondsSince1970: 1_795_615_041_123)
        let user = IRCMessage(.user, "u", "0", "*", "User")
        var next: UInt64 = 1
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let id = SessionID(next)
            next += 1
            outbox.removeAll()
            buffer.clear()
            state.connect(id, host: "127.0.0.1", address: "127.0.0.1", now: now)
            state.handle(IRCMessage(.nick, "user\(next)"), from: id, now: now, into: &outbox)
            state.handle(user, from: id, now: now, into: &outbox)
            for case .send(let message, _) in outbox.actions { message.write(to: &buffer) }
            blackHole(buffer.readableBytes)
            outbox.removeAll()
            state.disconnect(id, reason: "done", now: now, into: &outbox)
        }
    }

    // The store's part of durable history: 100 channel messages appended as one group-commit batch to SQLite (rows,
    // the target index and the full-text index). One batch per sample; the database grows across samples, as a
    // server's does, and its opening is not measured.
    let database = FileManager.default.temporaryDirectory.appendingPathComponent("parley-micro-\(getpid()).sqlite")
    Benchmark(
        "history-append-100-messages-in-one-SQLite-batch-with-FTS",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
            scalingFactor: .one,
            maxDuration: .seconds(3),
            // SQLite's thread pool and the task hops allocate a little differently from run to run.
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 10.0])]
        )
    ) { benchmark in
        let store = try await SQLiteStore.open(path: database.path)
        let run = UInt64.random(in: 0...UInt64.max)
        let batch = (0..<100).map { index in
            StoredMessage(
                msgid: "b\(run)-\(index)",
                target: "#lobby",
                time: 1_795_615_041_123 + Int64(index),
                sender: "alice!alice@127.0.0.1",
                command: "PRIVMSG",
                recipient: "#lobby",
                text: "hello everyone, this is message \(index) of a benchmark batch"
            )
        }
        benchmark.startMeasurement()
        try await store.append(batch)
        benchmark.stopMeasurement()
        try await store.close()
    }
}
