/// Where a message is kept in history, and the one place that knows how that is written as a storage key: the
/// string the stores index, search by range and number per target in a cluster.
///
/// Keys: a channel is its folded name (`#room`); a copy of a direct conversation is `\u{1}OWNER\u{1}nick`; an AWAY
/// log is `\u{2}nick`. Channel names start with `#` and nicks and owners hold neither control character, so the
/// three never meet.
public enum HistoryTarget: Hashable, Sendable {
    /// A channel, by its case-folded name.
    case channel(String)
    /// `owner`'s own copy of a direct conversation with whoever used the folded nick `correspondent`. Each party of
    /// a DM has a copy of its own, so what one reads never depends on who holds the other's nick now. `owner` is
    /// ``HistoryQuery/owner(account:connection:)``: an account or one connection, never a nick.
    case conversation(owner: String, correspondent: String)
    /// In a cluster: where the AWAY changes of the user with this folded nick are logged while it is in no channel,
    /// so the other nodes learn them as they learn DMs. Never history.
    case awayLog(String)

    private static let conversationMark: Character = "\u{1}"
    private static let awayMark: Character = "\u{2}"

    /// The target a storage key names. (Keys of schema versions before 5 were nick pairs, `\u{1}a\u{1}b`; they read
    /// as a conversation owned by `a`, which no owner ever is: owners hold a `:`.)
    public init(storageKey key: String) {
        switch key.first {
        case Self.conversationMark:
            let rest = key.dropFirst()
            if let mark = rest.firstIndex(of: Self.conversationMark) {
                self = .conversation(
                    owner: String(rest[..<mark]),
                    correspondent: String(rest[rest.index(after: mark)...])
                )
            } else {
                self = .conversation(owner: String(rest), correspondent: "")
            }
        case Self.awayMark:
            self = .awayLog(String(key.dropFirst()))
        default:
            self = .channel(key)
        }
    }

    public var storageKey: String {
        switch self {
        case .channel(let name): name
        case .conversation(let owner, let correspondent): Self.conversationsPrefix(of: owner) + correspondent
        case .awayLog(let nick): "\u{2}" + nick
        }
    }

    /// Whether this is a channel's history (what channel membership and channel ends are about).
    public var isChannel: Bool {
        if case .channel = self { return true }
        return false
    }

    /// The storage keys of every conversation of `owner`: `from` ≤ key < `upTo`, one range of an index.
    public static func conversations(of owner: String) -> (from: String, upTo: String) {
        (Self.conversationsPrefix(of: owner), "\u{1}\(owner)\u{2}")
    }

    private static func conversationsPrefix(of owner: String) -> String {
        "\u{1}\(owner)\u{1}"
    }
}
