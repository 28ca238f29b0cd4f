/// One stored message: a channel message, notice, TAGMSG or DM, as history and search return it.
public struct StoredMessage: Sendable, Equatable {
    /// The server-assigned message id (the `msgid` tag).
    public var msgid: String
    /// The history target's storage key (`HistoryTarget.storageKey` in ParleyCore: a folded channel name, or an
    /// owner's copy of a direct conversation).
    public var target: String
    /// Server time in milliseconds since 1970.
    public var time: Int64
    /// The sender's `nick!user@host`.
    public var sender: String
    /// The sender's account, if logged in.
    public var account: String?
    /// `PRIVMSG`, `NOTICE` or `TAGMSG`.
    public var command: String
    /// The target as the sender wrote it (channel name or nick), for replaying the line.
    public var recipient: String
    public var text: String
    /// Client-only tags as they were relayed, in wire form without the leading `@` (empty when none).
    public var tags: String
    /// Insertion order, assigned by the store; breaks ties between messages with the same time.
    public var sequence: Int64
    /// The account to hand this DM to when it next logs in (it was offline), if any.
    public var deliverTo: String?

    public init(
        msgid: String,
        target: String,
        time: Int64,
        sender: String,
        account: String? = nil,
        command: String,
        recipient: String,
        text: String,
        tags: String = "",
        sequence: Int64 = 0,
        deliverTo: String? = nil
    ) {
        self.msgid = msgid
        self.target = target
        self.time = time
        self.sender = sender
        self.account = account
        self.command = command
        self.recipient = recipient
        self.text = text
        self.tags = tags
        self.sequence = sequence
        self.deliverTo = deliverTo
    }
}

/// A point in a target's history: a message (by id) or a time. Bounds are exclusive, as in `draft/chathistory`.
public enum HistoryPoint: Sendable, Equatable {
    case msgid(String)
    /// Milliseconds since 1970.
    case timestamp(Int64)
}

/// All that ``HistoryWriter`` needs: a way to make a batch durable.
public protocol HistoryAppender: Sendable {
    /// Stores `messages` in one transaction; returns once they are durable.
    func append(_ messages: [StoredMessage]) async throws
}

/// What the server needs from storage for history. Shaped so that a PostgreSQL implementation can follow: every call
/// is async and names its target; ordering is by (time, sequence).
public protocol MessageStore: HistoryAppender {
    /// Throws unless the store answers a trivial query (for health checks).
    func check() async throws

    /// Where the message with `msgid` sits in `target`'s history, or `nil` if `target` has none.
    func position(of msgid: String, in target: String) async throws -> HistoryPosition?

    /// Who sent the message with `msgid` in `target` (its `account` tag as stored, and its source), or `nil` if
    /// `target` has no such message.
    func sender(of msgid: String, in target: String) async throws -> (account: String?, sender: String)?

    /// Deletes the message with `msgid` from each of `targets` (a direct message's copies); returns how many rows
    /// went. Its search-index entry and any pending delivery of it go too.
    func delete(_ msgid: String, in targets: [String]) async throws -> Int

    /// The messages `range` holds, oldest first. Every history query (`latest`, `before`, `after`, `around`,
    /// `between`, in HistoryRange.swift) is one or two of these.
    func read(_ range: HistoryRange) async throws -> [StoredMessage]

    /// Messages waiting for `account` (DMs sent while it was offline), oldest first. They keep waiting until
    /// ``acknowledgeDeliveries(for:through:)``: a session that drops before it has them gets them next time.
    func pendingDeliveries(for account: String) async throws -> [StoredMessage]

    /// The messages waiting for `account` up to `sequence` (inclusive) reached it: they stop waiting.
    func acknowledgeDeliveries(for account: String, through sequence: Int64) async throws

    /// When each channel's history last ended (the newest `ENDED` row per target, ms): read once at start.
    func channelEnds() async throws -> [String: Int64]

    /// Messages matching a search, newest `limit` of them, returned oldest first.
    func search(_ query: SearchQuery) async throws -> [StoredMessage]

    /// Deletes messages older than `cutoff` (ms since 1970) and, per target, all but the newest `keepPerTarget`.
    /// - Returns: How many messages were deleted.
    func prune(olderThan cutoff: Int64?, keepPerTarget: Int?) async throws -> Int

    /// Conversations with a message strictly between two times, each with the time of its latest message there,
    /// oldest first: the channels among `channels`, and `owner`'s copies of direct conversations.
    func targets(
        channels: [String],
        directFor owner: String,
        from: Int64,
        to: Int64,
        limit: Int
    ) async throws -> [(target: String, time: Int64)]
}

/// What to look for in history. Targets are storage keys the searcher may read.
public struct SearchQuery: Sendable, Equatable {
    public var targets: [String]
    /// An owner (`a:ACCOUNT` or `c:CONNECTION`) whose copies of direct conversations are searched too.
    public var directFor: String?
    /// A folded nick: only messages from it.
    public var sender: String?
    /// Words that must all appear (full-text).
    public var text: String?
    /// Milliseconds since 1970, exclusive bounds.
    public var after: Int64?
    public var before: Int64?
    public var limit: Int

    public init(
        targets: [String],
        directFor: String? = nil,
        sender: String? = nil,
        text: String? = nil,
        after: Int64? = nil,
        before: Int64? = nil,
        limit: Int
    ) {
        self.targets = targets
        self.directFor = directFor
        self.sender = sender
        self.text = text
        self.after = after
        self.before = before
        self.limit = limit
    }
}

extension MessageStore {
    /// Everything, channel events included.
    public func latest(_ target: String, after bound: HistoryPoint?, limit: Int) async throws -> [StoredMessage] {
        try await self.latest(target, after: bound, limit: limit, events: true)
    }

    public func before(_ target: String, _ point: HistoryPoint, limit: Int) async throws -> [StoredMessage] {
        try await self.before(target, point, limit: limit, events: true)
    }

    public func after(_ target: String, _ point: HistoryPoint, limit: Int) async throws -> [StoredMessage] {
        try await self.after(target, point, limit: limit, events: true)
    }

    public func around(_ target: String, _ point: HistoryPoint, limit: Int) async throws -> [StoredMessage] {
        try await self.around(target, point, limit: limit, events: true)
    }

    public func between(
        _ target: String,
        _ start: HistoryPoint,
        _ end: HistoryPoint,
        limit: Int
    ) async throws -> [StoredMessage] {
        try await self.between(target, start, end, limit: limit, events: true)
    }
}

/// A storage failure in words, naming what went wrong.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension StoredMessage {
    /// The command of a row that is no message but an order: the channel stored under `target` was renamed to the
    /// key in `text`. An appender carries it out where it stands among the rows it writes (before it, rows go
    /// under the old key and move; after it, under the new one): the history and read markers move to the new
    /// key, and whatever an ended channel of the new name left there is deleted. It is never stored itself.
    public static let renameCommand = "RENAMED"

    /// For a rename order, the channel's new key.
    public var renamedTo: String? { self.command == Self.renameCommand ? self.text : nil }
}
