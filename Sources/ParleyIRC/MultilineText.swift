/// The text of one `draft/multiline` message as its lines: what a client sends in a multiline batch, and what a
/// server or client gets back from the message's combined value.
public struct MultilineText: Sendable, Equatable {
    /// One protocol line of the message.
    public struct Line: Sendable, Equatable {
        public var text: String
        /// `draft/multiline-concat`: joined to the line before without a line feed (a long line cut in pieces).
        public var concat: Bool

        public init(_ text: String, concat: Bool = false) {
            self.text = text
            self.concat = concat
        }
    }

    public var lines: [Line]

    public init(lines: [Line]) {
        self.lines = lines
    }

    /// The batch type and capability name.
    public static let batchType = "draft/multiline"
    /// The tag that joins a line to the one before.
    public static let concatTag = "draft/multiline-concat"

    /// Bytes of text per line when a combined value is cut into lines: with a source of up to ~100 bytes, the
    /// command and a target, a line stays within 512 bytes.
    public static let lineBytes = 400

    /// The message as one value: lines joined by a line feed, concatenated lines joined by nothing.
    public var combined: String {
        var text = ""
        for (index, line) in self.lines.enumerated() {
            if index > 0 && !line.concat { text += "\n" }
            text += line.text
        }
        return text
    }

    /// Bytes `max-bytes` counts: every line's text and one for each line feed that joins two lines.
    public var byteCount: Int {
        var count = 0
        for (index, line) in self.lines.enumerated() {
            count += line.text.utf8.count
            if index > 0 && !line.concat { count += 1 }
        }
        return count
    }

    /// Whether every line is blank: no message at all.
    public var isBlank: Bool { self.lines.allSatisfy { $0.text.isEmpty } }

    /// Whether `text` (a combined value) cannot go out as one ordinary line: it has a line break, or it is longer
    /// than any one client line can carry.
    public static func needsLines(_ text: String) -> Bool {
        text.utf8.count > 510 || text.utf8.contains(UInt8(ascii: "\n"))
    }

    /// The lines of a combined value: one per line break, and a line longer than `lineBytes` cut between words
    /// (the space stays at the end of a piece, as the specification recommends) into concatenated pieces.
    public init(combined text: String, lineBytes: Int = MultilineText.lineBytes) {
        var lines: [Line] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var rest = Substring(paragraph)
            var first = true
            repeat {
                let piece = Self.piece(of: rest, maximumBytes: lineBytes)
                lines.append(Line(String(piece), concat: !first))
                rest = rest[piece.endIndex...]
                first = false
            } while !rest.isEmpty
        }
        self.lines = lines
    }

    /// The longest start of `text` within `maximumBytes`, ending after a space where there is one, never inside a
    /// character.
    static func piece(of text: Substring, maximumBytes: Int) -> Substring {
        guard text.utf8.count > maximumBytes else { return text }
        var end = text.startIndex
        var lastSpaceEnd: Substring.Index?
        var bytes = 0
        for index in text.indices {
            let size = text[index].utf8.count
            if bytes + size > maximumBytes { break }
            bytes += size
            end = text.index(after: index)
            if text[index] == " " { lastSpaceEnd = end }
        }
        if end == text.startIndex { end = text.index(after: text.startIndex) }  // one character wider than the limit
        return text[..<(lastSpaceEnd ?? end)]
    }
}

extension MultilineText {
    /// What a server takes in one multiline message, as its capability states it.
    public struct Limits: Sendable, Equatable {
        /// `max-bytes`: bytes of text, one for each line break.
        public var maximumBytes: Int
        /// `max-lines`: protocol lines in one batch.
        public var maximumLines: Int

        public init(maximumBytes: Int, maximumLines: Int) {
            self.maximumBytes = maximumBytes
            self.maximumLines = maximumLines
        }

        /// From the capability's value, `max-bytes=4096[,max-lines=100]`; without `max-bytes` (required) `nil`.
        public init?(capabilityValue: String) {
            var bytes: Int?
            var lines = Int.max
            for token in capabilityValue.split(separator: ",") {
                let parts = token.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let value = Int(parts[1]), value > 0 else { continue }
                if parts[0] == "max-bytes" { bytes = value }
                if parts[0] == "max-lines" { lines = value }
            }
            guard let bytes else { return nil }
            self.init(maximumBytes: bytes, maximumLines: lines)
        }
    }

    /// `text` as multiline messages within `limits`, usually one; each line cut into pieces of at most `lineBytes`
    /// (joined with the concat tag). A message never begins with a piece that continues the line before.
    public static func messages(_ text: String, lineBytes: Int, limits: Limits) -> [MultilineText] {
        var messages: [MultilineText] = []
        var current = MultilineText(lines: [])
        for var line in MultilineText(combined: text, lineBytes: lineBytes).lines {
            var next = current
            next.lines.append(line)
            if !current.lines.isEmpty
                && (next.lines.count > limits.maximumLines || next.byteCount > limits.maximumBytes)
            {
                messages.append(current)
                line.concat = false
                next = MultilineText(lines: [line])
            }
            current = next
        }
        if !current.lines.isEmpty { messages.append(current) }
        return messages.filter { !$0.isBlank }
    }
}
