import ParleyIRC

/// What a logged-in reader gets besides live messages: DMs kept while offline, read markers (`draft/read-marker`)
/// and search (`soju.im/search`).
extension ServerState {
    // MARK: Offline DMs

    /// Asks for the DMs kept for `id`'s account, once it is both registered and logged in.
    mutating func requestPendingDeliveries(_ id: SessionID, into outbox: inout Outbox) {
        guard self.configuration.history != nil, let session = self.sessions[id], session.isRegistered,
            let account = session.account
        else { return }
        outbox.actions.append(.effect(AnyEffect(PendingDeliveryRequest(session: id, account: NickKey(account).folded))))
    }

    /// The DMs that arrived while the account was offline, oldest first, each with its original time; `through` is
    /// the store's sequence of the last. They stay kept until the session answers the PING that follows them (so
    /// it has read everything before it): one that drops first gets them again at the next login.
    public mutating func pendingDelivered(
        _ id: SessionID,
        messages: [IRCMessage],
        through: Int64,
        into outbox: inout Outbox
    ) {
        guard !messages.isEmpty, let session = self.sessions[id], let account = session.account else { return }
        let count = messages.count
        self.serviceNotice(
            Self.nickServ,
            to: id,
            "\(count) message\(count == 1 ? "" : "s") arrived while you were away:",
            into: &outbox
        )
        for message in messages {
            for piece in self.pieces(of: message, for: session) { outbox.send(piece, to: id) }
        }
        self.sessions[id]?.deliveredPending = (NickKey(account).folded, through)
        outbox.send(
            IRCMessage(command: .ping, parameters: [Self.deliveredToken + String(through)]),
            to: id
        )
    }

    static let deliveredToken = "parley-delivered-"

    /// A PONG: when it answers the PING after the offline DMs, they reached the client.
    mutating func pong(_ request: Request, _ outbox: inout Outbox) {
        guard let (account, through) = self.sessions[request.id]?.deliveredPending,
            request.message.parameters.last == Self.deliveredToken + String(through)
        else { return }
        self.sessions[request.id]?.deliveredPending = nil
        outbox.actions.append(.acknowledgePending(account: account, through: through))
    }

    /// The store could not hand over what arrived while the account was away: it stays pending for the next login.
    public mutating func pendingDeliveryFailed(_ id: SessionID, into outbox: inout Outbox) {
        guard self.sessions[id] != nil else { return }
        self.serviceNotice(
            Self.nickServ,
            to: id,
            "Messages that arrived while you were away could not be loaded now; they are kept for your next login.",
            into: &outbox
        )
    }

    // MARK: Read markers

    mutating func markread(_ request: Request, _ outbox: inout Outbox) {
        guard self.configuration.accounts != nil else {
            self.reply(request.id, .errUnknownCommand, "MARKREAD", "Unknown command", into: &outbox)
            return
        }
        guard let session = self.sessions[request.id] else { return }
        guard let name = request.message.parameter(0), !name.isEmpty else {
            outbox.send(self.fail("MARKREAD", "NEED_MORE_PARAMS", "MARKREAD needs a target"), to: request.id)
            return
        }
        let key = IRCName.isChannel(name) ? ChannelKey(name).folded : NickKey(name).folded
        var set: Int64?
        if let value = request.message.parameter(1) {
            guard value.hasPrefix("timestamp="), let time = IRCTimestamp.parse(String(value.dropFirst(10))) else {
                outbox.send(
                    self.fail(
                        "MARKREAD",
                        "INVALID_PARAMS",
                        "The marker must be timestamp=YYYY-MM-DDThh:mm:ss.sssZ",
                        context: [name]
                    ),
                    to: request.id
                )
                return
            }
            set = time
        }
        guard let account = session.account else {
            // Without an account the marker lives as long as the connection.
            var markers = session.connectionReadMarkers
            if let set { markers[key] = max(markers[key] ?? set, set) }
            self.sessions[request.id]?.connectionReadMarkers = markers
            outbox.send(self.markreadMessage(name, markers[key]), to: request.id)
            return
        }
        let marker = ReadMarkerRequest(
            session: request.id,
            account: NickKey(account).folded,
            target: key,
            name: name,
            set: set
        )
        outbox.actions.append(.effect(AnyEffect(marker)))
    }

    func markreadMessage(_ name: String, _ time: Int64?) -> IRCMessage {
        let value = time.map { "timestamp=" + IRCTimestamp.format(millisecondsSince1970: $0) } ?? "*"
        return IRCMessage(source: self.configuration.serverName, .markread, name, value)
    }

    /// After a JOIN: tell a client that keeps read markers where it left off, before the end of NAMES (the spec's
    /// order). Returns whether the NAMES reply is left to the marker's answer (an account's marker is read from the
    /// store; NAMES is sent when it is in, so the client still gets MARKREAD first).
    mutating func sendReadMarker(_ id: SessionID, channel: Channel, names: Bool, into outbox: inout Outbox) -> Bool {
        guard let session = self.sessions[id], session.caps.contains(.readMarker) else { return false }
        let key = ChannelKey(channel.name).folded
        guard let account = session.account else {
            outbox.send(self.markreadMessage(channel.name, session.connectionReadMarkers[key]), to: id)
            return false
        }
        var request = ReadMarkerRequest(
            session: id,
            account: NickKey(account).folded,
            target: key,
            name: channel.name,
            set: nil
        )
        request.thenNames = names
        outbox.actions.append(.effect(AnyEffect(request)))
        return names
    }

