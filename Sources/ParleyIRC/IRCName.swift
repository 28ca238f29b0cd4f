/// Validation of nicknames, channel names and masks.
public enum IRCName {
    /// Whether `nick` is a valid nickname of at most `maximumLength` bytes.
    ///
    /// RFC 2812: a letter or one of `[]\`_^{|}` first, then letters, digits, those specials and `-`.
    public static func isValidNickname(_ nick: String, maximumLength: Int) -> Bool {
        let bytes = nick.utf8
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        guard ASCII.isLetter(first) || isSpecial(first) else { return false }
        return bytes.allSatisfy { ASCII.isLetter($0) || ASCII.isDigit($0) || isSpecial($0) || $0 == UInt8(ascii: "-") }
    }

    /// Whether `name` is a valid channel name: `#` first, at most `maximumLength` bytes, and no space, comma,
    /// BEL, colon or control character.
    public static func isValidChannelName(_ name: String, maximumLength: Int) -> Bool {
        let bytes = name.utf8
        guard bytes.first == UInt8(ascii: "#"), bytes.count >= 2, bytes.count <= maximumLength else { return false }
        return !bytes.contains { $0 <= 0x20 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ":") || $0 == 0x7F }
    }

    /// Whether `target` looks like a channel name (starts with a channel type).
    public static func isChannel(_ target: String) -> Bool {
        target.utf8.first == UInt8(ascii: "#")
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\\"), UInt8(ascii: "`"), UInt8(ascii: "_"),
            UInt8(ascii: "^"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
            return true
        default:
            return false
        }
    }
}

/// Glob matching of IRC masks (`*` any run, `?` one character), under the `ascii` casemapping.
public enum IRCWildcard {
    /// Whether `text` matches `pattern`.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(CaseMapping.fold(pattern).utf8)
        let t = Array(CaseMapping.fold(text).utf8)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Turns a partial mask into a full `nick!user@host` mask, as servers do for `MODE +b nick`.
    public static func normalizeMask(_ mask: String) -> String {
        let hasBang = mask.contains("!")
        let hasAt = mask.contains("@")
        switch (hasBang, hasAt) {
        case (true, true): return mask
        case (true, false): return mask + "@*"
        case (false, true): return "*!" + mask
        case (false, false): return mask + "!*@*"
        }
    }
}
