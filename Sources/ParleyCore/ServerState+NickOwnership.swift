import ParleyIRC

/// A registered nick belongs to its account's owner: `NickServ GHOST` and `REGAIN` free it from whoever holds it.
extension ServerState {
    /// `GHOST nick` (and `REGAIN nick`, which then takes it): only for a client logged in to the account of that
    /// name. The holder is disconnected, whoever it is (an impostor, or a stale connection of the owner's).
    mutating func freeNick(
        _ nick: String,
        for id: SessionID,
        andTake take: Bool,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        guard let session = self.sessions[id] else { return }
        func say(_ line: String) { self.serviceNotice(Self.nickServ, to: id, line, into: &outbox) }
        let key = NickKey(nick)
        guard let account = session.account, NickKey(account) == key else {
            return say("\(nick) is not the nick of the account you are logged in to.")
        }
        if let holder = self.session(named: nick), holder.id != id {
            self.closeSession(
                holder.id,
                reason: "GHOST command used by \(session.displayNick)",
                now: now,
                into: &outbox
            )
            say("\(holder.displayNick) has been disconnected.")
        } else if self.session(named: nick) == nil, let remote = self.remoteUser(nick) {
            // The node holding it disconnects its user when it gets this; the nick is free once that node lets go.
            outbox.actions.append(
                .signal(
                    IRCMessage(
                        tags: [IRCTag("time", now.serverTime)],
                        source: self.configuration.serverName,
                        command: Self.ghostCommand,
                        parameters: [remote.display, session.displayNick]
                    )
                )
            )
            return say(
                "\(remote.display) (on another node) is being disconnected"
                    + (take ? "; take the nick with /nick \(account) in a moment." : ".")
            )
        } else if !take || session.nick.map(NickKey.init) == key {
            return say("\(nick) is not in use by anyone else.")
        }
        if take, session.nick.map(NickKey.init) != key {
            self.takeOrClaimNick(id, account, now: now, into: &outbox)
        }
    }

    static let ghostCommand = IRCCommand(rawValue: "GHOST")

    /// Another node's user, logged in to the account of `nick`, used GHOST on it: the session here that holds it is
    /// disconnected.
    mutating func ghostFromOtherNode(_ message: IRCMessage, now: Timestamp, into outbox: inout Outbox) {
        guard let nick = message.parameter(0), let by = message.parameter(1),
            let holder = self.session(named: nick), holder.isRegistered
        else { return }
        self.closeSession(holder.id, reason: "GHOST command used by \(by)", now: now, into: &outbox)
    }
}
