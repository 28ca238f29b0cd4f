import ParleyIRC

/// `REDACT target msgid [reason]` (draft/message-redaction): the sender takes back a message of theirs, a channel
/// operator any message in their channel. The message leaves history (every copy of it) and members with the
/// capability are told; nobody else sees a REDACT.
extension ServerState {
    mutating func redact(_ request: Request, _ outbox: inout Outbox) {
        guard self.configuration.history != nil, let session = self.sessions[request.id] else {
            self.reply(request.id, .errUnknownCommand, "REDACT", "Unknown command", into: &outbox)
            return
        }
        let name = request.parameters[0]
        let msgid = request.parameters[1]
        let reason = request.message.parameter(2).flatMap { $0.isEmpty ? nil : $0 }
        var redaction = RedactRequest(
            session: request.id,
            name: name,
            msgid: msgid,
            reason: reason,
            target: "",
            account: session.account.map { NickKey($0).folded },
            sender: session.prefix
        )
        if IRCName.isChannel(name) {
            guard let channel = self.channels[ChannelKey(name)], let status = channel.members[request.id] else {
                outbox.send(
                    self.fail("REDACT", "INVALID_TARGET", "You are not in that channel", context: [name]),
                    to: request.id
                )
                return
            }
            redaction.name = channel.name
            redaction.target = ChannelKey(channel.name).folded
            redaction.moderator = status.contains(.op)
        } else {
            let correspondent = NickKey(name).folded
            redaction.target =
                HistoryTarget.conversation(owner: self.historyOwner(session), correspondent: correspondent).storageKey
            // The other party's copy: theirs while they are here, or their account's when the nick is registered.
            let other: String? =
                self.session(named: name).map(self.historyOwner)
                ?? (self.registeredAccounts.contains(correspondent)
                    ? HistoryQuery.owner(account: correspondent, connection: "") : nil)
            if let other {
                let copy = HistoryTarget.conversation(
                    owner: other,
                    correspondent: NickKey(session.displayNick).folded
                ).storageKey
                if copy != redaction.target { redaction.copies = [copy] }
            }
        }
        outbox.actions.append(.effect(AnyEffect(redaction)))
    }

    /// The message is gone from history: tell whoever sees the conversation and has the capability.
    public mutating func redacted(_ request: RedactRequest, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[request.session] else { return }
        var parameters = [request.name, request.msgid]
        if let reason = request.reason { parameters.append(reason) }
        let message = IRCMessage(
            tags: [IRCTag("time", now.serverTime)],
            source: session.prefix,
            command: .redact,
            parameters: parameters
        )
        let recipients: [SessionID]
        if let channel = self.channels[ChannelKey(request.name)] {
            recipients = self.members(of: channel, except: nil) { $0.caps.contains(.messageRedaction) }
            // Members on other nodes hear it from theirs (the history is one database: it is gone there too).
            if !channel.remoteMembers.isEmpty { outbox.actions.append(.signal(message)) }
        } else {
            if self.session(named: request.name) == nil, self.remoteUser(request.name) != nil {
                outbox.actions.append(.signal(message))
            }
            // A direct message: both ends, the other addressed by its own nick as for PRIVMSG.
            if let other = self.session(named: request.name), other.id != session.id,
                other.caps.contains(.messageRedaction)
            {
                var theirs = message
                theirs.parameters[0] = other.displayNick
                outbox.send(theirs, to: other.id)
            }
            recipients = [session.id]
        }
        outbox.broadcast(message, to: recipients)
        // The asker hears that it worked even without the capability (it sent the command, it knows the reply).
        if !recipients.contains(session.id) { outbox.send(message, to: session.id) }
    }

    /// A redaction carried out on another node: its members here with the capability are told.
    mutating func redactedOnOtherNode(_ message: IRCMessage, into outbox: inout Outbox) {
        guard let target = message.parameter(0), message.parameters.count >= 2 else { return }
        if IRCName.isChannel(target) {
            guard let channel = self.channels[ChannelKey(target)] else { return }
            outbox.broadcast(
                message,
                to: self.members(of: channel, except: nil) { $0.caps.contains(.messageRedaction) }
            )
        } else if let recipient = self.session(named: target), recipient.isRegistered,
            recipient.caps.contains(.messageRedaction)
        {
            outbox.send(message, to: recipient.id)
        }
    }

    /// Why a redaction was refused (no such message there, not the asker's, or the store failed).
    public mutating func redactFailed(_ request: RedactRequest, _ failure: RedactFailure, into outbox: inout Outbox) {
        guard self.sessions[request.session] != nil else { return }
        let (code, text): (String, String) =
            switch failure {
            case .unknownMessage: ("UNKNOWN_MSGID", "There is no such message in \(request.name)")
            case .forbidden: ("REDACT_FORBIDDEN", "You may only delete your own messages")
            case .unavailable: ("TEMPORARILY_UNAVAILABLE", "Messages cannot be deleted now; try again")
            }
        outbox.send(self.fail("REDACT", code, text, context: [request.name, request.msgid]), to: request.session)
    }
}

/// A redaction to carry out against the store: find the message in the asker's view of the conversation, check the
/// asker may delete it, delete it with its copies.
public struct RedactRequest: CoreEffect, Equatable {
    public var session: SessionID
    /// The target as the client should see it (a channel's own spelling, or the nick it named).
    public var name: String
    public var msgid: String
    public var reason: String?
    /// The storage key of the asker's view: the channel's, or the asker's copy of the conversation.
    public var target: String
    /// Other copies of the same message (the other party's copy of a direct message).
    public var copies: [String] = []
    /// A channel operator of that channel: may delete anyone's message there.
    public var moderator = false
    /// The asker's account (folded), which owns the messages sent while logged in to it.
    public var account: String?
    /// The asker's `nick!user@host`: what a message sent without an account is matched by.
    public var sender: String

    public init(
        session: SessionID,
        name: String,
        msgid: String,
        reason: String?,
        target: String,
        account: String?,
        sender: String
    ) {
        self.session = session
        self.name = name
        self.msgid = msgid
        self.reason = reason
        self.target = target
        self.account = account
        self.sender = sender
    }

    /// Whether `message` (as stored) may be deleted by this asker.
    public func allows(_ message: StoredMessageOwner) -> Bool {
        if self.moderator { return true }
        if let owner = message.account { return owner == self.account }
        return self.account == nil && message.sender == self.sender
    }
}

/// Who sent a stored message, as far as redaction asks.
public struct StoredMessageOwner: Sendable, Equatable {
    /// The sender's account (folded), if it was logged in.
    public var account: String?
    public var sender: String

    public init(account: String?, sender: String) {
        self.account = account
        self.sender = sender
    }
}

public enum RedactFailure: Sendable, Equatable {
    case unknownMessage
    case forbidden
    case unavailable
}
