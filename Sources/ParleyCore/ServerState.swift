public import ParleyIRC

/// The whole chat domain as one value: sessions, nicknames, channels. The host feeds it events and carries out the
/// actions it returns in an ``Outbox``; it does no I/O and reads no clock.
public struct ServerState: Sendable {
    public var configuration: CoreConfiguration {
        didSet { self.isupportLines = nil }
    }
    /// The 005 tokens rendered for this configuration, built at the first registration after it changed (every
    /// client gets the same ones; building them per client was a third of the welcome burst's allocations).
    var isupportLines: [[String]]?
    public internal(set) var sessions: [SessionID: Session] = [:]
    var nicks: [NickKey: SessionID] = [:]
    public internal(set) var channels: [ChannelKey: Channel] = [:]
    var whowas: [WhowasEntry] = []
    var messageCounter: UInt64 = 0
    /// Folded names of registered accounts, loaded from the store at start and kept current: nick reservation and
    /// offline delivery are decided without a store round trip.
    public internal(set) var registeredAccounts: Set<String> = []
    var guestCounter: UInt64 = 0
    /// When each channel's history last ended (folded name → ms): what was said before is nobody's to read.
    var channelEnds: [String: Int64] = [:]
    /// Set while the server shuts down: channels emptied then are not ended (their users come back after).
    var shuttingDown = false
    /// Set while the database cannot be reached (a cluster's relay says so): what must be stored first (messages
    /// with history on; in a cluster also joins and new nicks) is refused at once instead of waiting unacknowledged.
    public var databaseAway = false
    /// Registered nicks (folded) held for their owner until a time, after someone not logged in was renamed away.
    var heldForOwner: [String: Timestamp] = [:]
    /// Times of failed OPER and connection password attempts, by `KIND ADDRESS`, for the limits on them.
    var operFailures: [String: [Timestamp]] = [:]
    /// Channels registered with ChanServ, loaded at start.
    public internal(set) var registeredChannels: [ChannelKey: ChannelRegistration] = [:]
    var maximumUsers = 0
    /// How many sessions are `+i` and `+o`, kept current so LUSERS (sent on every registration) costs O(1).
    var modeCounts = ModeCounts()
    let messageIDPrefix: String
    /// In a cluster: the nicks this node holds in the shared database (folded), each with the sessions of this node
    /// that use it (registered or still registering).
    var nickHolders: [String: Set<SessionID>] = [:]
    /// In a cluster: nicks asked of the database and not yet answered (folded).
    var nickClaims: [String: NickClaim] = [:]
    /// In a cluster: the nicks other nodes' users hold (folded), kept current from the cluster's notifications.
    public internal(set) var remoteNicks: [String: RemoteNick] = [:]
    /// In a cluster: who of the other nodes' users went away or came back (folded nick), from their AWAY events.
    var remoteAway: [String: RemoteAway] = [:]

    public init(configuration: CoreConfiguration) {
        self.configuration = configuration
        // Distinct per server run so msgids stay unique across restarts (and per node in a cluster).
        let run = String(UInt64(bitPattern: configuration.createdAt.millisecondsSince1970), radix: 36)
        self.messageIDPrefix = MessageID.origin(node: configuration.nodeName, run: run)
    }

    /// Records a new connection; `secure` when it came over TLS (shown in WHOIS), with the fingerprint of the
    /// client certificate it presented, if any (SASL EXTERNAL, NickServ CERT).
    public mutating func connect(
        _ id: SessionID,
        host: String,
        address: String,
        secure: Bool = false,
        certificate: String? = nil,
        now: Timestamp
    ) {
        var session = Session(id: id, host: host, address: address, now: now)
        session.isSecure = secure
        session.certificate = certificate
        session.refreshPrefix()
        self.sessions[id] = session
    }

