import ParleyIRC

/// Channels shared across the nodes of a cluster. Every node commits its channel events (JOIN, PART, KICK, QUIT,
/// NICK, TOPIC, MODE) to the shared log, and every other node applies them in the log's per-channel order: its users
/// see the others join, leave, rename, set the topic and change modes, and NAMES and WHO list them.
extension ServerState {
    /// A channel event another node committed: applied to this node's copy of the channel and shown to this node's
    /// members of it.
    mutating func relayEventFromOtherNode(_ event: IRCMessage, into outbox: inout Outbox, tell: Bool = true) {
        guard let source = event.source, let name = event.parameter(0) else { return }
        // Which node and run the user is on: from the event's msgid, which its node gave out.
        let id = event.tag("msgid").flatMap(MessageID.init)
        let node = id?.node ?? ""
        let run = id?.origin ?? ""
        let nick = String(source.prefix { $0 != "!" })
        let key = ChannelKey(name)
        switch event.command {
        case .join:
            let time = Self.time(of: event)
            var channel = self.channels[key] ?? Channel(name: name, createdAt: time)
            channel.remoteMembers[NickKey(nick).folded] = RemoteMember(prefix: source, node: node, run: run, status: [])
            self.channels[key] = channel
            var extended = event
            extended.parameters = [channel.name, "*", ""]
            outbox.broadcast(extended, to: self.members(of: channel, except: nil) { $0.caps.contains(.extendedJoin) })
            outbox.broadcast(event, to: self.members(of: channel, except: nil) { !$0.caps.contains(.extendedJoin) })
            if let away = self.remoteAwayMessage(NickKey(nick).folded) {
                var notify = event
                notify.command = .away
                notify.parameters = [away]
                outbox.broadcast(notify, to: self.members(of: channel, except: nil) { $0.caps.contains(.awayNotify) })
            }
        case .part:
            guard let channel = self.channels[key], channel.remoteMembers[NickKey(nick).folded] != nil else { return }
            outbox.broadcast(event, to: self.members(of: channel, except: nil))
            self.removeRemoteMember(NickKey(nick).folded, from: key)
        case .kick:
            guard let channel = self.channels[key], let kicked = event.parameter(1) else { return }
            outbox.broadcast(event, to: self.members(of: channel, except: nil))
            if let local = self.session(named: kicked), channel.members[local.id] != nil {
                self.removeMember(local.id, from: key)
            } else {
                self.removeRemoteMember(NickKey(kicked).folded, from: key)
            }
        case .topic:
            guard var channel = self.channels[key] else { return }
            let topic = event.parameter(1) ?? ""
            channel.topic = topic.isEmpty ? nil : topic
            channel.topicSetter = source
            channel.topicTime = Self.time(of: event)
            self.channels[key] = channel
            if tell { outbox.broadcast(event, to: self.members(of: channel, except: nil)) }
        case .mode:
            guard var channel = self.channels[key] else { return }
            self.applyRelayedModes(Array(event.parameters.dropFirst()), setter: source, event: event, to: &channel)
            self.channels[key] = channel
            if tell { outbox.broadcast(event, to: self.members(of: channel, except: nil)) }
        case .quit:
            // One copy per channel the user was in: the first removes them everywhere and tells everyone once.
            let folded = NickKey(nick).folded
            let keys = self.channels.compactMap { $0.value.remoteMembers[folded]?.node == node ? $0.key : nil }
            self.quitRemoteMember(folded, from: keys, message: event, into: &outbox)
        case .nick:
            let old = NickKey(nick).folded
            let new = NickKey(name)
            var told: Set<SessionID> = []
            for (channelKey, var channel) in self.channels {
                guard var member = channel.remoteMembers.removeValue(forKey: old), member.node == node else {
                    continue
                }
                member.prefix = name + source.drop { $0 != "!" }
                channel.remoteMembers[new.folded] = member
                if let away = self.remoteAway.removeValue(forKey: old) { self.remoteAway[new.folded] = away }
                self.channels[channelKey] = channel
                let unseen = channel.members.keys.filter { told.insert($0).inserted }
                outbox.broadcast(event, to: unseen)
            }
        default:
            return
        }
    }

    /// This node's own TOPIC or MODE as the log ordered it among the other nodes' changes: applied again, silently,
    /// so that two changes made on two nodes at the same moment end the same way everywhere (the later in the log
    /// wins), as if every node had applied them in the log's order.
    public mutating func reapplyOwnChannelChange(_ event: IRCMessage) {
        guard event.command == .topic || event.command == .mode else { return }
        var ignored = Outbox()
        self.relayEventFromOtherNode(event, into: &ignored, tell: false)
    }

