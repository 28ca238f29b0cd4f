import ParleyIRC

/// A user on another node of the cluster, known by the nick its node claimed.
public struct RemoteNick: Sendable, Equatable {
    public var display: String
    public var node: String

    public init(display: String, node: String) {
        self.display = display
        self.node = node
    }
}

extension ServerState {
    /// Before this node shuts down: tells each registered user where to connect instead (RPL_BOUNCE, `010 <nick>
    /// <host> <port> :<info>`), taking `addresses` in turn so the users spread over the nodes that stay. Nobody is
    /// told anything when there is nowhere to go.
    public mutating func pointUsersElsewhere(_ addresses: [ReconnectAddress], into outbox: inout Outbox) {
        guard !addresses.isEmpty else { return }
        let registered = self.sessions.values.filter(\.isRegistered).map(\.id).sorted()
        for (index, id) in registered.enumerated() {
            let address = addresses[index % addresses.count]
            self.reply(
                id,
                .rplBounce,
                address.host,
                String(address.port),
                "This node is shutting down; connect to \(address.host) port \(address.port) to carry on",
                into: &outbox
            )
        }
    }

    /// Whether `msgid` was given out by this node (this run): its own messages come back through the cluster's log
    /// and must not be delivered twice.
    public func isOwnMessage(_ msgid: String) -> Bool {
        MessageID.isFrom(self.messageIDPrefix, msgid)
    }

    /// A message another node of the cluster committed, with its time, msgid and tags as stored. PRIVMSG, NOTICE
    /// and TAGMSG to a channel reach this node's members of it, to a nick this node's user of that nick; channel
    /// events are applied to the channel (see ``relayEventFromOtherNode(_:into:)``).
    public mutating func relayFromOtherNode(_ message: IRCMessage, into outbox: inout Outbox) {
        if message.command == .invite {
            self.relayInviteFromOtherNode(message, into: &outbox)
            return
        }
        if message.command == .away {
            self.relayAwayFromOtherNode(message, into: &outbox)
            return
        }
        if message.command == Self.endedCommand {
            // Another node's users left a channel for good: its history up to then is nobody's here either.
            if let name = message.parameter(0) {
                self.channelEnds[ChannelKey(name).folded] = Self.time(of: message).millisecondsSince1970
            }
            return
        }
        guard Self.isContent(message) else {
            self.relayEventFromOtherNode(message, into: &outbox)
            return
        }
        guard let target = message.parameter(0) else { return }
        let wants: (Session) -> Bool =
            message.command == .tagmsg ? { $0.caps.contains(.messageTags) } : { _ in true }
        if IRCName.isChannel(target) {
            guard let channel = self.channels[ChannelKey(target)] else { return }
            let members = self.members(of: channel, except: nil, where: wants)
            guard !members.isEmpty else { return }
            self.deliver(message, lines: Self.storedLines(message), to: members, into: &outbox)
        } else if let recipient = self.session(named: target), recipient.isRegistered {
            self.relayDirectFromOtherNode(message, to: recipient, wants: wants(recipient), into: &outbox)
        }
    }

    /// A DM from a user on another node to `recipient`, here. That node stored the sender's copy; this one stores
    /// the recipient's, since only here is it known whose it is (an account, or this connection). A registered nick
    /// held by someone not logged in to it gets nothing: the message waits for the account's owner.
    private mutating func relayDirectFromOtherNode(
        _ message: IRCMessage,
        to recipient: Session,
        wants: Bool,
        into outbox: inout Outbox
    ) {
        let impostor = self.holdsReservedNick(recipient)
        if impostor && message.command == .tagmsg { return }
        if self.keepsHistory(of: message), let source = message.source {
            let sender = NickKey(String(source.prefix { $0 != "!" })).folded
            let owner =
                impostor
                ? HistoryQuery.owner(account: recipient.displayNick, connection: "") : self.historyOwner(recipient)
            outbox.actions.append(
                .persist(
                    message,
                    target: HistoryTarget.conversation(owner: owner, correspondent: sender).storageKey,
                    deliverTo: impostor ? NickKey(recipient.displayNick).folded : nil
                )
            )
        }
        if !impostor && wants {
            self.deliver(message, lines: Self.storedLines(message), to: [recipient.id], into: &outbox)
        }
    }

    /// A message another node passed on without storing it (``Outbox/Action/signal(_:)``). Only TAGMSGs are
    /// signals; they reach this node's members of the channel, or its user of the nick, who take message tags.
    public mutating func relaySignalFromOtherNode(_ message: IRCMessage, into outbox: inout Outbox) {
        if message.command == Self.ghostCommand {
            self.ghostFromOtherNode(message, now: Self.time(of: message), into: &outbox)
            return
        }
        if message.command == .redact {
            self.redactedOnOtherNode(message, into: &outbox)
            return
        }
        guard message.command == .tagmsg, message.parameters.count == 1 else { return }
        self.relayFromOtherNode(message, into: &outbox)
    }

    /// Every nick the other nodes hold (after this node (re)connected to the cluster's database).
    public mutating func loadRemoteNicks(_ nicks: [(nick: String, remote: RemoteNick)]) {
        self.remoteNicks = [:]
        for (nick, remote) in nicks where remote.node != self.configuration.nodeName {
            self.remoteNicks[nick] = remote
        }
    }

    /// Another node claimed nick `nick` (folded).
    public mutating func remoteNickClaimed(_ nick: String, _ remote: RemoteNick) {
        guard remote.node != self.configuration.nodeName else { return }
        self.remoteNicks[nick] = remote
    }

    /// Another node gave nick `nick` (folded) back.
    public mutating func remoteNickReleased(_ nick: String, node: String) {
        guard self.remoteNicks[nick]?.node == node else { return }
        self.remoteNicks[nick] = nil
        self.remoteAway[nick] = nil
    }

    /// The user of `nick` on another node, if any.
    func remoteUser(_ nick: String) -> RemoteNick? {
        self.remoteNicks.isEmpty ? nil : self.remoteNicks[NickKey(nick).folded]
    }

    /// An INVITE another node stored in the conversation of its sender and the invited user: the invited user, if
    /// on this node, may now join (as if invited here) and is told; this node's members with invite-notify are told.
    mutating func relayInviteFromOtherNode(_ invite: IRCMessage, into outbox: inout Outbox) {
        guard let nick = invite.parameter(0), let name = invite.parameter(1) else { return }
        let key = ChannelKey(name)
        let invited = self.session(named: nick).flatMap { $0.isRegistered ? $0.id : nil }
        if let invited {
            self.channels[key]?.invited.insert(invited)
            outbox.send(invite, to: invited)
        }
        guard let channel = self.channels[key] else { return }
        outbox.broadcast(invite, to: self.members(of: channel, except: invited) { $0.caps.contains(.inviteNotify) })
    }
}
