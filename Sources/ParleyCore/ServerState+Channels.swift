import ParleyIRC

extension ServerState {
    mutating func join(_ request: Request, _ outbox: inout Outbox) {
        if request.parameters[0] == "0" {
            for key in self.sessions[request.id]?.channels ?? [] {
                guard let name = self.channels[key]?.name else { continue }
                self.partOne(request.id, name: name, reason: nil, now: request.now, into: &outbox)
            }
            return
        }
        let names = request.parameters[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let keys =
            request.message.parameter(1)?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
        for (index, name) in names.enumerated() {
            self.joinOne(
                request.id,
                name: name,
                key: index < keys.count ? keys[index] : nil,
                now: request.now,
                into: &outbox
            )
        }
    }

    private mutating func joinOne(
        _ id: SessionID,
        name: String,
        key: String?,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        guard let session = self.sessions[id] else { return }
        guard IRCName.isValidChannelName(name, maximumLength: self.configuration.channelLength) else {
            self.reply(id, .errNoSuchChannel, name, "No such channel", into: &outbox)
            return
        }
        let channelKey = ChannelKey(name)
        if session.channels.contains(channelKey) { return }
        // The other nodes learn of a join from the shared log: without the database it would be this node's alone.
        if self.databaseAway && self.claimsNicks {
            self.reply(
                id,
                .errUnavailResource,
                name,
                "Channel is temporarily unavailable: the database cannot be reached; try again shortly",
                into: &outbox
            )
            return
        }
        guard session.channels.count < self.configuration.channelsPerUser else {
            self.reply(id, .errTooManyChannels, name, "You have joined too many channels", into: &outbox)
            return
        }
        let registration = self.registeredChannels[channelKey]
        var channel: Channel
        if let existing = self.channels[channelKey] {
            channel = existing
        } else {
            channel = Channel(name: registration?.name ?? name, createdAt: now)
            if let registration { channel.restore(registration, server: self.configuration.serverName) }
        }
        let isNew = channel.memberCount == 0
        let isFounder = registration != nil && session.account.map { NickKey($0).folded } == registration?.founder
        // A registered channel keeps its key, limit, bans and +i even when empty; its founder passes them.
        if (!isNew || registration != nil) && !isFounder {
            let invited =
                channel.invited.contains(id) || channel.matchesAny(channel.inviteExceptions, prefix: session.prefix)
            if let channelKey = channel.key, channelKey != key, !invited {
                self.reply(id, .errBadChannelKey, channel.name, "Cannot join channel (+k)", into: &outbox)
                return
            }
            if let limit = channel.limit, channel.memberCount >= limit, !invited {
                self.reply(id, .errChannelIsFull, channel.name, "Cannot join channel (+l)", into: &outbox)
                return
            }
            if channel.flags.contains(.inviteOnly) && !invited {
                self.reply(id, .errInviteOnlyChan, channel.name, "Cannot join channel (+i)", into: &outbox)
                return
            }
            if channel.isBanned(prefix: session.prefix) && !channel.invited.contains(id) {
                self.reply(id, .errBannedFromChan, channel.name, "Cannot join channel (+b)", into: &outbox)
                return
            }
        }
        channel.members[id] = isFounder || (isNew && registration == nil) ? .op : []
        channel.invited.remove(id)
        self.channels[channelKey] = channel
        self.sessions[id]?.channels.insert(channelKey)

        var plain = self.event(session, .join, [channel.name], now: now)
        self.recordEvent(&plain, in: [channelKey], into: &outbox)
        if self.claimsNicks, channel.members[id]?.contains(.op) == true {
            // The other nodes learn who got ops on joining from the log, as a MODE by the server (not shown here:
            // NAMES says it).
            var op = IRCMessage(
                tags: [IRCTag("time", now.serverTime)],
                source: self.configuration.serverName,
                command: .mode,
                parameters: [channel.name, "+o", session.displayNick]
            )
            self.recordEvent(&op, in: [channelKey], into: &outbox)
        }
        var extended = plain
        extended.parameters += [session.account ?? "*", session.realname]
        outbox.send(session.caps.contains(.extendedJoin) ? extended : plain, to: id)
        outbox.broadcast(extended, to: self.members(of: channel, except: id) { $0.caps.contains(.extendedJoin) })
        outbox.broadcast(plain, to: self.members(of: channel, except: id) { !$0.caps.contains(.extendedJoin) })
        if isFounder && !isNew {
            let mode = IRCMessage(
                tags: [IRCTag("time", now.serverTime)],
                source: self.chanServPrefix,
                command: .mode,
                parameters: [channel.name, "+o", session.displayNick]
            )
            outbox.broadcast(mode, to: self.members(of: channel, except: id))
        }
        if let away = session.away {
            let awayMessage = self.event(session, .away, [away], now: now)
            outbox.broadcast(awayMessage, to: self.members(of: channel, except: id) { $0.caps.contains(.awayNotify) })
        }
        if channel.topic != nil {
            self.sendTopic(id, channel: channel, into: &outbox)
        }
        // no-implicit-names: the client asks with NAMES when it wants the list (a phone joining 40 channels).
        let names = !session.caps.contains(.noImplicitNames)
        let namesFollowMarker = self.sendReadMarker(id, channel: channel, names: names, into: &outbox)
        if names && !namesFollowMarker { self.sendNames(id, channel: channel, into: &outbox) }
        self.metadataOnJoin(id, channel: channelKey, into: &outbox)
        self.replayOnJoin(id, channel: channel, into: &outbox)
    }

    mutating func part(_ request: Request, _ outbox: inout Outbox) {
        let reason = request.message.parameter(1)
        for name in request.parameters[0].split(separator: ",") {
            self.partOne(request.id, name: String(name), reason: reason, now: request.now, into: &outbox)
        }
    }

    private mutating func partOne(
        _ id: SessionID,
        name: String,
        reason: String?,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        guard let session = self.sessions[id] else { return }
        guard let (key, channel) = self.existingChannel(name, for: id, into: &outbox) else { return }
        guard channel.members[id] != nil else {
            self.reply(id, .errNotOnChannel, channel.name, "You're not on that channel", into: &outbox)
            return
        }
        var part = self.event(session, .part, [channel.name] + (reason.map { [$0] } ?? []), now: now)
        self.recordEvent(&part, in: [key], into: &outbox)
        outbox.send(part, to: id)
        outbox.broadcast(part, to: self.members(of: channel, except: id))
        if self.removeMember(id, from: key) { self.endIncarnation(of: key, now: now, into: &outbox) }
    }

    mutating func topic(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard case (let key, var channel)? = self.existingChannel(request.parameters[0], for: request.id, into: &outbox)
        else { return }
        let status = channel.members[request.id]
        guard let newTopic = request.message.parameter(1) else {
            if status == nil && channel.flags.contains(.secret) {
                self.reply(request.id, .errNotOnChannel, channel.name, "You're not on that channel", into: &outbox)
            } else if channel.topic == nil {
                self.reply(request.id, .rplNoTopic, channel.name, "No topic is set", into: &outbox)
            } else {
                self.sendTopic(request.id, channel: channel, into: &outbox)
            }
            return
        }
        guard let status else {
            self.reply(request.id, .errNotOnChannel, channel.name, "You're not on that channel", into: &outbox)
            return
        }
        if channel.flags.contains(.topicLocked) && !status.contains(.op) {
            self.reply(request.id, .errChanOPrivsNeeded, channel.name, "You're not channel operator", into: &outbox)
            return
        }
        let topic = String(newTopic.prefix(self.configuration.topicLength))
        channel.topic = topic.isEmpty ? nil : topic
        channel.topicSetter = session.prefix
        channel.topicTime = request.now
        self.channels[key] = channel
        var change = self.event(session, .topic, [channel.name, topic], now: request.now)
        self.recordEvent(&change, in: [key], into: &outbox)
        outbox.send(change, to: request.id)
        outbox.broadcast(change, to: self.members(of: channel, except: request.id))
    }

    mutating func sendTopic(_ id: SessionID, channel: Channel, into outbox: inout Outbox) {
        guard let topic = channel.topic else { return }
        self.reply(id, .rplTopic, channel.name, topic, into: &outbox)
        self.reply(
            id,
            .rplTopicWhoTime,
            channel.name,
            channel.topicSetter,
            String(channel.topicTime.seconds),
            into: &outbox
        )
    }

    mutating func names(_ request: Request, _ outbox: inout Outbox) {
        guard let target = request.message.parameter(0) else {
            self.reply(request.id, .rplEndOfNames, "*", "End of /NAMES list", into: &outbox)
            return
        }
        // Each channel once however often it is named: `NAMES #c,#c,…` must not multiply a big reply. Several
        // channels get their 353s and one 366 naming the list as asked (RFC 2812 3.2.5, as Ergo and InspIRCd do).
        let names = target.split(separator: ",").map(String.init)
        var seen: Set<ChannelKey> = []
        for name in names where seen.insert(ChannelKey(name)).inserted {
            if let channel = self.channels[ChannelKey(name)] {
                self.sendNames(request.id, channel: channel, end: names.count == 1, into: &outbox)
            } else if names.count == 1 {
                self.reply(request.id, .rplEndOfNames, name, "End of /NAMES list", into: &outbox)
            }
        }
        if names.count > 1 {
            self.reply(request.id, .rplEndOfNames, target, "End of /NAMES list", into: &outbox)
        }
    }

    /// RPL_NAMREPLY lines (split to fit a line) and, with `end`, RPL_ENDOFNAMES.
    mutating func sendNames(_ id: SessionID, channel: Channel, end: Bool = true, into outbox: inout Outbox) {
        guard let viewer = self.sessions[id] else { return }
        let isMember = channel.members[id] != nil
        if isMember || !channel.flags.contains(.secret) {
            let multi = viewer.caps.contains(.multiPrefix)
            let full = viewer.caps.contains(.userhostInNames)
            var line = ""
            let budget =
                400 - channel.name.utf8.count - viewer.displayNick.utf8.count - self.configuration.serverName.utf8.count
            for (member, status) in channel.members {
                guard let session = self.sessions[member] else { continue }
                if !isMember && session.modes.contains(.invisible) { continue }
                let entry = status.prefixes(multi: multi) + (full ? session.prefix : session.displayNick)
                if !line.isEmpty && line.utf8.count + entry.utf8.count + 1 > budget {
                    self.reply(id, .rplNamReply, channel.namesSymbol, channel.name, line, into: &outbox)
                    line = ""
                }
                line += line.isEmpty ? entry : " " + entry
            }
            // Users on other nodes: listed to members only (whether they are +i is not known here).
            for member in isMember ? channel.remoteMembers.values.sorted(by: { $0.nick < $1.nick }) : [] {
                let entry = member.status.prefixes(multi: multi) + (full ? member.prefix : member.nick)
                if !line.isEmpty && line.utf8.count + entry.utf8.count + 1 > budget {
                    self.reply(id, .rplNamReply, channel.namesSymbol, channel.name, line, into: &outbox)
                    line = ""
                }
                line += line.isEmpty ? entry : " " + entry
            }
            if !line.isEmpty {
                self.reply(id, .rplNamReply, channel.namesSymbol, channel.name, line, into: &outbox)
            }
        }
        if end { self.reply(id, .rplEndOfNames, channel.name, "End of /NAMES list", into: &outbox) }
    }

    mutating func list(_ request: Request, _ outbox: inout Outbox) {
        let wanted = request.message.parameter(0).map { Set($0.split(separator: ",").map { ChannelKey(String($0)) }) }
        self.reply(request.id, .rplListStart, "Channel", "Users  Name", into: &outbox)
        for (key, channel) in self.channels.sorted(by: { $0.key.folded < $1.key.folded }) {
            if let wanted, !wanted.contains(key) { continue }
            if channel.flags.contains(.secret) && channel.members[request.id] == nil { continue }
            let topic = "[\(channel.modeString(showKey: false)[0])] " + (channel.topic ?? "")
            self.reply(request.id, .rplList, channel.name, String(channel.memberCount), topic, into: &outbox)
        }
        self.reply(request.id, .rplListEnd, "End of /LIST", into: &outbox)
    }

    /// TARGMAX's KICK: how many nicks one KICK may name.
    static let kickTargets = 4

    /// `KICK #a nick1,nick2` kicks both from `#a`; `KICK #a,#b nick1,nick2` pairs them (nick1 from #a, nick2 from
    /// #b), as RFC 2812 3.2.8 has it. Any other shape is 461.
    mutating func kick(_ request: Request, _ outbox: inout Outbox) {
        let channels = request.parameters[0].split(separator: ",").map(String.init)
        let nicks = request.parameters[1].split(separator: ",").map(String.init)
        guard nicks.count <= Self.kickTargets else {
            self.reply(
                request.id,
                .errTooManyTargets,
                request.parameters[1],
                "At most \(Self.kickTargets) nicks per KICK",
                into: &outbox
            )
            return
        }
        if channels.count == 1 {
            self.kick(nicks, from: channels[0], request, &outbox)
        } else if channels.count == nicks.count {
            for (channel, nick) in zip(channels, nicks) { self.kick([nick], from: channel, request, &outbox) }
        } else {
            self.reply(
                request.id,
                .errNeedMoreParams,
                "KICK",
                "Give one channel, or as many channels as nicks",
                into: &outbox
            )
        }
    }

    private mutating func kick(_ nicks: [String], from name: String, _ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard let (key, channel) = self.operatedChannel(name, by: request.id, into: &outbox) else {
            return
        }
        let reason = String((request.message.parameter(2) ?? session.displayNick).prefix(self.configuration.kickLength))
        for nick in nicks {
            if let current = self.channels[key], let member = current.remoteMembers[NickKey(nick).folded] {
                // On another node: the event in the log makes that node remove its user.
                var kick = self.event(session, .kick, [current.name, member.nick, reason], now: request.now)
                self.recordEvent(&kick, in: [key], into: &outbox)
                outbox.send(kick, to: request.id)
                outbox.broadcast(kick, to: self.members(of: current, except: request.id))
                self.removeRemoteMember(NickKey(nick).folded, from: key)
                continue
            }
            guard let target = self.session(named: nick), let current = self.channels[key],
                current.members[target.id] != nil
            else {
                self.reply(
                    request.id,
                    .errUserNotInChannel,
                    nick,
                    channel.name,
                    "They aren't on that channel",
                    into: &outbox
                )
                continue
            }
            var kick = self.event(session, .kick, [current.name, target.displayNick, reason], now: request.now)
            self.recordEvent(&kick, in: [key], into: &outbox)
            outbox.send(kick, to: request.id)
            outbox.broadcast(kick, to: self.members(of: current, except: request.id))
            if self.removeMember(target.id, from: key) { self.endIncarnation(of: key, now: request.now, into: &outbox) }
        }
    }

    mutating func invite(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        let nick = request.parameters[0]
        let name = request.parameters[1]
        let local = self.session(named: nick).flatMap { $0.isRegistered ? $0 : nil }
        // A user on another node of the cluster: the invitation reaches their node through the log.
        let remote = local == nil && self.configuration.history != nil ? self.remoteUser(nick) : nil
        guard let display = local?.displayNick ?? remote?.display else {
            self.reply(request.id, .errNoSuchNick, nick, "No such nick/channel", into: &outbox)
            return
        }
        guard case (let key, var channel)? = self.existingChannel(name, for: request.id, into: &outbox) else { return }
        guard let status = channel.members[request.id] else {
            self.reply(request.id, .errNotOnChannel, channel.name, "You're not on that channel", into: &outbox)
            return
        }
        let isMember =
            local.map { channel.members[$0.id] != nil } ?? (channel.remoteMembers[NickKey(nick).folded] != nil)
        guard !isMember else {
            self.reply(request.id, .errUserOnChannel, display, channel.name, "is already on channel", into: &outbox)
            return
        }
        if channel.flags.contains(.inviteOnly) && !status.contains(.op) {
            self.reply(request.id, .errChanOPrivsNeeded, channel.name, "You're not channel operator", into: &outbox)
            return
        }
        var invite = self.event(session, .invite, [display, channel.name], now: request.now)
        if let local {
            channel.invited.insert(local.id)
            self.channels[key] = channel
            outbox.send(invite, to: local.id)
        } else {
            invite.tags.append(IRCTag("msgid", self.nextMessageID()))
            // The inviter's copy of the conversation: the invited user's node learns it from there.
            let conversation = HistoryTarget.conversation(
                owner: self.historyOwner(session),
                correspondent: NickKey(nick).folded
            ).storageKey
            outbox.actions.append(.persist(invite, target: conversation, deliverTo: nil))
        }
        self.reply(request.id, .rplInviting, display, channel.name, into: &outbox)
        outbox.broadcast(invite, to: self.members(of: channel, except: request.id) { $0.caps.contains(.inviteNotify) })
        if let away = local?.away {
            self.reply(request.id, .rplAway, display, away, into: &outbox)
        }
    }
}