    /// Handles one parsed message from `id`.
    public mutating func handle(_ message: IRCMessage, from id: SessionID, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id] else { return }
        if let held = session.heldLines, held.count < Self.heldLineLimit, message.command != .quit,
            message.command != .ping, message.command != .pong
        {
            self.sessions[id]?.heldLines?.append(message)
            return
        }
        let label = session.caps.contains(.labeledResponse) ? message.tag("label") : nil
        let request = Request(id: id, message: message, now: now)
        if message.command == .batch || message.tag("batch") != nil {
            // A client batch (draft/multiline): its answer comes when it closes, labeled by its opening line.
            self.clientBatch(request, label: label, into: &outbox)
            return
        }
        let start = outbox.actions.count
        self.dispatch(request, session: session, into: &outbox)
        if message.command == .topic || message.command == .mode, let name = message.parameter(0),
            IRCName.isChannel(name)
        {
            self.syncRegistration(name, into: &outbox)
        }
        if let label, !label.isEmpty, !self.deferLabel(label, for: id, from: start, into: &outbox) {
            self.applyLabel(label, for: id, from: start, into: &outbox)
        }
    }

    /// Handles a line the host could not parse.
    public mutating func parseFailed(_ error: IRCParseError, from id: SessionID, into outbox: inout Outbox) {
        guard self.sessions[id] != nil else { return }
        switch error.code {
        case .emptyLine:
            return  // RFC 1459 and Modern IRC: empty lines are ignored.
        case .invalidUTF8:
            outbox.send(
                self.fail(error.command?.rawValue ?? "*", "INVALID_UTF8", "Message rejected: it is not valid UTF-8"),
                to: id
            )
        case .invalidCommand:
            // Named, and labeled, as any unknown command is: a command that is not letters is one no server knows.
            let start = outbox.actions.count
            self.reply(id, .errUnknownCommand, Self.echoable(error.word), "Unknown command", into: &outbox)
            if let label = error.label, !label.isEmpty, self.sessions[id]?.caps.contains(.labeledResponse) == true {
                self.applyLabel(label, for: id, from: start, into: &outbox)
            }
        case .missingCommand:
            self.reply(id, .errUnknownCommand, "*", "Unknown or missing command", into: &outbox)
        default:
            outbox.send(
                self.fail(error.command?.rawValue ?? "*", "INVALID_MESSAGE", "Malformed message (\(error.code))"),
                to: id
            )
        }
    }

    /// Tells a client its line exceeded the length limit (the host discarded it).
    public mutating func inputTooLong(from id: SessionID, into outbox: inout Outbox) {
        self.reply(id, .errInputTooLong, "Input line was too long", into: &outbox)
    }

    /// Removes a session whose connection ended, telling everyone who shares a channel.
    public mutating func disconnect(_ id: SessionID, reason: String, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions.removeValue(forKey: id) else { return }
        self.modeCounts.remove(session.modes)
        if let nick = session.nick { self.letGoOfNick(NickKey(nick), by: id, into: &outbox) }
        guard session.isRegistered, let nick = session.nick else { return }
        var quit = self.event(session, .quit, [reason], now: now)
        self.recordEvent(&quit, in: session.channels, into: &outbox)
        outbox.broadcast(quit, to: self.peers(of: session))
        for key in session.channels where self.removeMember(id, from: key) {
            self.endIncarnation(of: key, now: now, into: &outbox)
        }
        self.nicks[NickKey(nick)] = nil
        self.rememberWhowas(session, now: now)
    }

    // MARK: Dispatch

    struct Request {
        let id: SessionID
        let message: IRCMessage
        let now: Timestamp
        var parameters: [String] { self.message.parameters }
    }

    private mutating func dispatch(_ request: Request, session: Session, into outbox: inout Outbox) {
        guard let command = Self.commands[request.message.command] else {
            self.reply(
                request.id,
                .errUnknownCommand,
                request.message.command.rawValue,
                "Unknown command",
                into: &outbox
            )
            return
        }
        guard session.isRegistered || command.beforeRegistration else {
            self.reply(request.id, .errNotRegistered, "You have not registered", into: &outbox)
            return
        }
        guard request.parameters.count >= command.minimumParameters else {
            self.reply(
                request.id,
                .errNeedMoreParams,
                request.message.command.rawValue,
                "Not enough parameters",
                into: &outbox
            )
            return
        }
        command.run(&self, request, &outbox)
    }

    struct Command: Sendable {
        var minimumParameters = 0
        var beforeRegistration = false
        let run: @Sendable (inout ServerState, Request, inout Outbox) -> Void
    }

    /// The command table: what each command needs before its handler runs.
    static let commands: [IRCCommand: Command] = [
        .pass: Command(minimumParameters: 1, beforeRegistration: true) { $0.pass($1, &$2) },
        .nick: Command(beforeRegistration: true) { $0.nick($1, &$2) },
        .user: Command(minimumParameters: 4, beforeRegistration: true) { $0.user($1, &$2) },
        .cap: Command(minimumParameters: 1, beforeRegistration: true) { $0.cap($1, &$2) },
        .ping: Command(beforeRegistration: true) { $0.ping($1, &$2) },
        .pong: Command(beforeRegistration: true) { state, request, outbox in state.pong(request, &outbox) },
        .quit: Command(beforeRegistration: true) { $0.quit($1, &$2) },
        .join: Command(minimumParameters: 1) { $0.join($1, &$2) },
        .part: Command(minimumParameters: 1) { $0.part($1, &$2) },
        .privmsg: Command { $0.message($1, &$2) },
        .notice: Command { $0.message($1, &$2) },
        .tagmsg: Command(minimumParameters: 1) { $0.message($1, &$2) },
        .topic: Command(minimumParameters: 1) { $0.topic($1, &$2) },
        .names: Command { $0.names($1, &$2) },
        .list: Command { $0.list($1, &$2) },
        .who: Command { $0.who($1, &$2) },
        .whois: Command(minimumParameters: 1) { $0.whois($1, &$2) },
        .whowas: Command(minimumParameters: 1) { $0.whowasQuery($1, &$2) },
        .mode: Command(minimumParameters: 1) { $0.mode($1, &$2) },
        .kick: Command(minimumParameters: 2) { $0.kick($1, &$2) },
        .invite: Command(minimumParameters: 2) { $0.invite($1, &$2) },
        .away: Command(beforeRegistration: true) { $0.away($1, &$2) },
        .setname: Command(minimumParameters: 1) { $0.setname($1, &$2) },
        .userhost: Command(minimumParameters: 1) { $0.userhost($1, &$2) },
        .ison: Command(minimumParameters: 1) { $0.ison($1, &$2) },
        .motd: Command { $0.sendMOTD($1.id, into: &$2) },
        .lusers: Command { $0.sendLusers($1.id, into: &$2) },
        .version: Command { $0.versionQuery($1, &$2) },
        .time: Command { $0.timeQuery($1, &$2) },
        .admin: Command { $0.adminQuery($1, &$2) },
        .info: Command { $0.infoQuery($1, &$2) },
        .oper: Command(minimumParameters: 2) { $0.oper($1, &$2) },
        .kill: Command(minimumParameters: 1) { $0.kill($1, &$2) },
        .wallops: Command(minimumParameters: 1) { $0.wallops($1, &$2) },
        .links: Command { $0.linksQuery($1, &$2) },
        .chathistory: Command(minimumParameters: 1) { $0.chathistory($1, &$2) },
        .authenticate: Command(minimumParameters: 1, beforeRegistration: true) { $0.authenticate($1, &$2) },
        .register: Command(minimumParameters: 3, beforeRegistration: true) { $0.registerCommand($1, &$2) },
        .verify: Command(minimumParameters: 2, beforeRegistration: true) { $0.verifyCommand($1, &$2) },
        .markread: Command { $0.markread($1, &$2) },
        .redact: Command(minimumParameters: 2) { $0.redact($1, &$2) },
        .rename: Command(minimumParameters: 2) { $0.rename($1, &$2) },
        .metadata: Command(minimumParameters: 2, beforeRegistration: true) { $0.metadata($1, &$2) },
        .search: Command(minimumParameters: 1) { $0.search($1, &$2) },
        .isupport: Command(beforeRegistration: true) { $0.isupportCommand($1, &$2) },
    ]

    // MARK: Replies

    /// A numeric from the server to `id`, addressed with its nick.
    mutating func reply(_ id: SessionID, _ numeric: IRCNumeric, _ parameters: String..., into outbox: inout Outbox) {
        self.reply(id, numeric, parameters, into: &outbox)
    }

    mutating func reply(_ id: SessionID, _ numeric: IRCNumeric, _ parameters: [String], into outbox: inout Outbox) {
        let nick = self.sessions[id]?.displayNick ?? "*"
        outbox.send(
            IRCMessage(
                source: self.configuration.serverName,
                command: IRCCommand(numeric),
                parameters: [nick] + parameters
            ),
            to: id
        )
    }

    func fail(_ command: String, _ code: String, _ description: String, context: [String] = []) -> IRCMessage {
        IRCMessage(
            source: self.configuration.serverName,
            command: .fail,
            parameters: [command, code] + context + [description]
        )
    }

    /// A message from `session` (its prefix as source) stamped with `time`.
    /// A message `session` causes (JOIN, INVITE, NICK, …), with its time and, when logged in, its account (the
    /// `account` tag goes on everything a logged-in user sends; clients without account-tag never see it).
    func event(_ session: Session, _ command: IRCCommand, _ parameters: [String], now: Timestamp) -> IRCMessage {
        var tags = [IRCTag("time", now.serverTime)]
        if let account = session.account { tags.append(IRCTag("account", account)) }
        return IRCMessage(tags: tags, source: session.prefix, command: command, parameters: parameters)
    }

    /// Who the private history `session` writes and reads belongs to: its account, or this connection alone.
    func historyOwner(_ session: Session) -> String {
        HistoryQuery.owner(
            account: session.account,
            connection: self.messageIDPrefix + "." + String(session.id.rawValue, radix: 36)
        )
    }

    /// The owner of `id`'s private history, while it is connected.
    public func historyOwner(of id: SessionID) -> String? {
        self.sessions[id].map(self.historyOwner)
    }

    mutating func nextMessageID() -> String {
        self.messageCounter &+= 1
        return MessageID.text(origin: self.messageIDPrefix, counter: self.messageCounter)
    }

    /// Everyone who shares a channel with `session`, once each, not including it.
    func peers(of session: Session, where include: (Session) -> Bool = { _ in true }) -> [SessionID] {
        var seen: Set<SessionID> = [session.id]
        var result: [SessionID] = []
        for key in session.channels {
            guard let channel = self.channels[key] else { continue }
            for member in channel.members.keys where !seen.contains(member) {
                seen.insert(member)
                if let peer = self.sessions[member], include(peer) { result.append(member) }
            }
        }
        return result
    }

    /// Members of `channel` other than `except`. The fan-out hot path: no per-member session lookup.
    func members(of channel: Channel, except: SessionID?) -> [SessionID] {
        var result: [SessionID] = []
        result.reserveCapacity(channel.members.count)
        for member in channel.members.keys where member != except {
            result.append(member)
        }
        return result
    }

    /// Members of `channel` other than `except` whose session passes `include`.
    func members(of channel: Channel, except: SessionID?, where include: (Session) -> Bool) -> [SessionID] {
        var result: [SessionID] = []
        for member in channel.members.keys where member != except {
            if let session = self.sessions[member], include(session) { result.append(member) }
        }
        return result
    }

    /// Changes a session's user modes; the only way they change, so ``modeCounts`` stays right.
    mutating func setUserModes(_ id: SessionID, _ modes: Session.Modes) {
        guard let old = self.sessions[id]?.modes else { return }
        self.modeCounts.remove(old)
        self.modeCounts.add(modes)
        self.sessions[id]?.modes = modes
    }

    /// The channel called `name`, or `nil` after telling `id` there is no such channel (403).
    mutating func existingChannel(
        _ name: String,
        for id: SessionID,
        into outbox: inout Outbox
    ) -> (key: ChannelKey, channel: Channel)? {
        let key = ChannelKey(name)
        guard let channel = self.channels[key] else {
            self.reply(id, .errNoSuchChannel, name, "No such channel", into: &outbox)
            return nil
        }
        return (key, channel)
    }

    /// The channel `name` if `id` operates it; otherwise the numeric that says why not (403, 442 or 482).
    mutating func operatedChannel(
        _ name: String,
        by id: SessionID,
        into outbox: inout Outbox
    ) -> (key: ChannelKey, channel: Channel)? {
        guard let (key, channel) = self.existingChannel(name, for: id, into: &outbox) else { return nil }
        guard let status = channel.members[id] else {
            self.reply(id, .errNotOnChannel, channel.name, "You're not on that channel", into: &outbox)
            return nil
        }
        guard status.contains(.op) else {
            self.reply(id, .errChanOPrivsNeeded, channel.name, "You're not channel operator", into: &outbox)
            return nil
        }
        return (key, channel)
    }

    func session(named nick: String) -> Session? {
        self.nicks[NickKey(nick)].flatMap { self.sessions[$0] }
    }

    /// Whether `viewer` may learn that `target` exists through WHO and NAMES (not `+i`, or shares a channel).
    func canSee(_ target: Session, from viewer: Session) -> Bool {
        if target.id == viewer.id || !target.modes.contains(.invisible) || viewer.modes.contains(.oper) { return true }
        return !target.channels.isDisjoint(with: viewer.channels)
    }

    /// Takes `id` out of the channel; returns whether that emptied it (it is gone).
    @discardableResult
    mutating func removeMember(_ id: SessionID, from key: ChannelKey) -> Bool {
        self.sessions[id]?.channels.remove(key)
        guard var channel = self.channels[key] else { return false }
        channel.members[id] = nil
        channel.invited.remove(id)
        if channel.memberCount == 0 {
            self.channels[key] = nil
            return true
        }
        self.channels[key] = channel
        return false
    }

    /// Whether a recipient with `caps` may see `tag` (by the capability that introduces it).
    public static func includeTag(_ tag: IRCTag, for caps: IRCCapabilities) -> Bool {
        switch tag.key {
        case "time": return caps.contains(.serverTime)
        case "batch": return caps.contains(.batch)
        case "label": return caps.contains(.labeledResponse)
        case "account": return caps.contains(.accountTag)
        // Only recipients with draft/multiline get batched lines (the fallback never carries the tag), and the
        // encoding variants do not tell multiline apart: `batch` stands for it.
        case MultilineText.concatTag: return caps.contains(.batch)
        default: return caps.contains(.messageTags)
        }
    }

    /// The capabilities that change how a message is encoded; recipients equal in these share one encoding.
    public static let encodingCapabilities: IRCCapabilities = [
        .serverTime, .batch, .labeledResponse, .messageTags, .accountTag,
    ]
}
