/// The IRCv3 capabilities Parley knows, as a compact set (one bit each).
public struct IRCCapabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let capNotify = IRCCapabilities(rawValue: 1 << 0)
    public static let messageTags = IRCCapabilities(rawValue: 1 << 1)
    public static let serverTime = IRCCapabilities(rawValue: 1 << 2)
    public static let echoMessage = IRCCapabilities(rawValue: 1 << 3)
    public static let batch = IRCCapabilities(rawValue: 1 << 4)
    public static let labeledResponse = IRCCapabilities(rawValue: 1 << 5)
    public static let multiPrefix = IRCCapabilities(rawValue: 1 << 6)
    public static let userhostInNames = IRCCapabilities(rawValue: 1 << 7)
    public static let extendedJoin = IRCCapabilities(rawValue: 1 << 8)
    public static let awayNotify = IRCCapabilities(rawValue: 1 << 9)
    public static let chghost = IRCCapabilities(rawValue: 1 << 10)
    public static let setname = IRCCapabilities(rawValue: 1 << 11)
    public static let inviteNotify = IRCCapabilities(rawValue: 1 << 12)
    public static let standardReplies = IRCCapabilities(rawValue: 1 << 13)
    public static let chathistory = IRCCapabilities(rawValue: 1 << 14)
    public static let accountTag = IRCCapabilities(rawValue: 1 << 15)
    public static let accountNotify = IRCCapabilities(rawValue: 1 << 16)
    public static let sasl = IRCCapabilities(rawValue: 1 << 17)
    public static let accountRegistration = IRCCapabilities(rawValue: 1 << 18)
    public static let readMarker = IRCCapabilities(rawValue: 1 << 19)
    public static let search = IRCCapabilities(rawValue: 1 << 20)
    public static let eventPlayback = IRCCapabilities(rawValue: 1 << 21)
    public static let noImplicitNames = IRCCapabilities(rawValue: 1 << 22)
    /// Strict transport security: a policy the server states in `CAP LS`, never requested (clients MUST NOT).
    public static let sts = IRCCapabilities(rawValue: 1 << 23)
    public static let extendedISupport = IRCCapabilities(rawValue: 1 << 24)
    public static let messageRedaction = IRCCapabilities(rawValue: 1 << 25)
    public static let multiline = IRCCapabilities(rawValue: 1 << 26)
    public static let channelRename = IRCCapabilities(rawValue: 1 << 27)
    public static let preAway = IRCCapabilities(rawValue: 1 << 28)
    public static let metadata = IRCCapabilities(rawValue: 1 << 29)

    /// Every capability with its wire name, in the order `CAP LS` lists them.
    public static let named: [(name: String, capability: IRCCapabilities)] = [
        ("account-notify", .accountNotify),
        ("account-tag", .accountTag),
        ("away-notify", .awayNotify),
        ("batch", .batch),
        ("cap-notify", .capNotify),
        ("chghost", .chghost),
        ("draft/account-registration", .accountRegistration),
        ("draft/channel-rename", .channelRename),
        ("draft/chathistory", .chathistory),
        ("draft/event-playback", .eventPlayback),
        ("draft/extended-isupport", .extendedISupport),
        ("draft/message-redaction", .messageRedaction),
        ("draft/metadata-3", .metadata),
        ("draft/multiline", .multiline),
        ("draft/pre-away", .preAway),
        ("draft/read-marker", .readMarker),
        ("echo-message", .echoMessage),
        ("extended-join", .extendedJoin),
        ("invite-notify", .inviteNotify),
        ("labeled-response", .labeledResponse),
        ("message-tags", .messageTags),
        ("multi-prefix", .multiPrefix),
        ("no-implicit-names", .noImplicitNames),
        ("sasl", .sasl),
        ("server-time", .serverTime),
        ("setname", .setname),
        ("soju.im/search", .search),
        ("standard-replies", .standardReplies),
        ("sts", .sts),
        ("userhost-in-names", .userhostInNames),
    ]

    /// The capability with wire name `name`, if Parley supports it.
    public init?(name: String) {
        guard let entry = Self.named.first(where: { $0.name == name }) else { return nil }
        self = entry.capability
    }

    /// The wire names of the members of this set.
    public var names: [String] {
        Self.named.filter { self.contains($0.capability) }.map(\.name)
    }
}
