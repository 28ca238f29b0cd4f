import ParleyIRC

/// A member of a channel whose session is on another node of the cluster.
public struct RemoteMember: Sendable, Equatable {
    /// `nick!user@host`, as its node showed it.
    public var prefix: String
    public var node: String
    /// `NODE.RUN`: which run of the node the user is on (a node that restarts starts a new run).
    public var run: String
    public var status: Channel.Status

    public var nick: String { String(self.prefix.prefix { $0 != "!" }) }
    var user: String { String(self.prefix.drop { $0 != "!" }.dropFirst().prefix { $0 != "@" }) }
    var host: String { String(self.prefix.drop { $0 != "@" }.dropFirst()) }
}

/// One channel: members with their status, topic, modes and mask lists.
public struct Channel: Sendable {
    /// A member's channel status.
    public struct Status: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let op = Status(rawValue: 1 << 0)
        public static let voice = Status(rawValue: 1 << 1)

        /// `@+`, `@`, `+` or empty: all prefixes with multi-prefix, the highest one otherwise.
        func prefixes(multi: Bool) -> String {
            var out = ""
            if self.contains(.op) { out += "@" }
            if self.contains(.voice) && (multi || out.isEmpty) { out += "+" }
            return out
        }
    }

    /// Channel flag modes.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let inviteOnly = Flags(rawValue: 1 << 0)
        public static let moderated = Flags(rawValue: 1 << 1)
        public static let noExternal = Flags(rawValue: 1 << 2)
        public static let secret = Flags(rawValue: 1 << 3)
        public static let topicLocked = Flags(rawValue: 1 << 4)

        static let letters: [(Character, Flags)] = [
            ("i", .inviteOnly), ("m", .moderated), ("n", .noExternal), ("s", .secret), ("t", .topicLocked),
        ]
    }

    /// An entry of the ban, exception or invite-exception list.
    public struct MaskEntry: Sendable, Equatable {
        public var mask: String
        public var setter: String
        public var time: Timestamp
    }

    public var name: String
    public var createdAt: Timestamp
    public var members: [SessionID: Status] = [:]
    public var topic: String?
    public var topicSetter = ""
    public var topicTime = Timestamp(millisecondsSince1970: 0)
    public var flags: Flags = [.noExternal, .topicLocked]
    public var key: String?
    public var limit: Int?
    public var bans: [MaskEntry] = []
    public var exceptions: [MaskEntry] = []
    public var inviteExceptions: [MaskEntry] = []
    var invited: Set<SessionID> = []
    /// In a cluster: members whose sessions are on other nodes (by folded nick), known from the channel events
    /// those nodes commit. Messages reach them through their own node, never from here.
    public var remoteMembers: [String: RemoteMember] = [:]
    /// IRCv3 metadata set by its operators (key → value).
    public var metadata: [String: String] = [:]

    /// Local and remote members.
    public var memberCount: Int { self.members.count + self.remoteMembers.count }

    init(name: String, createdAt: Timestamp) {
        self.name = name
        self.createdAt = createdAt
    }

    /// `+ntk key`-style mode string and its parameters; the key is shown only to members.
    func modeString(showKey: Bool) -> [String] {
        var letters = "+"
        var parameters: [String] = []
        for (letter, flag) in Flags.letters where self.flags.contains(flag) { letters.append(letter) }
        if let key = self.key {
            letters += "k"
            parameters.append(showKey ? key : "*")
        }
        if let limit = self.limit {
            letters += "l"
            parameters.append(String(limit))
        }
        return [letters] + parameters
    }

    func matchesAny(_ list: [MaskEntry], prefix: String) -> Bool {
        list.contains { IRCWildcard.matches($0.mask, prefix) }
    }

    func isBanned(prefix: String) -> Bool {
        self.matchesAny(self.bans, prefix: prefix) && !self.matchesAny(self.exceptions, prefix: prefix)
    }

    /// The symbol of RPL_NAMREPLY: `@` secret, `=` public.
    var namesSymbol: String { self.flags.contains(.secret) ? "@" : "=" }
}
