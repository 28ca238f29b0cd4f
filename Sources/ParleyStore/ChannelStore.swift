/// A registered channel as stored: its founder and the state that survives restarts.
public struct ChannelRecord: Sendable, Equatable {
    /// The folded name (the key).
    public var name: String
    public var displayName: String
    /// The founder's folded account name.
    public var founder: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var topic: String?
    public var topicSetter: String?
    public var topicTime: Int64?
    /// Flag mode letters, e.g. `nt`.
    public var modes: String
    public var key: String?
    public var limit: Int?
    /// Ban masks.
    public var bans: [String]

    public init(
        name: String,
        displayName: String,
        founder: String,
        createdAt: Int64,
        topic: String? = nil,
        topicSetter: String? = nil,
        topicTime: Int64? = nil,
        modes: String = "",
        key: String? = nil,
        limit: Int? = nil,
        bans: [String] = []
    ) {
        self.name = name
        self.displayName = displayName
        self.founder = founder
        self.createdAt = createdAt
        self.topic = topic
        self.topicSetter = topicSetter
        self.topicTime = topicTime
        self.modes = modes
        self.key = key
        self.limit = limit
        self.bans = bans
    }
}

/// What the server needs from storage for channel registrations.
public protocol ChannelStore: Sendable {
    func channelRecords() async throws -> [ChannelRecord]
    /// Creates or replaces the record of `record.name`.
    func saveChannel(_ record: ChannelRecord) async throws
    func dropChannel(_ name: String) async throws
}
