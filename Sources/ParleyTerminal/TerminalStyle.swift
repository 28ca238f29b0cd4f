/// ANSI colours and attributes, or none at all (`NO_COLOR`, `--no-color`, or output that is not a terminal).
public struct TerminalStyle: Sendable {
    public var colors: Bool

    public init(colors: Bool) {
        self.colors = colors
    }

    /// Colours unless `NO_COLOR` is set to anything non-empty (https://no-color.org) or the flag turns them off.
    public static func detect(noColorFlag: Bool, environment: [String: String]) -> TerminalStyle {
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return TerminalStyle(colors: !noColorFlag && !noColor)
    }

    /// Colours that read on dark and light backgrounds alike (no black, white, or blue on black).
    static let palette = [31, 32, 33, 35, 36, 91, 92, 93, 94, 95, 96, 166, 172, 208]

    /// The palette index of `nick`: FNV-1a of its lowercase form, so the same person keeps one colour everywhere.
    public static func colorIndex(for nick: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in nick.lowercased().utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return Int(hash % UInt32(self.palette.count))
    }

    public func nick(_ nick: String) -> String {
        let code = Self.palette[Self.colorIndex(for: nick)]
        return code > 100 ? self.sgr("38;5;\(code)", nick) : self.sgr("\(code)", nick)
    }

    public func dim(_ text: String) -> String { self.sgr("2", text) }
    public func bold(_ text: String) -> String { self.sgr("1", text) }
    public func reverse(_ text: String) -> String { self.sgr("7", text) }
    public func error(_ text: String) -> String { self.sgr("31", text) }
    public func highlight(_ text: String) -> String { self.sgr("1;33", text) }

    private func sgr(_ code: String, _ text: String) -> String {
        self.colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
