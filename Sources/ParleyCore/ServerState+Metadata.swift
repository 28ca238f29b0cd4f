import ParleyIRC

/// IRCv3 metadata (`draft/metadata-3`; its `metadata` batches name their target, as irctest expects of the
/// current draft): key/value pairs on users (their own) and channels (set by operators), such as
/// `display-name`, `avatar`, `pronouns`. Clients subscribe to the keys they show; a change reaches subscribers who
/// share a channel with the user, or are in the channel. Kept for as long as the user is connected or the channel
/// exists. Only clients that negotiated the capability hear of changes (as the specification asks).
extension ServerState {
    /// Keys shown in WHOIS (760): the ones a person reads.
    static let whoisMetadataKeys = ["display-name", "pronouns", "homepage"]

    mutating func metadata(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard session.isRegistered || session.caps.contains(.metadata) else {
            self.reply(request.id, .errNotRegistered, "You have not registered", into: &outbox)
            return
        }
        let parameters = request.parameters
        let subcommand = CaseMapping.asciiUppercased(parameters[1])
        let keys = parameters.dropFirst(2).map { $0.lowercased() }
        switch subcommand {
        case "SUB": self.subscribe(request.id, keys, into: &outbox)
        case "UNSUB": self.unsubscribe(request.id, keys, into: &outbox)
        case "SUBS":
            let subscribed = session.metadataSubscriptions.sorted()
            for chunk in stride(from: 0, to: subscribed.count, by: 10) {
                let part = Array(subscribed[chunk..<min(chunk + 10, subscribed.count)])
                self.reply(request.id, .rplMetadataSubs, part, into: &outbox)
            }
        case "GET", "LIST", "SYNC", "SET", "CLEAR":
            guard let target = self.metadataTarget(parameters[0], for: session) else {
                outbox.send(
                    self.fail("METADATA", "INVALID_TARGET", "Invalid metadata target", context: [parameters[0]]),
                    to: request.id
                )
                return
            }
            switch subcommand {
            case "GET", "LIST", "SYNC":
                self.readMetadata(subcommand, target, keys: keys, for: session, into: &outbox)
            default:
                self.changeMetadata(
                    target,
                    key: subcommand == "SET" ? keys.first : nil,
                    value: subcommand == "SET" ? request.message.parameter(3) : nil,
                    clear: subcommand == "CLEAR",
                    by: session,
                    into: &outbox
                )
            }
        default:
            outbox.send(
                self.fail("METADATA", "INVALID_SUBCOMMAND", "Invalid subcommand", context: [parameters[1]]),
                to: request.id
            )
        }
    }

    /// A target: `*` or one's own nick, another user, or a channel.
    enum MetadataTarget {
        case user(SessionID, name: String)
        case channel(ChannelKey, name: String)
    }

    private func metadataTarget(_ name: String, for session: Session) -> MetadataTarget? {
        if name == "*" { return .user(session.id, name: session.displayNick) }
        if IRCName.isChannel(name) {
            return self.channels[ChannelKey(name)].map { .channel(ChannelKey(name), name: $0.name) }
        }
        if let nick = session.nick, NickKey(nick) == NickKey(name) { return .user(session.id, name: nick) }
        return self.session(named: name).flatMap { $0.isRegistered ? .user($0.id, name: $0.displayNick) : nil }
    }

    private func metadataValues(_ target: MetadataTarget) -> [String: String] {
        switch target {
        case .user(let id, _): return self.sessions[id]?.metadata ?? [:]
        case .channel(let key, _): return self.channels[key]?.metadata ?? [:]
        }
    }

    private static func targetName(_ target: MetadataTarget) -> String {
        switch target {
        case .user(_, let name), .channel(_, let name): return name
        }
    }

    /// Whether `session` may read `target`'s metadata: any user's, a channel's if it is a member or the channel is
    /// neither secret nor invite-only.
    private func mayRead(_ target: MetadataTarget, _ session: Session) -> Bool {
        guard case .channel(let key, _) = target, let channel = self.channels[key] else { return true }
        return channel.members[session.id] != nil || channel.flags.isDisjoint(with: [.secret, .inviteOnly])
    }

