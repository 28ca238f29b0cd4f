import ParleyIRC

extension ServerState {
    /// Failed OPER (or connection password) attempts allowed per address within ``operFailureWindow``
    /// milliseconds.
    static let operFailuresAllowed = 5
    static let operFailureWindow: Int64 = 60_000

    mutating func oper(_ request: Request, _ outbox: inout Outbox) {
        guard let address = self.sessions[request.id]?.address else { return }
        if let wait = self.reserveAttempt("oper", address: address, now: request.now) {
            self.reply(
                request.id,
                .errPasswdMismatch,
                "Too many failed OPER attempts; try again in \(wait) s",
                into: &outbox
            )
            return
        }
        let name = request.parameters[0]
        guard let entry = self.configuration.operators.first(where: { $0.name == name }) else {
            // Answered as a wrong password is, so operator names cannot be found out by trying.
            self.reply(request.id, .errPasswdMismatch, "Password incorrect", into: &outbox)
            return
        }
        // Hashing is slow on purpose; the host checks it off the event loop and calls back.
        let check = OperatorCheck(
            session: request.id,
            name: entry.name,
            password: request.parameters[1],
            hash: entry.passwordHash
        )
        outbox.actions.append(.effect(AnyEffect(check)))
    }

    /// Counts an attempt of `kind` (`oper`, `pass`) from `address` as failed before it is checked, so attempts in
    /// flight count against the limit; returns the seconds to wait instead when the limit is reached.
    mutating func reserveAttempt(
        _ kind: String,
        address: String,
        now: Timestamp,
        limit: Int = Self.operFailuresAllowed,
        window: Int64 = Self.operFailureWindow
    ) -> Int64? {
        let key = kind + " " + address
        let recent = (self.operFailures[key] ?? []).filter {
            now.millisecondsSince1970 - $0.millisecondsSince1970 < window
        }
        if recent.count >= limit {
            self.operFailures[key] = recent
            return (recent[0].millisecondsSince1970 + window - now.millisecondsSince1970 + 999) / 1000
        }
        self.operFailures[key] = recent + [now]
        return nil
    }

    /// The last attempt of `kind` from `address` succeeded: it no longer counts.
    mutating func attemptSucceeded(_ kind: String, address: String) {
        let key = kind + " " + address
        self.operFailures[key]?.removeLast()
        if self.operFailures[key]?.isEmpty == true { self.operFailures[key] = nil }
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
        self.attemptSucceeded("oper", address: session.address)
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

/// An `OPER` password to check against its configured hash: slow on purpose, so the host does it off the event loop
/// and answers with ``ServerState/operatorVerified(_:name:success:now:into:)``.
public struct OperatorCheck: CoreEffect, Equatable {
    public var session: SessionID
    public var name: String
    public var password: String
    public var hash: String

    public init(session: SessionID, name: String, password: String, hash: String) {
        self.session = session
        self.name = name
        self.password = password
        self.hash = hash
    }
}
