import ParleyCore
import ParleyIRC
import ParleyStore

/// The two directions between a relayed IRC message and its stored record.
extension StoredMessage {
    /// The record of `message` as it was relayed (time, msgid, client tags, source, target, text).
    init(relayed message: IRCMessage, target: String) {
        // Conversation keeps its target and text apart (the text is what search indexes); a channel event keeps
        // its parameters as one serialized tail.
        let isContent = Self.contentCommands.contains(message.command)
        var clientTags: [String] = []
        for tag in message.tags where tag.isClientOnly {
            clientTags.append(tag.value.isEmpty ? tag.key : tag.key + "=" + IRCTagEscaping.escape(tag.value))
        }
        self.init(
            msgid: message.tag("msgid") ?? "",
            target: target,
            time: message.tag("time").flatMap(IRCTimestamp.parse) ?? 0,
            sender: message.source ?? "",
            account: message.tag("account"),
            command: message.command.rawValue,
            recipient: isContent ? message.parameter(0) ?? "" : "",
            text: isContent ? message.parameter(1) ?? "" : Self.serialize(message.parameters),
            tags: clientTags.joined(separator: ";")
        )
    }

    static let contentCommands: Set<IRCCommand> = [.privmsg, .notice, .tagmsg]

    /// Parameters as they appear on the wire after the command (the last one with `:` when it needs it).
    static func serialize(_ parameters: [String]) -> String {
        String(IRCMessage(command: "X", parameters: parameters).line.dropFirst(2))
    }

    /// The message as it was relayed, to replay it.
    var relayed: IRCMessage {
        var tags = [
            IRCTag("time", IRCTimestamp.format(millisecondsSince1970: self.time)),
            IRCTag("msgid", self.msgid),
        ]
        if let account = self.account { tags.append(IRCTag("account", account)) }
        for field in self.tags.split(separator: ";") {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard !parts[0].isEmpty else { continue }
            tags.append(IRCTag(String(parts[0]), parts.count > 1 ? IRCTagEscaping.unescape(String(parts[1])) : ""))
        }
        let command = IRCCommand(rawValue: self.command)
        let parameters: [String]
        if command == .tagmsg {
            parameters = [self.recipient]
        } else if Self.contentCommands.contains(command) {
            parameters = [self.recipient, self.text]
        } else {
            parameters = (try? IRCParser.parse("X " + self.text).parameters) ?? []
        }
        return IRCMessage(tags: tags, source: self.sender, command: command, parameters: parameters)
    }
}

extension HistoryPoint {
    init(_ point: HistoryQuery.Point) {
        switch point {
        case .msgid(let msgid): self = .msgid(msgid)
        case .timestamp(let time): self = .timestamp(time)
        }
    }
}

extension MessageStore {
    /// Runs `query` against this store.
    func answer(_ query: HistoryQuery) async throws -> [StoredMessage] {
        switch query.kind {
        case .latest(let bound):
            return try await self.latest(
                query.target,
                after: bound.map(HistoryPoint.init),
                limit: query.limit,
                events: query.events
            )
        case .before(let point):
            return try await self.before(query.target, HistoryPoint(point), limit: query.limit, events: query.events)
        case .after(let point):
            return try await self.after(query.target, HistoryPoint(point), limit: query.limit, events: query.events)
        case .around(let point):
            return try await self.around(query.target, HistoryPoint(point), limit: query.limit, events: query.events)
        case .between(let start, let end):
            return try await self.between(
                query.target,
                HistoryPoint(start),
                HistoryPoint(end),
                limit: query.limit,
                events: query.events
            )
        case .targets:
            return []
        case .search(let sender, let text, let after, let before):
            return try await self.search(
                SearchQuery(
                    targets: query.channels,
                    directFor: query.owner.isEmpty ? nil : query.owner,
                    sender: sender,
                    text: text,
                    after: after,
                    before: before,
                    limit: query.limit
                )
            )
        }
    }
}

extension ChannelRecord {
    init(registration: ChannelRegistration) {
        self.init(
            name: ChannelKey(registration.name).folded,
            displayName: registration.name,
            founder: registration.founder,
            createdAt: registration.registeredAt,
            topic: registration.topic,
            topicSetter: registration.topicSetter,
            topicTime: registration.topicTime,
            modes: registration.modes,
            key: registration.key,
            limit: registration.limit,
            bans: registration.bans
        )
    }
}

extension ChannelRegistration {
    init(record: ChannelRecord) {
        self.init(
            name: record.displayName,
            founder: record.founder,
            registeredAt: record.createdAt,
            topic: record.topic,
            topicSetter: record.topicSetter,
            topicTime: record.topicTime,
            modes: record.modes,
            key: record.key,
            limit: record.limit,
            bans: record.bans
        )
    }
}