    /// The start of this node's message ids (`NODE.RUN`), which names this run of it in the cluster.
    public var runName: String { self.messageIDPrefix }

    /// After replaying the log's channel events at start: keeps only the members on runs of nodes that are alive
    /// (a user of a node that crashed, or of an earlier run of a restarted node, never quit in the log).
    public mutating func keepRemoteMembers(onRuns alive: Set<String>) {
        var present: Set<String> = []
        for (key, var channel) in self.channels {
            channel.remoteMembers = channel.remoteMembers.filter { alive.contains($0.value.run) }
            present.formUnion(channel.remoteMembers.keys)
            self.channels[key] = channel.memberCount == 0 ? nil : channel
        }
        self.remoteAway = self.remoteAway.filter { present.contains($0.key) }
    }

    /// Removes a remote user from `keys` and tells each local member of those channels once.
    mutating func quitRemoteMember(
        _ folded: String,
        from keys: [ChannelKey],
        message: IRCMessage,
        into outbox: inout Outbox
    ) {
        var told: Set<SessionID> = []
        for key in keys {
            guard let channel = self.channels[key] else { continue }
            outbox.broadcast(message, to: channel.members.keys.filter { told.insert($0).inserted })
            self.removeRemoteMember(folded, from: key)
        }
        self.remoteAway[folded] = nil
    }

    /// Node `node` left the cluster or was lost: its users quit every channel here, with a reason that says so.
    public mutating func remoteNodeGone(_ node: String, lost: Bool, now: Timestamp, into outbox: inout Outbox) {
        self.remoteNicks = self.remoteNicks.filter { $0.value.node != node }
        var quits: [String: (prefix: String, keys: [ChannelKey])] = [:]
        for (key, channel) in self.channels {
            for (folded, member) in channel.remoteMembers where member.node == node {
                quits[folded, default: (member.prefix, [])].keys.append(key)
            }
        }
        let reason = lost ? "Node \(node) was lost" : "Node \(node) left the cluster"
        for (folded, quit) in quits.sorted(by: { $0.key < $1.key }) {
            let message = IRCMessage(
                tags: [IRCTag("time", now.serverTime)],
                source: quit.prefix,
                command: .quit,
                parameters: [reason]
            )
            self.quitRemoteMember(folded, from: quit.keys, message: message, into: &outbox)
        }
    }

    /// When an event happened, by its `time` tag.
    static func time(of event: IRCMessage) -> Timestamp {
        Timestamp(millisecondsSince1970: event.tag("time").flatMap(IRCTimestamp.parse) ?? 0)
    }

    mutating func removeRemoteMember(_ folded: String, from key: ChannelKey) {
        guard var channel = self.channels[key] else { return }
        channel.remoteMembers[folded] = nil
        self.channels[key] = channel.memberCount == 0 ? nil : channel
    }

    /// A MODE change as another node committed it (already checked there): flags, key, limit, lists and member
    /// status, for local and remote members alike.
    private func applyRelayedModes(
        _ parameters: [String],
        setter: String,
        event: IRCMessage,
        to channel: inout Channel
    ) {
        guard let changes = parameters.first else { return }
        let time = Self.time(of: event)
        var arguments = parameters.dropFirst().makeIterator()
        var adding = true
        for letter in changes {
            switch letter {
            case "+", "-":
                adding = letter == "+"
            case "b", "e", "I":
                guard let mask = arguments.next() else { continue }
                var list = letter == "b" ? channel.bans : letter == "e" ? channel.exceptions : channel.inviteExceptions
                list.removeAll { CaseMapping.fold($0.mask) == CaseMapping.fold(mask) }
                if adding { list.append(Channel.MaskEntry(mask: mask, setter: setter, time: time)) }
                switch letter {
                case "b": channel.bans = list
                case "e": channel.exceptions = list
                default: channel.inviteExceptions = list
                }
            case "o", "v":
                guard let nick = arguments.next() else { continue }
                let flag: Channel.Status = letter == "o" ? .op : .voice
                if let local = self.session(named: nick), var status = channel.members[local.id] {
                    if adding { status.insert(flag) } else { status.remove(flag) }
                    channel.members[local.id] = status
                } else if var member = channel.remoteMembers[NickKey(nick).folded] {
                    if adding { member.status.insert(flag) } else { member.status.remove(flag) }
                    channel.remoteMembers[NickKey(nick).folded] = member
                }
            case "k":
                let value = arguments.next()
                channel.key = adding ? value : nil
            case "l":
                channel.limit = adding ? arguments.next().flatMap { Int($0) } : nil
            default:
                guard let flag = Channel.Flags.letters.first(where: { $0.0 == letter })?.1 else { continue }
                if adding { channel.flags.insert(flag) } else { channel.flags.remove(flag) }
            }
        }
    }
}
