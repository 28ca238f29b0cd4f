public import ParleyIRC

/// `draft/chathistory` and the replay on JOIN. The core only checks the request and asks the host
/// (``Outbox/Action/queryHistory(_:)``); the answer comes back through ``historyLoaded(_:messages:into:)``.
extension ServerState {
    mutating func chathistory(_ request: Request, _ outbox: inout Outbox) {
        guard let settings = self.configuration.history, let session = self.sessions[request.id] else {
            self.reply(request.id, .errUnknownCommand, "CHATHISTORY", "Unknown command", into: &outbox)
            return
        }
        let parameters = request.parameters
        let subcommand = CaseMapping.asciiUppercased(parameters[0])
        func fail(_ code: String, _ context: [String], _ description: String) {
            outbox.send(self.fail("CHATHISTORY", code, description, context: context), to: request.id)
        }
        let needed = ["LATEST": 4, "BEFORE": 4, "AFTER": 4, "AROUND": 4, "BETWEEN": 5, "TARGETS": 4][subcommand]
        guard let needed else {
            fail(
                "INVALID_PARAMS",
                [parameters[0]],
                "Unknown subcommand: use LATEST, BEFORE, AFTER, AROUND, BETWEEN or TARGETS"
            )
            return
        }
        guard parameters.count >= needed else {
            fail("NEED_MORE_PARAMS", [subcommand], "Not enough parameters for CHATHISTORY \(subcommand)")
            return
        }
        guard let limit = Int(parameters[needed - 1]), limit > 0 else {
            fail("INVALID_PARAMS", [subcommand, parameters[needed - 1]], "The limit must be a positive number")
            return
        }
        var query = HistoryQuery(
            session: request.id,
            target: "",
            name: "",
            kind: .latest(after: nil),
            limit: min(limit, settings.queryLimit),
            purpose: .chathistory
        )
        query.events = session.caps.contains(.eventPlayback)
        func point(_ index: Int, allowStar: Bool = false) -> HistoryQuery.Point?? {
            let text = parameters[index]
            if allowStar && text == "*" { return .some(nil) }
            if text.hasPrefix("msgid="), text.count > 6 { return .msgid(String(text.dropFirst(6))) }
            if text.hasPrefix("timestamp="), let time = IRCTimestamp.parse(String(text.dropFirst(10))) {
                return .timestamp(time)
            }
            fail("INVALID_PARAMS", [subcommand, text], "Expected msgid=… or timestamp=…\(allowStar ? " or *" : "")")
            return nil
        }
        if subcommand == "TARGETS" {
            // Each bound is checked once, so a bad one is answered once.
            guard let start = point(1), let end = point(2) else { return }
            guard case .timestamp(let first)? = start, case .timestamp(let second)? = end else {
                fail("INVALID_PARAMS", [subcommand], "TARGETS takes two timestamp= bounds")
                return
            }
            query.kind = .targets(from: min(first, second), to: max(first, second))
            query.channels = session.channels.map(\.folded)
            query.since = self.historyFloors(session.channels)
            query.owner = self.historyOwner(session)
            outbox.actions.append(.effect(AnyEffect(query)))
            return
        }
        let name = parameters[1]
        if IRCName.isChannel(name) {
            let key = ChannelKey(name)
            guard let channel = self.channels[key], channel.members[request.id] != nil else {
                fail("INVALID_TARGET", [subcommand, name], "You can only read the history of a channel you are in")
                return
            }
            query.target = key.folded
            query.name = channel.name
            query.since = self.historyFloors([key])
        } else {
            guard IRCName.isValidNickname(name, maximumLength: self.configuration.nickLength) else {
                fail("INVALID_TARGET", [subcommand, name], "No such channel or nick")
                return
            }
            // This user's own copy of the conversation with whoever used that nick: never another person's.
            query.target =
                HistoryTarget.conversation(owner: self.historyOwner(session), correspondent: NickKey(name).folded)
                .storageKey
            query.name = name
        }
        switch subcommand {
        case "LATEST":
            guard let bound = point(2, allowStar: true) else { return }
            query.kind = .latest(after: bound)
        case "BEFORE":
            guard let bound = point(2), let bound else { return }
            query.kind = .before(bound)
        case "AFTER":
            guard let bound = point(2), let bound else { return }
            query.kind = .after(bound)
        case "AROUND":
            guard let bound = point(2), let bound else { return }
            query.kind = .around(bound)
        default:
            guard let start = point(2), let start, let end = point(3), let end else { return }
            query.kind = .between(start, end)
        }
        if let floor = query.since[query.target] { query.kind = query.kind.clamped(to: floor) }
        outbox.actions.append(.effect(AnyEffect(query)))
    }

