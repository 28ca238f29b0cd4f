import ParleyIRC

/// Who is typing where, from IRCv3 `+typing` notices, and when each notice lapses: an `active` one after 6 s
/// without another, a `paused` one after 30 s; `done`, a message, leaving or a nick change end it at once.
public struct Typists: Sendable, Equatable {
    static let activeLapses: Int64 = 6_000
    static let pausedLapses: Int64 = 30_000

    /// Window (folded) → typist (folded nick) → (nick as shown, when the notice lapses in ms since 1970).
    private var windows: [String: [String: Entry]] = [:]

    struct Entry: Sendable, Equatable {
        var nick: String
        var lapses: Int64
    }

    public init() {}

    public var isEmpty: Bool { self.windows.isEmpty }

    /// A `+typing` notice with `value` from `nick` in `window` (a channel, or the nick for a conversation).
    public mutating func note(_ value: String, from nick: String, in window: String, now: Int64) {
        let key = CaseMapping.fold(window)
        switch value {
        case "active", "paused":
            let lapses = now + (value == "active" ? Self.activeLapses : Self.pausedLapses)
            self.windows[key, default: [:]][CaseMapping.fold(nick)] = Entry(nick: nick, lapses: lapses)
        default:
            self.end(nick, in: window)
        }
    }

    /// `nick` spoke or left in `window`, or (`window` nil) quit or changed nick: whatever they typed is over.
    public mutating func end(_ nick: String, in window: String?) {
        let folded = CaseMapping.fold(nick)
        for key in window.map({ [CaseMapping.fold($0)] }) ?? Array(self.windows.keys) {
            self.windows[key]?[folded] = nil
            if self.windows[key]?.isEmpty == true { self.windows[key] = nil }
        }
    }

    /// Forgets the notices that lapsed by `now`; whether any did.
    public mutating func expire(now: Int64) -> Bool {
        var changed = false
        for (key, typists) in self.windows {
            let live = typists.filter { $0.value.lapses > now }
            guard live.count != typists.count else { continue }
            changed = true
            self.windows[key] = live.isEmpty ? nil : live
        }
        return changed
    }

    /// Who is typing in `window` at `now`, by name.
    public func names(in window: String, now: Int64) -> [String] {
        (self.windows[CaseMapping.fold(window)] ?? [:]).values.filter { $0.lapses > now }.map(\.nick)
            .sorted { $0.lowercased() < $1.lowercased() }
    }

    /// "alice is typing…", "alice and bob are typing…", or nil when no one is.
    public static func sentence(_ names: [String]) -> String? {
        switch names.count {
        case 0: nil
        case 1: "\(names[0]) is typing…"
        case 2, 3: "\(names.dropLast().joined(separator: ", ")) and \(names[names.count - 1]) are typing…"
        default: "several people are typing…"
        }
    }
}
