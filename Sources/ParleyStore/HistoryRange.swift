/// A message's place in its target's history: its time, then its insertion order (messages of one millisecond).
public struct HistoryPosition: Sendable, Equatable, Comparable {
    public var time: Int64
    public var sequence: Int64

    public init(time: Int64, sequence: Int64) {
        self.time = time
        self.sequence = sequence
    }

    public static func < (left: Self, right: Self) -> Bool {
        (left.time, left.sequence) < (right.time, right.sequence)
    }
}

/// The one read every history query comes down to: the messages of `target` strictly after `after` and strictly
/// before `before` (either bound may be open), the `limit` of them nearest one end, returned oldest first. A store
/// renders this in its own SQL; what CHATHISTORY's subcommands mean (``MessageStore/latest(_:after:limit:events:)``
/// and the rest) is worked out once, in terms of it.
public struct HistoryRange: Sendable, Equatable {
    /// Which end of the range the limit counts from.
    public enum End: Sendable, Equatable {
        /// The oldest messages of the range.
        case after
        /// The newest messages of the range.
        case before
    }

    public var target: String
    public var after: HistoryPosition?
    public var before: HistoryPosition?
    public var nearest: End
    public var limit: Int
    /// Whether channel events (JOIN, PART, …) count and are returned; otherwise only PRIVMSG, NOTICE and TAGMSG.
    /// Never what is not history (a cluster's AWAY log, a channel's ENDED mark).
    public var events: Bool

    public init(
        target: String,
        after: HistoryPosition? = nil,
        before: HistoryPosition? = nil,
        nearest: End,
        limit: Int,
        events: Bool
    ) {
        self.target = target
        self.after = after
        self.before = before
        self.nearest = nearest
        self.limit = limit
        self.events = events
    }
}

// What each query means, for every store. Bounds are exclusive, as in `draft/chathistory`.
extension MessageStore {
    /// A point as a position: a message id is its message's own (`nil` if `target` has no such message); a
    /// timestamp sits before every message of that millisecond when `before` is true, after all of them otherwise.
    private func resolve(_ point: HistoryPoint, in target: String, before: Bool) async throws -> HistoryPosition? {
        switch point {
        case .timestamp(let time):
            return HistoryPosition(time: time, sequence: before ? .min : .max)
        case .msgid(let msgid):
            return try await self.position(of: msgid, in: target)
        }
    }

    /// The newest `limit` messages of `target` (after `bound` if given), oldest first.
    public func latest(
        _ target: String,
        after bound: HistoryPoint?,
        limit: Int,
        events: Bool
    ) async throws -> [StoredMessage] {
        var lower: HistoryPosition?
        if let bound {
            guard let position = try await self.resolve(bound, in: target, before: false) else { return [] }
            lower = position
        }
        return try await self.read(
            HistoryRange(target: target, after: lower, nearest: .before, limit: limit, events: events)
        )
    }

    /// Up to `limit` messages just before `point`, oldest first.
    public func before(
        _ target: String,
        _ point: HistoryPoint,
        limit: Int,
        events: Bool
    ) async throws -> [StoredMessage] {
        guard let upper = try await self.resolve(point, in: target, before: true) else { return [] }
        return try await self.read(
            HistoryRange(target: target, before: upper, nearest: .before, limit: limit, events: events)
        )
    }

    /// Up to `limit` messages just after `point`, oldest first.
    public func after(
        _ target: String,
        _ point: HistoryPoint,
        limit: Int,
        events: Bool
    ) async throws -> [StoredMessage] {
        guard let lower = try await self.resolve(point, in: target, before: false) else { return [] }
        return try await self.read(
            HistoryRange(target: target, after: lower, nearest: .after, limit: limit, events: events)
        )
    }

    /// Up to `limit` messages around `point`: `limit / 2` before it, the rest from it on (a message id's own message
    /// included), oldest first.
    public func around(
        _ target: String,
        _ point: HistoryPoint,
        limit: Int,
        events: Bool
    ) async throws -> [StoredMessage] {
        guard limit > 0, let position = try await self.resolve(point, in: target, before: true) else { return [] }
        let earlier = try await self.read(
            HistoryRange(target: target, before: position, nearest: .before, limit: limit / 2, events: events)
        )
        // One step back makes the lower bound inclusive, so the message itself comes on the later side.
        let inclusive = HistoryPosition(
            time: position.time,
            sequence: position.sequence == .min ? .min : position.sequence - 1
        )
        let later = try await self.read(
            HistoryRange(
                target: target,
                after: inclusive,
                nearest: .after,
                limit: limit - earlier.count,
                events: events
            )
        )
        return earlier + later
    }

    /// Up to `limit` messages strictly between two points, oldest first; when `start` is later than `end`, the
    /// `limit` messages closest to `start`.
    public func between(
        _ target: String,
        _ start: HistoryPoint,
        _ end: HistoryPoint,
        limit: Int,
        events: Bool
    ) async throws -> [StoredMessage] {
        guard let from = try await self.resolve(start, in: target, before: false),
            let to = try await self.resolve(end, in: target, before: true)
        else { return [] }
        if from <= to {
            return try await self.read(
                HistoryRange(target: target, after: from, before: to, nearest: .after, limit: limit, events: events)
            )
        }
        // Backwards: the range is the same, seen from `start`'s side.
        guard let fromBefore = try await self.resolve(start, in: target, before: true),
            let toAfter = try await self.resolve(end, in: target, before: false)
        else { return [] }
        return try await self.read(
            HistoryRange(
                target: target,
                after: toAfter,
                before: fromBefore,
                nearest: .before,
                limit: limit,
                events: events
            )
        )
    }
}
