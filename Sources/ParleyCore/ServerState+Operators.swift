import ParleyIRC

extension ServerState {
    mutating func oper(_ request: Request, _ outbox: inout Outbox) {
        let name = request.parameters[0]
        guard let entry = self.configuration.operators.first(where: { $0.name == name }) else {
            self.reply(request.id, .errNoOperHost, "No O-lines for your host", into: &outbox)
            return
        }
        // Hashing is slow on purpose; the host checks it off the event loop and calls back.
        outbox.actions.append(
            .verifyOperator(request.id, name: entry.name, password: request.parameters[1], hash: entry.passwordHash)
        )
    }

    /// The result of a `verifyOperator` action.
    public mutating func operatorVerified(
        _ id: SessionID,
        name: String,
        success: Bool,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        guard let session = self.sessions[id], session.isRegistered else { return }
        guard success else {
            self.reply(id, .errPasswdMismatch, "Password incorrect", into: &outbox)
            return
        }
        self.setUserModes(id, session.modes.union(.oper))
        self.reply(id, .rplYoureOper, "You are now an IRC operator", into: &outbox)
        if !session.modes.contains(.oper) {
            outbox.send(IRCMessage(source: session.prefix, .mode, session.displayNick, "+o"), to: id)
        }
    }

    mutating func kill(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard session.modes.contains(.oper) else {
            self.reply(request.id, .errNoPrivileges, "Permission Denied- You're not an IRC operator", into: &outbox)
            return
        }
        let nick = request.parameters[0]
        guard let target = self.session(named: nick), target.isRegistered else {
            self.reply(request.id, .errNoSuchNick, nick, "No such nick/channel", into: &outbox)
            return
        }
        let comment = request.message.parameter(1) ?? "No reason given"
        let reason = "Killed (\(session.displayNick) (\(comment)))"
        self.closeSession(target.id, reason: reason, now: request.now, into: &outbox)
    }

    /// `WALLOPS text`: from an operator to every user with `+w`.
    mutating func wallops(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard session.modes.contains(.oper) else {
            self.reply(request.id, .errNoPrivileges, "Permission Denied- You're not an IRC operator", into: &outbox)
            return
        }
        let message = self.event(session, .wallops, [request.parameters[0]], now: request.now)
        let recipients = self.sessions.values.filter { $0.isRegistered && $0.modes.contains(.wallops) }.map(\.id)
        outbox.broadcast(message, to: recipients.sorted())
    }
}
