/// A channel registered with ChanServ: who founded it and the state restored when it is next created.
public struct ChannelRegistration: Sendable, Equatable {
    public var name: String
    /// The founder's folded account name.
    public var founder: String
    /// Milliseconds since 1970.
    public var registeredAt: Int64
    public var topic: String?
    public var topicSetter: String?
    public var topicTime: Int64?
    /// Flag mode letters (`imnst`).
    public var modes: String
    public var key: String?
    public var limit: Int?
    public var bans: [String]

    public init(
        name: String,
        founder: String,
        registeredAt: Int64,
        topic: String? = nil,
        topicSetter: String? = nil,
        topicTime: Int64? = nil,
        modes: String = "nt",
        key: String? = nil,
        limit: Int? = nil,
        bans: [String] = []
    ) {
        self.name = name
        self.founder = founder
        self.registeredAt = registeredAt
        self.topic = topic
        self.topicSetter = topicSetter
        self.topicTime = topicTime
        self.modes = modes
        self.key = key
        self.limit = limit
        self.bans = bans
    }
}

extension Channel {
    /// The registration's founder and time with this channel's current topic, modes and bans.
    func snapshot(into registration: ChannelRegistration) -> ChannelRegistration {
        var updated = registration
        updated.name = self.name
        updated.topic = self.topic
        updated.topicSetter = self.topic == nil ? nil : self.topicSetter
        updated.topicTime = self.topic == nil ? nil : self.topicTime.millisecondsSince1970
        updated.modes = String(Flags.letters.filter { self.flags.contains($0.1) }.map(\.0))
        updated.key = self.key
        updated.limit = self.limit
        updated.bans = self.bans.map(\.mask)
        return updated
    }

    /// Restores the saved state of a registered channel being created again.
    mutating func restore(_ registration: ChannelRegistration, server: String) {
        self.topic = registration.topic
        self.topicSetter = registration.topicSetter ?? server
        self.topicTime = Timestamp(millisecondsSince1970: registration.topicTime ?? registration.registeredAt)
        var flags: Flags = []
        for (letter, flag) in Flags.letters where registration.modes.contains(letter) { flags.insert(flag) }
        self.flags = flags
        self.key = registration.key
        self.limit = registration.limit
        self.bans = registration.bans.map {
            MaskEntry(mask: $0, setter: server, time: Timestamp(millisecondsSince1970: registration.registeredAt))
        }
    }
}
