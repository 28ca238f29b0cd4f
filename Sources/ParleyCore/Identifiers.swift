import ParleyIRC

/// Identifies one connection for its whole life. Never reused within a server run.
public struct SessionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: SessionID, rhs: SessionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "session-\(self.rawValue)" }
}

/// A nickname folded under the `ascii` casemapping, so two nicks can only be compared through it.
public struct NickKey: Hashable, Sendable {
    public let folded: String
    public init(_ nick: String) { self.folded = CaseMapping.fold(nick) }
}

/// A channel name folded under the `ascii` casemapping.
public struct ChannelKey: Hashable, Sendable {
    public let folded: String
    public init(_ name: String) { self.folded = CaseMapping.fold(name) }
}

/// Wall-clock time given to the core by its host (the core reads no clock itself).
public struct Timestamp: Hashable, Sendable, Comparable {
    public var millisecondsSince1970: Int64
    public init(millisecondsSince1970: Int64) { self.millisecondsSince1970 = millisecondsSince1970 }
    public var seconds: Int64 { self.millisecondsSince1970 / 1000 }
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }
    /// The `server-time` form.
    public var serverTime: String { IRCTimestamp.format(millisecondsSince1970: self.millisecondsSince1970) }
}
