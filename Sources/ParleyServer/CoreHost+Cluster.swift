import Logging
import NIOConcurrencyHelpers
import ParleyCore
import ParleyIRC
import ParleyStore

/// What the host does for a cluster node: nick claims answered, rejoining after the cluster gave the node up, the
/// other nodes' messages handed to the core, and the database's comings and goings.
extension CoreHost {
    /// The cluster answered a nick claim. The lines the session sent meanwhile are handled now, and a CAP among
    /// them changes what its link encodes, as in ``handle(_:from:on:)``.
    func nickClaimed(_ id: SessionID, nick: String, _ answer: NickClaimAnswer) {
        self.update(origin: id) { state in
            state.core.nickClaimed(id, nick: nick, answer, now: Self.now(), into: &state.outbox)
            if let link = state.links[id] { link.caps = state.core.sessions[id]?.caps ?? [] }
        }
    }

    /// The cluster gave this node up (its lease ran out): join again, claiming the nicks in use here again.
    ///
    /// The other nodes have already shown this node's users quitting and freed their nicks, so the users are
    /// disconnected here too (they reconnect to a consistent network) before the node joins again.
    func rejoinCluster(lease: Duration) {
        for id in self.sessionIDs { self.close(id, reason: "This server lost its place in the cluster; reconnect") }
        self.state.withLockedValue { state in
            self.nickQueue?.enqueue(.rejoin(lease: lease, run: state.core.runName, nicks: state.core.heldNicks))
        }
    }

    /// What other nodes of the cluster committed, for this node's users, in the log's order; `own` marks this
    /// node's channel changes, applied again in that order.
    func relayFromOtherNodes(_ entries: [(IRCMessage, own: Bool)]) {
        self.perform { core, outbox in
            for (message, own) in entries {
                if own {
                    core.reapplyOwnChannelChange(message)
                } else {
                    core.relayFromOtherNode(message, into: &outbox)
                }
            }
        }
    }

    /// At most this many channel events wait to be recorded again; beyond, the oldest failures stay unrecorded.
    static let unrecordedLimit = 100_000

    /// The database answers again (`reachable`) or stopped answering: the core hears of it. On its return the
    /// channel events whose record failed meanwhile are recorded first, before anything the core accepts once it
    /// stops refusing, so the other nodes learn who left and who changed nick in the order it happened here.
    /// - Returns: Whether the core took the database for away before.
    func databaseReachable(_ reachable: Bool) -> Bool {
        self.update { state in
            let wasAway = state.core.databaseAway
            if reachable && !state.unrecorded.isEmpty {
                let events = state.unrecorded.map { ($0.relayed, target: $0.target) }
                state.unrecorded = []
                state.core.recordAgain(events, into: &state.outbox)
                self.logger.notice(
                    "recording channel events again",
                    metadata: ["parley.events": "\(events.count)"]
                )
            }
            state.core.databaseAway = !reachable
            return wasAway
        }
    }
}