    /// The floors of ``HistoryQuery/since`` for `channels`: when each last ended.
    func historyFloors(_ channels: some Sequence<ChannelKey>) -> [String: Int64] {
        var floors: [String: Int64] = [:]
        for key in channels {
            if let end = self.channelEnds[key.folded] { floors[key.folded] = end }
        }
        return floors
    }

    /// The last member left an unregistered channel (by PART, KICK or QUIT, not because the server stopped): that
    /// incarnation's history ends, for good. Whoever creates the channel again reads nothing said before, nor its old
    /// key in a MODE line. A registered channel keeps its history across empty periods. The end is stored as an
    /// `ENDED` row in the channel's history (never shown), so it holds after a restart and other nodes learn it.
    mutating func endIncarnation(of key: ChannelKey, now: Timestamp, into outbox: inout Outbox) {
        guard self.configuration.history != nil, !self.shuttingDown, self.registeredChannels[key] == nil else { return }
        self.channelEnds[key.folded] = now.millisecondsSince1970
        let marker = IRCMessage(
            tags: [IRCTag("time", now.serverTime), IRCTag("msgid", self.nextMessageID())],
            source: self.configuration.serverName,
            command: Self.endedCommand,
            parameters: [key.folded]
        )
        outbox.actions.append(.persist(marker, target: key.folded, deliverTo: nil))
    }

    static let endedCommand = IRCCommand(rawValue: "ENDED")

    /// When each channel last ended, read from the store at start.
    public mutating func loadChannelEnds(_ ends: [String: Int64]) {
        self.channelEnds = ends
    }

    /// The server is stopping: the channels its users leave now are not ended.
    public mutating func beginShutdown() {
        self.shuttingDown = true
    }

    /// Records again channel events (JOIN, PART, QUIT, NICK, …) whose record failed while the database was away:
    /// they took effect here, and in a cluster the other nodes learn of them only from the log. Each gets a new msgid,
    /// as the failed attempt may have been stored after all.
    public mutating func recordAgain(_ events: [(IRCMessage, target: String)], into outbox: inout Outbox) {
        for (event, target) in events {
            var again = event
            again.tags.removeAll { $0.key == "msgid" }
            again.tags.append(IRCTag("msgid", self.nextMessageID()))
            outbox.actions.append(.persist(again, target: target, deliverTo: nil))
        }
    }

    /// With history on, gives a channel event (JOIN, PART, KICK, QUIT, NICK, TOPIC, MODE) a msgid and stores it in the
    /// history of each channel it happened in, for `draft/event-playback`. Each stored copy needs its own msgid, so
    /// copies after the first get a `.N` suffix.
    mutating func recordEvent(
        _ event: inout IRCMessage,
        in channels: some Sequence<ChannelKey>,
        into outbox: inout Outbox
    ) {
        guard self.configuration.history != nil else { return }
        let msgid = self.nextMessageID()
        event.tags.append(IRCTag("msgid", msgid))
        var copy = event
        for (index, key) in channels.enumerated() {
            copy.tags[copy.tags.count - 1].value = index == 0 ? msgid : "\(msgid).\(index)"
            outbox.actions.append(.persist(copy, target: key.folded, deliverTo: nil))
        }
    }

    /// Whether a stored message is conversation (not a channel event): what clients without event-playback get.
    static func isContent(_ message: IRCMessage) -> Bool {
        message.command == .privmsg || message.command == .notice || message.command == .tagmsg
    }

    /// After a JOIN: replay the channel's last lines to a client that cannot ask for them itself. Only clients with
    /// server-time get them: they can show when each line was said, while a bare client (often a bot) would take
    /// old lines for new ones.
    mutating func replayOnJoin(_ id: SessionID, channel: Channel, into outbox: inout Outbox) {
        guard let settings = self.configuration.history, settings.replayOnJoin > 0,
            let session = self.sessions[id], !session.caps.contains(.chathistory), session.caps.contains(.serverTime)
        else { return }
        var query = HistoryQuery(
            session: id,
            target: ChannelKey(channel.name).folded,
            name: channel.name,
            kind: .latest(after: nil),
            limit: settings.replayOnJoin,
            purpose: .join
        )
        query.since = self.historyFloors([ChannelKey(channel.name)])
        outbox.actions.append(.effect(AnyEffect(query)))
    }