    /// The marker as stored: a read goes back to the asker, a change to every session of the account.
    public mutating func readMarkerLoaded(_ request: ReadMarkerRequest, time: Int64?, into outbox: inout Outbox) {
        let message = self.markreadMessage(request.name, time)
        guard request.set != nil else {
            outbox.send(message, to: request.session)
            self.namesAfterMarker(request, into: &outbox)
            return
        }
        let recipients = self.sessions.values.filter { session in
            session.account.map { NickKey($0).folded } == request.account
                && (session.caps.contains(.readMarker) || session.id == request.session)
        }
        outbox.broadcast(message, to: recipients.map(\.id))
    }

    /// The NAMES reply a JOIN left to its marker's answer (the channel as it is now).
    private mutating func namesAfterMarker(_ request: ReadMarkerRequest, into outbox: inout Outbox) {
        guard request.thenNames, let channel = self.channels[ChannelKey(request.name)] else { return }
        self.sendNames(request.session, channel: channel, into: &outbox)
    }

    /// The store failed to read or save a marker: the client is told, and may try again.
    public mutating func readMarkerFailed(_ request: ReadMarkerRequest, into outbox: inout Outbox) {
        guard self.sessions[request.session] != nil else { return }
        let doing = request.set == nil ? "read" : "save"
        outbox.send(
            self.fail(
                "MARKREAD",
                "INTERNAL_ERROR",
                "Could not \(doing) the read marker; try again",
                context: [request.name]
            ),
            to: request.session
        )
        self.namesAfterMarker(request, into: &outbox)
    }

    // MARK: Search

    /// `SEARCH in=…;from=…;text=…;after=…;before=…;limit=…` (soju.im/search).
    mutating func search(_ request: Request, _ outbox: inout Outbox) {
        guard let settings = self.configuration.history, let session = self.sessions[request.id] else {
            self.reply(request.id, .errUnknownCommand, "SEARCH", "Unknown command", into: &outbox)
            return
        }
        func fail(_ text: String) {
            outbox.send(self.fail("SEARCH", "INVALID_PARAMS", text, context: [request.parameters[0]]), to: request.id)
        }
        var attributes: [String: String] = [:]
        for field in request.parameters[0].split(separator: ";") {
            // Not omitting empty pieces: `=x` is an attribute with an empty name (refused below), not a crash.
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            attributes[String(parts[0])] = parts.count > 1 ? IRCTagEscaping.unescape(String(parts[1])) : ""
        }
        let known: Set<String> = ["in", "from", "text", "after", "before", "limit"]
        if let unknown = attributes.keys.sorted().first(where: { !known.contains($0) }) {
            return fail(unknown.isEmpty ? "A search attribute has no name" : "Unknown search attribute \(unknown)")
        }
        func time(_ key: String) -> Int64?? {
            guard let text = attributes[key] else { return .some(nil) }
            guard let value = IRCTimestamp.parse(text) else { return nil }
            return .some(value)
        }
        guard let after = time("after"), let before = time("before") else {
            return fail("after= and before= take a timestamp like 2026-01-01T00:00:00.000Z")
        }
        var limit = settings.queryLimit
        if let text = attributes["limit"] {
            guard let value = Int(text), value > 0 else { return fail("limit= takes a positive number") }
            limit = min(value, settings.queryLimit)
        }
        var query = HistoryQuery(
            session: request.id,
            target: "",
            name: "",
            kind: .search(
                sender: attributes["from"].map { NickKey($0).folded },
                text: attributes["text"].flatMap { $0.isEmpty ? nil : $0 },
                after: after,
                before: before
            ),
            limit: limit,
            purpose: .search
        )
        let owner = self.historyOwner(session)
        if let place = attributes["in"] {
            if IRCName.isChannel(place) {
                guard let channel = self.channels[ChannelKey(place)], channel.members[request.id] != nil else {
                    return fail("You can only search a channel you are in")
                }
                query.channels = [ChannelKey(channel.name).folded]
                query.since = self.historyFloors([ChannelKey(channel.name)])
            } else {
                query.channels = [
                    HistoryTarget.conversation(owner: owner, correspondent: NickKey(place).folded).storageKey
                ]
            }
        } else {
            query.channels = session.channels.map(\.folded)
            query.since = self.historyFloors(session.channels)
            query.owner = owner
        }
        outbox.actions.append(.effect(AnyEffect(query)))
    }
}

/// Read or move the read marker of an account for a target (`draft/read-marker`).
public struct ReadMarkerRequest: CoreEffect, Equatable {
    public var session: SessionID
    /// The folded account name.
    public var account: String
    /// The storage key: a folded channel name or nick.
    public var target: String
    /// The target as the client named it.
    public var name: String
    /// The new marker (milliseconds since 1970), or `nil` to read it.
    public var set: Int64?
    /// Read after a JOIN: the channel's NAMES reply follows the marker.
    public var thenNames = false

    public init(session: SessionID, account: String, target: String, name: String, set: Int64?) {
        self.session = session
        self.account = account
        self.target = target
        self.name = name
        self.set = set
    }
}

/// The DMs kept for `account` (folded) while it was offline, for the session that just logged in to it: the host
/// reads them and answers with ``ServerState/pendingDelivered(_:messages:through:into:)`` or
/// ``ServerState/pendingDeliveryFailed(_:into:)``.
public struct PendingDeliveryRequest: CoreEffect, Equatable {
    public var session: SessionID
    public var account: String

    public init(session: SessionID, account: String) {
        self.session = session
        self.account = account
    }
}