    static func isValidMetadataKey(_ key: String) -> Bool {
        !key.isEmpty && key.first != ":" && key.utf8.count <= 64
            && key.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_.:-".unicodeScalars.contains($0)
            }
    }

    private mutating func readMetadata(
        _ subcommand: String,
        _ target: MetadataTarget,
        keys: [String],
        for session: Session,
        into outbox: inout Outbox
    ) {
        let name = Self.targetName(target)
        guard self.mayRead(target, session) else {
            outbox.send(
                self.fail(
                    "METADATA",
                    "KEY_NO_PERMISSION",
                    "You cannot read the metadata of \(name)",
                    context: [name, "*"]
                ),
                to: session.id
            )
            return
        }
        let values = self.metadataValues(target)
        var lines: [IRCMessage] = []
        switch subcommand {
        case "GET":
            guard !keys.isEmpty else {
                self.reply(session.id, .errNeedMoreParams, "METADATA", "Not enough parameters", into: &outbox)
                return
            }
            for key in keys {
                if !Self.isValidMetadataKey(key) {
                    lines.append(self.fail("METADATA", "INVALID_KEY", "Invalid key", context: [key]))
                } else if let value = values[key] {
                    lines.append(self.numeric(.rplKeyValue, to: session, [name, key, "*", value]))
                } else {
                    lines.append(self.numeric(.rplKeyNotSet, to: session, [name, key, "key not set"]))
                }
            }
        case "LIST":
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                lines.append(self.numeric(.rplKeyValue, to: session, [name, key, "*", value]))
            }
        default:  // SYNC: what it subscribed to, of the target and, for a channel, of its members
            lines = self.subscribedValues(of: target, for: session)
            if case .channel(let key, _) = target, let channel = self.channels[key] {
                for id in channel.members.keys where id != session.id {
                    guard let member = self.sessions[id] else { continue }
                    lines += self.subscribedValues(of: .user(id, name: member.displayNick), for: session)
                }
            }
        }
        self.sendBatch(to: session, type: "metadata", parameters: [name], messages: lines, label: nil, into: &outbox)
    }

    /// The values of `target` for the keys `session` subscribed to, as 761 lines.
    private func subscribedValues(of target: MetadataTarget, for session: Session) -> [IRCMessage] {
        let subscribed = session.metadataSubscriptions
        guard !subscribed.isEmpty else { return [] }
        return self.metadataValues(target).filter { subscribed.contains($0.key) }.sorted { $0.key < $1.key }.map {
            self.numeric(.rplKeyValue, to: session, [Self.targetName(target), $0.key, "*", $0.value])
        }
    }

    private func numeric(_ numeric: IRCNumeric, to session: Session, _ parameters: [String]) -> IRCMessage {
        IRCMessage(
            source: self.configuration.serverName,
            command: IRCCommand(numeric),
            parameters: [session.displayNick] + parameters
        )
    }

    /// SET (a value, or none to remove the key) and CLEAR: on oneself, or on a channel one operates.
    private mutating func changeMetadata(
        _ target: MetadataTarget,
        key: String?,
        value: String?,
        clear: Bool,
        by session: Session,
        into outbox: inout Outbox
    ) {
        let name = Self.targetName(target)
        func refuse(_ code: String, _ context: [String], _ text: String) {
            outbox.send(self.fail("METADATA", code, text, context: context), to: session.id)
        }
        let allowed: Bool
        switch target {
        case .user(let id, _): allowed = id == session.id
        case .channel(let key, _): allowed = self.channels[key]?.members[session.id]?.contains(.op) == true
        }
        guard allowed else {
            return refuse(
                "KEY_NO_PERMISSION",
                [name, clear ? "*" : key ?? "*"],
                "You may not change the metadata of \(name)"
            )
        }
        var values = self.metadataValues(target)
        var changed: [(key: String, value: String?)] = []
        if clear {
            changed = values.keys.sorted().map { ($0, nil) }
            values = [:]
        } else {
            guard let key else {
                self.reply(session.id, .errNeedMoreParams, "METADATA", "Not enough parameters", into: &outbox)
                return
            }
            guard Self.isValidMetadataKey(key) else { return refuse("INVALID_KEY", [key], "Invalid key") }
            let limits = self.configuration.metadata
            if let value {
                guard value.utf8.count <= limits.maximumValueBytes else {
                    return refuse("INVALID_VALUE", [key], "Values are at most \(limits.maximumValueBytes) bytes")
                }
                if case .user = target, values[key] == nil, values.count >= limits.maximumKeys {
                    return refuse("LIMIT_REACHED", [name], "At most \(limits.maximumKeys) keys")
                }
                values[key] = value
            } else {
                values[key] = nil
            }
            changed = [(key, value)]
        }
        switch target {
        case .user(let id, _): self.sessions[id]?.metadata = values
        case .channel(let channelKey, _): self.channels[channelKey]?.metadata = values
        }
        let answers = changed.map { change in
            change.value.map { self.numeric(.rplKeyValue, to: session, [name, change.key, "*", $0]) }
                ?? self.numeric(.rplKeyNotSet, to: session, [name, change.key, "key not set"])
        }
        if clear {
            self.sendBatch(
                to: session,
                type: "metadata",
                parameters: [name],
                messages: answers,
                label: nil,
                into: &outbox
            )
        } else {
            for answer in answers { outbox.send(answer, to: session.id) }
        }
        self.notifySubscribers(of: target, changed, except: session.id, into: &outbox)
    }

    /// Everyone who sees `target` (shares a channel with the user, or is in the channel) and subscribed to a key
    /// that changed hears of it.
    private mutating func notifySubscribers(
        of target: MetadataTarget,
        _ changed: [(key: String, value: String?)],
        except setter: SessionID,
        into outbox: inout Outbox
    ) {
        let audience: [SessionID]
        switch target {
        case .user(let id, _):
            guard let user = self.sessions[id] else { return }
            audience = self.peers(of: user) { $0.caps.contains(.metadata) && !$0.metadataSubscriptions.isEmpty }
        case .channel(let key, _):
            guard let channel = self.channels[key] else { return }
            audience = self.members(of: channel, except: nil) {
                $0.caps.contains(.metadata) && !$0.metadataSubscriptions.isEmpty
            }
        }
        let name = Self.targetName(target)
        for id in audience where id != setter {
            guard let viewer = self.sessions[id] else { continue }
            for change in changed where viewer.metadataSubscriptions.contains(change.key) {
                let line =
                    change.value.map { self.numeric(.rplKeyValue, to: viewer, [name, change.key, "*", $0]) }
                    ?? self.numeric(.rplKeyNotSet, to: viewer, [name, change.key, "key not set"])
                outbox.send(line, to: id)
            }
        }
    }

    private mutating func subscribe(_ id: SessionID, _ keys: [String], into outbox: inout Outbox) {
        guard !keys.isEmpty else {
            self.reply(id, .errNeedMoreParams, "METADATA", "Not enough parameters", into: &outbox)
            return
        }
        var subscribed = self.sessions[id]?.metadataSubscriptions ?? []
        var accepted: [String] = []
        for key in keys {
            guard Self.isValidMetadataKey(key) else {
                outbox.send(self.fail("METADATA", "INVALID_KEY", "Invalid key", context: [key]), to: id)
                continue
            }
            if !subscribed.contains(key) && subscribed.count >= self.configuration.metadata.maximumSubscriptions {
                outbox.send(self.fail("METADATA", "TOO_MANY_SUBS", "Too many subscriptions", context: [key]), to: id)
                break
            }
            subscribed.insert(key)
            accepted.append(key)
        }
        self.sessions[id]?.metadataSubscriptions = subscribed
        if !accepted.isEmpty { self.reply(id, .rplMetadataSubOK, accepted, into: &outbox) }
    }

    private mutating func unsubscribe(_ id: SessionID, _ keys: [String], into outbox: inout Outbox) {
        guard !keys.isEmpty else {
            self.reply(id, .errNeedMoreParams, "METADATA", "Not enough parameters", into: &outbox)
            return
        }
        var subscribed = self.sessions[id]?.metadataSubscriptions ?? []
        var removed: [String] = []
        for key in keys {
            guard Self.isValidMetadataKey(key) else {
                outbox.send(self.fail("METADATA", "INVALID_KEY", "Invalid key", context: [key]), to: id)
                continue
            }
            subscribed.remove(key)
            removed.append(key)
        }
        self.sessions[id]?.metadataSubscriptions = subscribed
        if !removed.isEmpty { self.reply(id, .rplMetadataUnsubOK, removed, into: &outbox) }
    }

    /// On JOIN: the joiner gets the channel's and its members' values of the keys it subscribed to, and the members
    /// who subscribed get the joiner's.
    mutating func metadataOnJoin(_ id: SessionID, channel key: ChannelKey, into outbox: inout Outbox) {
        guard let joiner = self.sessions[id], let channel = self.channels[key] else { return }
        if joiner.caps.contains(.metadata) && !joiner.metadataSubscriptions.isEmpty {
            var lines = self.subscribedValues(of: .channel(key, name: channel.name), for: joiner)
            for member in channel.members.keys where member != id {
                guard let other = self.sessions[member], !other.metadata.isEmpty else { continue }
                lines += self.subscribedValues(of: .user(member, name: other.displayNick), for: joiner)
            }
            for line in lines { outbox.send(line, to: id) }
        }
        guard !joiner.metadata.isEmpty else { return }
        for member in channel.members.keys where member != id {
            guard let other = self.sessions[member], other.caps.contains(.metadata),
                !other.metadataSubscriptions.isEmpty,
                other.channels.intersection(joiner.channels).count == 1
            else { continue }  // one shared channel: this one, so it had not seen the joiner's values
            for line in self.subscribedValues(of: .user(id, name: joiner.displayNick), for: other) {
                outbox.send(line, to: member)
            }
        }
    }

    /// After the welcome: a client with the capability gets its own metadata (set before registering) in a batch.
    mutating func metadataOnWelcome(_ id: SessionID, into outbox: inout Outbox) {
        guard let session = self.sessions[id], session.caps.contains(.metadata) else { return }
        let lines = session.metadata.sorted { $0.key < $1.key }.map {
            self.numeric(.rplKeyValue, to: session, [session.displayNick, $0.key, "*", $0.value])
        }
        let batch = [session.displayNick]
        self.sendBatch(to: session, type: "metadata", parameters: batch, messages: lines, label: nil, into: &outbox)
    }

    /// WHOIS: the keys a person reads (760).
    func whoisMetadata(of target: Session) -> [(key: String, value: String)] {
        Self.whoisMetadataKeys.compactMap { key in target.metadata[key].map { (key, $0) } }
    }
}
