import FuzzDriver
import ParleyCore
import ParleyIRC

/// The core state machine fed random command sequences from four clients. Each input line is one client's line:
/// its first byte picks the client, the rest is the IRC line. After every line the membership invariants must
/// hold: every member of a channel is a session that lists the channel, and every channel a session lists has it
/// as a member.
///
/// An input whose first byte is odd runs the core as a cluster node: nick claims are answered (refused when the
/// nick starts with `t`), a line whose first byte is 0xFE is an event or message another node committed (handed to
/// the relay path with a msgid of node `b`), 0xFD says node `b` was lost, and 0xFC is a signal (typing) from `b`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let cluster = bytes.first.map { $0 & 1 == 1 } ?? false
    // The core is a value: every input starts from a copy of the same registered state instead of registering
    // four clients again, which took three quarters of each run (1,481 against 6,109 runs/s, 60 s each).
    var state = cluster ? registeredCluster : registered
    var outbox = Outbox()
    var now = setupTime
    let ids = clientIDs
    var relayed = 0
    for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        let selector = line[line.startIndex]
        let id = ids[Int(selector) % ids.count]
        now.millisecondsSince1970 += 1
        outbox.removeAll()
        let rest = UnsafeRawBufferPointer(rebasing: line.dropFirst())
        if cluster && selector == 0xFE {
            relayed += 1
            if var message = try? IRCParser.parse(rest) {
                message.tags.removeAll { $0.key == "msgid" }
                message.tags.append(IRCTag("msgid", "b.r1-\(relayed)"))
                state.relayFromOtherNode(message, into: &outbox)
            }
        } else if cluster && selector == 0xFC {
            if let message = try? IRCParser.parse(rest) { state.relaySignalFromOtherNode(message, into: &outbox) }
        } else if cluster && selector == 0xFD {
            state.remoteNodeGone("b", lost: true, now: now, into: &outbox)
        } else {
            do {
                state.handle(try IRCParser.parse(rest), from: id, now: now, into: &outbox)
            } catch {
                state.parseFailed(error, from: id, into: &outbox)
            }
        }
        if selector == 0xFF { state.disconnect(id, reason: "gone", now: now, into: &outbox) }
        answerClaims(&state, &outbox, now: now)
        check(state)
    }
    return 0
}

let setupTime = Timestamp(millisecondsSince1970: 1_800_000_000_000)
let clientIDs = (1...4).map { SessionID(UInt64($0)) }
let registered = fourClientsInOneChannel(cluster: false)
let registeredCluster = fourClientsInOneChannel(cluster: true)

/// The state every input starts from: four registered clients in `#a`.
func fourClientsInOneChannel(cluster: Bool) -> ServerState {
    var configuration = CoreConfiguration(serverName: "irc.fuzz", networkName: "Fuzz")
    configuration.history = .init()
    configuration.accounts = .init()
    if cluster { configuration.nodeName = "a" }
    var state = ServerState(configuration: configuration)
    var outbox = Outbox()
    for (index, id) in clientIDs.enumerated() {
        state.connect(id, host: "h\(index)", address: "10.0.0.\(index)", now: setupTime)
        for line in ["NICK n\(index)", "USER u 0 * :r", "JOIN #a"] {
            state.handle(try! IRCParser.parse(line), from: id, now: setupTime, into: &outbox)
            answerClaims(&state, &outbox, now: setupTime)
        }
    }
    return state
}

/// Plays the cluster's database: answers every nick claim in the outbox (and those the answers lead to).
func answerClaims(_ state: inout ServerState, _ outbox: inout Outbox, now: Timestamp) {
    var rounds = 0
    while rounds < 8 {
        let claims = outbox.actions.compactMap { action -> (SessionID, String)? in
            if case .claimNick(let id, let nick, _, _) = action { return (id, nick) }
            return nil
        }
        guard !claims.isEmpty else { return }
        outbox.removeAll()
        for (id, nick) in claims {
            state.nickClaimed(id, nick: nick, nick.hasPrefix("t") ? .taken : .granted, now: now, into: &outbox)
        }
        rounds += 1
    }
}

func check(_ state: ServerState) {
    for (key, channel) in state.channels {
        precondition(channel.memberCount > 0, "empty channel \(channel.name) kept")
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
