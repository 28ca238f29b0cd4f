import ParleyIRC

extension ServerState {
    /// Whether `msgid` was given out by this node (this run): its own messages come back through the cluster's log
    /// and must not be delivered twice.
    public func isOwnMessage(_ msgid: String) -> Bool {
        msgid.hasPrefix(self.messageIDPrefix + "-")
    }

    /// A channel message another node of the cluster relayed (PRIVMSG, NOTICE or TAGMSG, with its time, msgid and
    /// tags as stored): delivered to this node's members of the channel, as a local one would be.
    public mutating func relayFromOtherNode(_ message: IRCMessage, into outbox: inout Outbox) {
        guard Self.isContent(message), let target = message.parameter(0), IRCName.isChannel(target),
            let channel = self.channels[ChannelKey(target)]
        else { return }
        let recipients =
            message.command == .tagmsg
            ? self.members(of: channel, except: nil, where: { $0.caps.contains(.messageTags) })
            : self.members(of: channel, except: nil)
        if !recipients.isEmpty { outbox.broadcast(message, to: recipients) }
    }
}
