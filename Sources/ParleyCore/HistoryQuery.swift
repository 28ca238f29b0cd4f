import ParleyIRC

/// A question about stored history that the host answers asynchronously, then hands back to
/// ``ServerState/historyLoaded(_:messages:into:)`` or ``ServerState/historyTargetsLoaded(_:targets:into:)``.
public struct HistoryQuery: CoreEffect, Equatable {
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
    /// The storage key (``HistoryTarget/storageKey``).
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
    /// For ``Kind/targets(from:to:)`` and ``Kind/search(sender:text:after:before:)``: the owner
    /// (``HistoryQuery/owner(account:connection:)``) whose copies of direct conversations count (empty: none).
    public var owner: String = ""
    /// Per storage key, a time (ms) the asker may read only after: an unregistered channel's history is that of its
    /// current incarnation only (whoever recreates an emptied channel reads nothing said before, nor its old key in
    /// a MODE line). The host leaves out messages and conversations from then or before.
    public var since: [String: Int64] = [:]

    /// Who private history belongs to: an account (a person, on every device) or, for a user without one, the one
    /// connection that took part (`connection` is unique across runs and nodes). Never a nick: a nick is a label
    /// that anyone can take once it is free.
    public static func owner(account: String?, connection: String) -> String {
        account.map { "a:" + CaseMapping.fold($0) } ?? "c:" + connection
    }
}

extension HistoryQuery.Kind {
    /// The same request with every timestamp bound before `floor` moved up to it, so that `AFTER` a time before
    /// the floor starts after the floor rather than in history the asker may not read (which the host would leave
    /// out, leaving the page empty). Message id bounds stay: the host filters what they reach.
    func clamped(to floor: Int64) -> Self {
        func clamp(_ point: HistoryQuery.Point) -> HistoryQuery.Point {
            if case .timestamp(let time) = point, time < floor { return .timestamp(floor) }
            return point
        }
        switch self {
        case .latest(let bound): return .latest(after: bound.map(clamp))
        case .before(let point): return .before(clamp(point))
        case .after(let point): return .after(clamp(point))
        case .around(let point): return .around(clamp(point))
        case .between(let start, let end): return .between(clamp(start), clamp(end))
        case .targets, .search: return self
        }
    }
}
