import ParleyIRC

/// draft/channel-rename: a channel operator renames a channel; members, modes, topic, registration, history and
/// read markers keep to it under its new name.
extension ServerState {
    mutating func rename(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        let (oldName, newName) = (request.parameters[0], request.parameters[1])
        let reason = request.message.parameter(2) ?? ""
        func refuse(_ code: String, _ text: String) {
            outbox.send(self.fail("RENAME", code, text, context: [oldName, newName]), to: request.id)
        }
        guard let (oldKey, operated) = self.operatedChannel(oldName, by: request.id, into: &outbox) else { return }
        var channel = operated
        guard IRCName.isValidChannelName(newName, maximumLength: self.configuration.channelLength) else {
            return refuse("CANNOT_RENAME", "\(newName) is not a valid channel name")
        }
        guard newName.first == channel.name.first else {
            return refuse("CANNOT_RENAME", "A channel keeps its prefix (\(channel.name.prefix(1)))")
        }
        guard self.configuration.nodeName == nil else {
            return refuse("CANNOT_RENAME", "Channels cannot be renamed in a cluster")
        }
        let newKey = ChannelKey(newName)
        if newKey != oldKey && (self.channels[newKey] != nil || self.registeredChannels[newKey] != nil) {
            return refuse("CHANNEL_NAME_IN_USE", "The channel name is already taken")
        }
        let oldDisplay = channel.name
        channel.name = newName
        self.channels[oldKey] = nil
        self.channels[newKey] = channel
        if newKey != oldKey {
            self.moveChannelState(from: oldKey, to: newKey, members: Array(channel.members.keys), into: &outbox)
        }
        if var registration = self.registeredChannels.removeValue(forKey: oldKey) {
            registration.name = newName
            self.registeredChannels[newKey] = registration
            if newKey != oldKey { outbox.actions.append(.dropChannel(oldKey.folded)) }
            outbox.actions.append(.saveChannel(registration))
        }

        let renamed = self.event(session, .rename, [oldDisplay, newName, reason], now: request.now)
        outbox.broadcast(renamed, to: self.members(of: channel, except: nil) { $0.caps.contains(.channelRename) })
        // The fallback (not for a change of case only): each member leaves the old name and joins the new one.
        guard newKey != oldKey else { return }
        for id in self.members(of: channel, except: nil, where: { !$0.caps.contains(.channelRename) }) {
            guard let member = self.sessions[id] else { continue }
            outbox.send(
                self.event(member, .part, [oldDisplay] + (reason.isEmpty ? [] : [reason]), now: request.now),
                to: id
            )
            var join = self.event(member, .join, [newName], now: request.now)
            if member.caps.contains(.extendedJoin) { join.parameters += [member.account ?? "*", member.realname] }
            outbox.send(join, to: id)
            if channel.topic != nil { self.sendTopic(id, channel: channel, into: &outbox) }
            if !member.caps.contains(.noImplicitNames) { self.sendNames(id, channel: channel, into: &outbox) }
        }
    }

    /// Moves what is kept under a channel's old key: members' lists, the connection read markers of guests, when
    /// the channel last ended, and (with history) the stored history and read markers, in order with the messages
    /// still being written.
    private mutating func moveChannelState(
        from oldKey: ChannelKey,
        to newKey: ChannelKey,
        members: [SessionID],
        into outbox: inout Outbox
    ) {
        for id in members {
            self.sessions[id]?.channels.remove(oldKey)
            self.sessions[id]?.channels.insert(newKey)
            if let marker = self.sessions[id]?.connectionReadMarkers[oldKey.folded] {
                self.sessions[id]?.connectionReadMarkers[oldKey.folded] = nil
                self.sessions[id]?.connectionReadMarkers[newKey.folded] = marker
            }
        }
        // What moves over is readable as it was under the old name; what an ended channel of the new name left
        // is deleted by the store with the move.
        self.channelEnds[newKey.folded] = self.channelEnds.removeValue(forKey: oldKey.folded)
        guard self.configuration.history != nil else { return }
        outbox.actions.append(
            .persist(
                Self.renameMarker(from: oldKey, to: newKey, id: self.nextMessageID()),
                target: oldKey.folded,
                deliverTo: nil
            )
        )
    }

    /// The command of the history row that moves a channel's history, read markers included, to its new key: the
    /// store carries it out where it stands among the rows being written, so nothing said before it stays behind.
    public static let renameCommand = IRCCommand(rawValue: "RENAMED")

    static func renameMarker(from oldKey: ChannelKey, to newKey: ChannelKey, id: String) -> IRCMessage {
        IRCMessage(tags: [IRCTag("msgid", id)], command: Self.renameCommand, parameters: [newKey.folded])
    }
}
