/// A question about stored history that the host answers asynchronously, then hands back to
/// ``ServerState/historyLoaded(_:messages:into:)`` or ``ServerState/historyTargetsLoaded(_:targets:into:)``.
public struct HistoryQuery: Sendable, Equatable {
    /// A point in a target's history, as `draft/chathistory` names it (`msgid=…` or `timestamp=…`).
    public enum Point: Sendable, Equatable {
        case msgid(String)
        /// Milliseconds since 1970.
        case timestamp(Int64)
    }

    public enum Kind: Sendable, Equatable {
        case latest(after: Point?)
        case before(Point)
        case after(Point)
        case around(Point)
        case between(Point, Point)
        /// Conversations with messages between two times (`CHATHISTORY TARGETS`).
        case targets(from: Int64, to: Int64)
        /// Messages matching a `SEARCH`, in ``HistoryQuery/channels`` (and the direct conversations of
        /// ``HistoryQuery/nick`` when it is not empty).
        case search(sender: String?, text: String?, after: Int64?, before: Int64?)
    }

    /// Why the history is wanted: it decides how the answer is wrapped.
    public enum Purpose: Sendable, Equatable {
        /// A `CHATHISTORY` command: always a `chathistory` batch.
        case chathistory
        /// Lines replayed on JOIN to a client without `draft/chathistory`.
        case join
        /// A `SEARCH` (soju.im/search): a `soju.im/search` batch.
        case search
    }

    public var session: SessionID
    /// The storage key: a folded channel name or ``HistoryQuery/directTarget(_:_:)`` of two nicks.
    public var target: String
    /// The target as the client named it, for the batch and the replies.
    public var name: String
    public var kind: Kind
    public var limit: Int
    public var purpose: Purpose
    /// The labeled-response label to put on the answer.
    public var label: String?
    /// Whether channel events (JOIN, PART, …) count and are returned: only for clients with `draft/event-playback`.
    public var events = false
    /// For ``Kind/targets(from:to:)`` and ``Kind/search(sender:text:after:before:)``: the storage keys the client
    /// may read.
    public var channels: [String] = []
    /// For ``Kind/targets(from:to:)`` and ``Kind/search(sender:text:after:before:)``: the folded nick whose direct
    /// conversations count (empty: none).
    public var nick: String = ""

    /// The storage key of a direct conversation between two folded nicks: the same whoever sent it.
    public static func directTarget(_ first: String, _ second: String) -> String {
        first < second ? "\u{1}\(first)\u{1}\(second)" : "\u{1}\(second)\u{1}\(first)"
    }

    /// In a cluster: the storage key where the AWAY changes of a user in no channel are logged, so the other nodes
    /// learn them as they learn DMs. Never a channel's or a conversation's key, and never history.
    public static func awayTarget(_ folded: String) -> String {
        "\u{2}\(folded)"
    }

    /// The other party of a direct conversation key, or `nil` when `key` is not one of `nick`'s conversations.
    public static func otherParty(of key: String, for nick: String) -> String? {
        let parts = key.split(separator: "\u{1}", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0] == nick { return parts[1] }
        if parts[1] == nick { return parts[0] }
        return nil
    }
}

/// Read or move the read marker of an account for a target (`draft/read-marker`).
public struct ReadMarkerRequest: Sendable, Equatable {
    public var session: SessionID
    /// The folded account name.
    public var account: String
    /// The storage key: a folded channel name or nick.
    public var target: String
    /// The target as the client named it.
    public var name: String
    /// The new marker (milliseconds since 1970), or `nil` to read it.
    public var set: Int64?

    public init(session: SessionID, account: String, target: String, name: String, set: Int64?) {
        self.session = session
        self.account = account
        self.target = target
        self.name = name
        self.set = set
    }
}