    /// The answer to a history query: stored messages, oldest first, rebuilt as they were relayed.
    public mutating func historyLoaded(_ query: HistoryQuery, messages: [IRCMessage], into outbox: inout Outbox) {
        guard let session = self.sessions[query.session] else { return }
        let events = query.purpose != .join && session.caps.contains(.eventPlayback)
        let visible = messages.filter { message in
            if message.command == .tagmsg { return session.caps.contains(.messageTags) }
            // A cluster logs AWAY only so its nodes learn it; it is not part of a channel's history.
            if message.command == .away || message.command == Self.endedCommand { return false }
            return events || Self.isContent(message)
        }
        if query.purpose == .join && visible.isEmpty { return }
        let isSearch = query.purpose == .search
        self.sendBatch(
            to: session,
            type: isSearch ? "soju.im/search" : "chathistory",
            parameters: isSearch ? [] : [query.name],
            messages: visible,
            label: query.label,
            into: &outbox
        )
    }

    /// The answer to `CHATHISTORY TARGETS`: storage keys with the time of their latest message, oldest first.
    public mutating func historyTargetsLoaded(
        _ query: HistoryQuery,
        targets: [(target: String, time: Int64)],
        into outbox: inout Outbox
    ) {
        guard let session = self.sessions[query.session] else { return }
        var lines: [IRCMessage] = []
        for (target, time) in targets {
            let name: String
            if case .conversation(query.owner, let other) = HistoryTarget(storageKey: target) {
                name = self.session(named: other)?.displayNick ?? other
            } else {
                name = self.channels[ChannelKey(target)]?.name ?? target
            }
            lines.append(
                IRCMessage(
                    source: self.configuration.serverName,
                    command: .chathistory,
                    parameters: ["TARGETS", name, IRCTimestamp.format(millisecondsSince1970: time)]
                )
            )
        }
        self.sendBatch(
            to: session,
            type: "draft/chathistory-targets",
            parameters: [],
            messages: lines,
            label: query.label,
            into: &outbox
        )
    }

    /// The store could not answer.
    public mutating func historyFailed(_ query: HistoryQuery, reason: String, into outbox: inout Outbox) {
        guard query.purpose != .join else { return }
        let isSearch = query.purpose == .search
        var failure = self.fail(
            isSearch ? "SEARCH" : "CHATHISTORY",
            isSearch ? "INTERNAL_ERROR" : "MESSAGE_ERROR",
            "History is unavailable: \(reason)",
            context: [query.target.isEmpty ? "TARGETS" : query.name]
        )
        if let label = query.label { failure.tags.insert(IRCTag("label", label), at: 0) }
        outbox.send(failure, to: query.session)
    }

    /// `messages` in a batch of `type` when the client takes batches, else one by one; the label goes on the batch
    /// (or the first line, or an `ACK` when there is nothing).
    mutating func sendBatch(
        to session: Session,
        type: String,
        parameters: [String],
        messages: [IRCMessage],
        label: String?,
        into outbox: inout Outbox
    ) {
        let labelTag = label.map { [IRCTag("label", $0)] } ?? []
        guard session.caps.contains(.batch) else {
            if messages.isEmpty, !labelTag.isEmpty {
                outbox.send(
                    IRCMessage(tags: labelTag, source: self.configuration.serverName, command: "ACK"),
                    to: session.id
                )
            }
            var first = true
            for message in messages {
                for var piece in self.pieces(of: message, for: session) {
                    if first { piece.tags.insert(contentsOf: labelTag, at: 0) }
                    first = false
                    outbox.send(piece, to: session.id)
                }
            }
            return
        }
        let reference = self.nextMessageID()
        outbox.send(
            IRCMessage(
                tags: labelTag,
                source: self.configuration.serverName,
                command: .batch,
                parameters: ["+" + reference, type] + parameters
            ),
            to: session.id
        )
        for message in messages {
            // A multiline message is a batch nested in this one: only its opening and closing lines are tagged
            // with this batch, its lines belong to their own.
            for var piece in self.pieces(of: message, for: session) {
                if !piece.tags.contains(where: { $0.key == "batch" }) {
                    piece.tags.insert(IRCTag("batch", reference), at: 0)
                }
                outbox.send(piece, to: session.id)
            }
        }
        outbox.send(
            IRCMessage(source: self.configuration.serverName, command: .batch, parameters: ["-" + reference]),
            to: session.id
        )
    }
}
