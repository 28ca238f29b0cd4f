import Benchmark
import NIOCore
import ParleyCore
import ParleyIRC

/// Parser, serializer and channel fan-out routing, with allocations counted per operation.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    let line = "@time=2026-11-25T13:57:21.123Z;msgid=abc123 :alice!alice@127.0.0.1 PRIVMSG #lobby :hello everyone"
    let lineBuffer = ByteBuffer(string: line)

    Benchmark("parse PRIVMSG with tags") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try IRCParser.parse(lineBuffer))
        }
    }

    let message = try! IRCParser.parse(line)
    Benchmark("serialize PRIVMSG with tags") { benchmark in
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
        Benchmark("route PRIVMSG to a \(members)-member channel") { benchmark in
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
}
