/// The `ascii` casemapping: only `A`–`Z` fold to `a`–`z`. Parley advertises `CASEMAPPING=ascii`.
public enum CaseMapping {
    /// Folds `text` for comparisons of nicknames and channel names.
    public static func fold(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
        return String(
            decoding: text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 },
            as: UTF8.self
        )
    }

    /// Uppercases ASCII letters only.
    public static func asciiUppercased(_ text: String) -> String {
        String(
            decoding: text.utf8.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 & ~0x20 : $0 },
            as: UTF8.self
        )
    }
}
