public import ParleyIRC

/// What the core needs to know about the server it runs in. The host builds it from the configuration.
public struct CoreConfiguration: Sendable {
    /// An operator block: the name for `OPER` and the stored password hash.
    public struct Operator: Sendable, Equatable {
        public var name: String
        public var passwordHash: String
        public init(name: String, passwordHash: String) {
            self.name = name
            self.passwordHash = passwordHash
        }
    }

    public var serverName: String
    public var networkName: String
    /// A line saying what this server is: the server info of LINKS (364) and WHOIS (312).
    public var serverDescription = "Parley chat server"
    public var version: String
    /// When the server started, shown in 003.
    public var createdAt: Timestamp
    /// In a cluster, this node's name: its message ids start with it, so they stay unique across nodes and a node
    /// knows its own messages when the others' come back through the database.
    public var nodeName: String?
    /// The connection password (`PASS`), if one is required.
    public var password: String?
    /// Lines of the message of the day; `nil` answers 422.
    public var motd: [String]?
    public var operators: [Operator]
    public var adminInfo: [String]
    public var nickLength = 30
    public var channelLength = 64
    public var topicLength = 390
    public var awayLength = 390
    public var kickLength = 390
    public var userLength = 18
    public var realnameLength = 150
    public var channelsPerUser = 50
    public var targetsPerMessage = 4
    public var listEntries = 100
    public var whowasEntries = 200
    /// Bytes of a line not counting tags, with CR LF (LINELEN).
    public var lineLength = 512
    /// What the server keeps of messages; `nil` keeps nothing (no store).
    public var history: HistorySettings?
    /// Accounts (NickServ, SASL, REGISTER); `nil` when there is no store to keep them.
    public var accounts: AccountSettings?
    /// The strict transport security policy stated in `CAP LS` (IRCv3 `sts`); `nil` states none.
    public var strictTransport: StrictTransport?
    /// How big a `draft/multiline` message may be (stated in `CAP LS`). Each line goes to every member of a
    /// channel, so these bound what one message costs the server and every recipient's SendQ.
    public var multiline = MultilineText.Limits(maximumBytes: 4096, maximumLines: 100)
    /// IRCv3 metadata limits (stated in `CAP LS`).
    public var metadata = MetadataLimits()

    public struct MetadataLimits: Sendable, Equatable {
        /// Keys one client may subscribe to.
        public var maximumSubscriptions = 100
        /// Keys a user may set on itself.
        public var maximumKeys = 20
        /// Bytes of one value (an avatar's URL fits; a line of relayed metadata stays within 512 bytes).
        public var maximumValueBytes = 400

        public init() {}
    }

    /// IRCv3 STS: plaintext clients are told the TLS port to move to, TLS clients how long to stay on TLS.
    public struct StrictTransport: Sendable, Equatable {
        /// The port that takes TLS.
        public var port: Int
        /// Seconds a client must keep to TLS after it saw the policy on a TLS connection (0 lifts the policy).
        public var duration: Int

        public init(port: Int, duration: Int) {
            self.port = port
            self.duration = duration
        }
    }

    public struct AccountSettings: Sendable, Equatable {
        /// Shortest password accepted for a new account or a new password.
        public var minimumPasswordLength = 8
        /// Seconds someone holding a registered nick has to log in before being renamed.
        public var nickGrace: Int64 = 30
        /// Seconds a registered nick stays reserved for its owner after someone was renamed away from it: only a
        /// client logged in to that account takes it meanwhile, so a grace period cannot be had again and again.
        public var nickHold: Int64 = 300
        /// Accounts one address may register per hour (each costs a slow password hash and a name).
        public var registrationsPerHour = 5

        public init(
            minimumPasswordLength: Int = 8,
            nickGrace: Int64 = 30,
            nickHold: Int64 = 300,
            registrationsPerHour: Int = 5
        ) {
            self.minimumPasswordLength = minimumPasswordLength
            self.nickGrace = nickGrace
            self.nickHold = nickHold
            self.registrationsPerHour = registrationsPerHour
        }
    }

    /// How history is offered to clients.
    public struct HistorySettings: Sendable, Equatable {
        /// Lines replayed on JOIN to clients without `draft/chathistory` (0: none).
        public var replayOnJoin = 10
        /// Most messages one `CHATHISTORY` request returns (ISUPPORT `CHATHISTORY`).
        public var queryLimit = 100

        public init(replayOnJoin: Int = 10, queryLimit: Int = 100) {
            self.replayOnJoin = replayOnJoin
            self.queryLimit = queryLimit
        }
    }

    public init(
        serverName: String = "parley.local",
        networkName: String = "Parley",
        version: String = "parley-0.1.0",
        createdAt: Timestamp = Timestamp(millisecondsSince1970: 0),
        password: String? = nil,
        motd: [String]? = nil,
        operators: [Operator] = [],
        adminInfo: [String] = []
    ) {
        self.serverName = serverName
        self.networkName = networkName
        self.version = version
        self.createdAt = createdAt
        self.password = password
        self.motd = motd
        self.operators = operators
        self.adminInfo = adminInfo
    }
}
