import FuzzDriver
import ParleyCore
import ParleyIRC

/// The core state machine fed random command sequences from four clients. Each input line is one client's line:
/// its first byte picks the client, the rest is the IRC line. After every line the membership invariants must
/// hold: every member of a channel is a session that lists the channel, and every channel a session lists has it
/// as a member.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    var configuration = CoreConfiguration(serverName: "irc.fuzz", networkName: "Fuzz")
    configuration.history = .init()
    configuration.accounts = .init()
    var state = ServerState(configuration: configuration)
    var outbox = Outbox()
    var now = Timestamp(millisecondsSince1970: 1_800_000_000_000)
    let ids = (1...4).map { SessionID(UInt64($0)) }
    for (index, id) in ids.enumerated() {
        state.connect(id, host: "h\(index)", address: "10.0.0.\(index)", now: now)
        for line in ["NICK n\(index)", "USER u 0 * :r", "JOIN #a"] {
            state.handle(try! IRCParser.parse(line), from: id, now: now, into: &outbox)
        }
    }
    for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        let id = ids[Int(line[line.startIndex]) % ids.count]
        now.millisecondsSince1970 += 1
        outbox.removeAll()
        let rest = UnsafeRawBufferPointer(rebasing: line.dropFirst())
        do {
            state.handle(try IRCParser.parse(rest), from: id, now: now, into: &outbox)
        } catch {
            state.parseFailed(error, from: id, into: &outbox)
        }
        if line[line.startIndex] == 0xFF { state.disconnect(id, reason: "gone", now: now, into: &outbox) }
        check(state)
    }
    return 0
}

func check(_ state: ServerState) {
    for (key, channel) in state.channels {
        precondition(!channel.members.isEmpty, "empty channel \(channel.name) kept")
        for member in channel.members.keys {
            guard let session = state.sessions[member] else {
                preconditionFailure("\(channel.name) lists a gone session")
            }
            precondition(session.channels.contains(key), "\(channel.name) lists \(member) but not the reverse")
        }
    }
    for (id, session) in state.sessions {
        for key in session.channels {
            guard let channel = state.channels[key] else { preconditionFailure("\(id) lists a missing channel") }
            precondition(channel.members[id] != nil, "\(id) lists \(channel.name) but is not a member")
        }
    }
}

runLibFuzzer { fuzz($0, $1) }
