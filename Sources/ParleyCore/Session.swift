public import ParleyIRC

/// Counts of sessions by user mode.
struct ModeCounts: Sendable {
    var invisible = 0
    var operators = 0

    mutating func add(_ modes: Session.Modes) {
        if modes.contains(.invisible) { self.invisible += 1 }
        if modes.contains(.oper) { self.operators += 1 }
    }

    mutating func remove(_ modes: Session.Modes) {
        if modes.contains(.invisible) { self.invisible -= 1 }
        if modes.contains(.oper) { self.operators -= 1 }
    }
}

/// One connected client as the core sees it.
public struct Session: Sendable {
    /// User modes.
    public struct Modes: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let invisible = Modes(rawValue: 1 << 0)
        public static let oper = Modes(rawValue: 1 << 1)
        public static let wallops = Modes(rawValue: 1 << 2)

        var string: String {
            var out = "+"
            if self.contains(.invisible) { out += "i" }
            if self.contains(.oper) { out += "o" }
            if self.contains(.wallops) { out += "w" }
            return out
        }
    }

    public let id: SessionID
    /// The host shown to others.
    public var host: String
    /// The real address, shown to operators.
    public var address: String
    /// Connected over TLS.
    public var isSecure = false
    public var nick: String?
    public var user: String?
    public var realname = ""
    public var caps: IRCCapabilities = []
    public var isRegistered = false
    public internal(set) var modes: Modes = []
    public var away: String?
    public var channels: Set<ChannelKey> = []
    public var signonTime: Timestamp
    /// Last PRIVMSG/NOTICE, for WHOIS idle.
    var lastSpoke: Timestamp
    /// The account logged in to (as registered), if any.
    public internal(set) var account: String?
    /// `nick!user@host`, kept current on nick change.
    public private(set) var prefix = ""
    /// What few sessions need, or need only for a while (see ``Rare``): out of line, so that the table of sessions,
    /// one entry per connection, stays small (measured: that table was ~500 bytes of each idle connection).
    private var rare: RareStorage?

    init(id: SessionID, host: String, address: String, now: Timestamp) {
        self.id = id
        self.host = host
        self.address = address
        self.signonTime = now
        self.lastSpoke = now
    }

    /// The nick, or `*` before one was chosen (as numerics address such clients).
    public var displayNick: String { self.nick ?? "*" }

    mutating func refreshPrefix() {
        self.prefix = "\(self.nick ?? "*")!\(self.user ?? "*")@\(self.host)"
    }
}

extension Session {
    /// State that most sessions never have, or drop once registered: a pending SASL exchange, a connection password,
    /// CAP negotiation, lines held for a cluster nick claim, offline deliveries awaiting their acknowledgement, a
    /// forced rename, a client certificate, the read markers of a client without an account, a multiline message
    /// being sent.
    fileprivate struct Rare: Sendable {
        var certificate: String?
        var negotiatingCaps = false
        var givenPassword: String?
        var saslMechanism: String?
        var saslBuffer = ""
        var deliveredPending: (account: String, through: Int64)?
        var renameAt: Timestamp?
        var heldLines: [IRCMessage]?
        var connectionReadMarkers: [String: Int64]?
        var multilineBatch: MultilineBatch?
        var metadata: [String: String]?
        var metadataSubscriptions: Set<String>?

        var isEmpty: Bool {
            self.certificate == nil && !self.negotiatingCaps && self.givenPassword == nil && self.saslMechanism == nil
                && self.saslBuffer.isEmpty && self.deliveredPending == nil && self.renameAt == nil
                && self.heldLines == nil && self.connectionReadMarkers == nil && self.multilineBatch == nil
                && self.metadata == nil && self.metadataSubscriptions == nil
        }
    }

    /// A box with value semantics: each change makes a new one, and it goes away when nothing is left in it.
    fileprivate indirect enum RareStorage: Sendable {
        case value(Rare)
    }

    private var rareValue: Rare? {
        guard case .value(let value) = self.rare else { return nil }
        return value
    }

    private mutating func changeRare(_ change: (inout Rare) -> Void) {
        var value = self.rareValue ?? Rare()
        change(&value)
        self.rare = value.isEmpty ? nil : .value(value)
    }

    /// The SHA-256 fingerprint (lower-case hex) of the TLS client certificate it presented, if any.
    public var certificate: String? {
        get { self.rareValue?.certificate }
        set { self.changeRare { $0.certificate = newValue } }
    }

    /// True between `CAP LS`/`REQ` and `CAP END` before registration: registration waits.
    var negotiatingCaps: Bool {
        get { self.rareValue?.negotiatingCaps ?? false }
        set { self.changeRare { $0.negotiatingCaps = newValue } }
    }

    /// The connection password (`PASS`) until registration checked it.
    var givenPassword: String? {
        get { self.rareValue?.givenPassword }
        set { self.changeRare { $0.givenPassword = newValue } }
    }

    /// The SASL mechanism of an exchange in progress.
    var saslMechanism: String? {
        get { self.rareValue?.saslMechanism }
        set { self.changeRare { $0.saslMechanism = newValue } }
    }

    /// The base64 gathered from `AUTHENTICATE` chunks so far.
    var saslBuffer: String {
        get { self.rareValue?.saslBuffer ?? "" }
        set { self.changeRare { $0.saslBuffer = newValue } }
    }

    /// Offline DMs handed to this session and not yet acknowledged: the account and the store sequence of the last.
    var deliveredPending: (account: String, through: Int64)? {
        get { self.rareValue?.deliveredPending }
        set { self.changeRare { $0.deliveredPending = newValue } }
    }

    /// When a session holding a registered nick without being logged in to it gets renamed.
    var renameAt: Timestamp? {
        get { self.rareValue?.renameAt }
        set { self.changeRare { $0.renameAt = newValue } }
    }

    /// In a cluster, while a nick this session asked for is being claimed: the lines it sends meanwhile, handled
    /// once the answer is in (a bot that sends NICK, USER and JOIN at once must not see its JOIN refused).
    var heldLines: [IRCMessage]? {
        get { self.rareValue?.heldLines }
        set { self.changeRare { $0.heldLines = newValue } }
    }

    /// Read markers of a client not logged in (by storage key, milliseconds since 1970): kept for the connection
    /// only, as draft/read-marker asks of a server for clients without an account.
    var connectionReadMarkers: [String: Int64] {
        get { self.rareValue?.connectionReadMarkers ?? [:] }
        set { self.changeRare { $0.connectionReadMarkers = newValue.isEmpty ? nil : newValue } }
    }

    /// The `draft/multiline` batch this client has opened and not yet closed.
    var multilineBatch: MultilineBatch? {
        get { self.rareValue?.multilineBatch }
        set { self.changeRare { $0.multilineBatch = newValue } }
    }

    /// IRCv3 metadata this user set on itself (key → value).
    public var metadata: [String: String] {
        get { self.rareValue?.metadata ?? [:] }
        set { self.changeRare { $0.metadata = newValue.isEmpty ? nil : newValue } }
    }

    /// The metadata keys this client subscribed to.
    var metadataSubscriptions: Set<String> {
        get { self.rareValue?.metadataSubscriptions ?? [] }
        set { self.changeRare { $0.metadataSubscriptions = newValue.isEmpty ? nil : newValue } }
    }
}
