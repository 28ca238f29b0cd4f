import ParleyIRC

/// Whether a user on another node is away, as of the latest AWAY their node logged.
struct RemoteAway: Sendable, Equatable {
    /// The AWAY's server time: a change logged in two channels can arrive in either order, and only a later one
    /// counts.
    var time: Int64
    /// The away message; `nil` once they are back.
    var text: String?
}

extension ServerState {
    /// An AWAY another node logged in each channel its user is in (only in a cluster: a single server keeps AWAY
    /// out of history). The first copy to arrive changes the state and tells this node's members of those
    /// channels with away-notify; the other copies change nothing.
    mutating func relayAwayFromOtherNode(_ away: IRCMessage, into outbox: inout Outbox) {
        guard let source = away.source else { return }
        let folded = NickKey(String(source.prefix { $0 != "!" })).folded
        let time = Self.time(of: away).millisecondsSince1970
        let text = away.parameter(0).flatMap { $0.isEmpty ? nil : $0 }
        if let known = self.remoteAway[folded], known.time > time || known.text == text { return }
        self.remoteAway[folded] = RemoteAway(time: time, text: text)
        var told: Set<SessionID> = []
        for channel in self.channels.values where channel.remoteMembers[folded] != nil {
            let unseen = channel.members.keys.filter {
                self.sessions[$0]?.caps.contains(.awayNotify) == true && told.insert($0).inserted
            }
            outbox.broadcast(away, to: unseen)
        }
    }

    /// The away message of the user of `folded` on another node, if they are away.
    func remoteAwayMessage(_ folded: String) -> String? {
        self.remoteAway.isEmpty ? nil : self.remoteAway[folded]?.text
    }
}
