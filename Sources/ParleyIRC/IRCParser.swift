public import NIOCore

/// Parses single IRC lines (without the trailing CR LF) into ``IRCMessage`` values.
///
/// The parser works on bytes and allocates only the strings of the resulting message. Parameters follow
/// RFC 2812: after fourteen middle parameters the rest of the line is the fifteenth, even without a colon.
public enum IRCParser {
    /// The most parameters a message carries (RFC 2812).
    public static let maximumParameters = 15

    /// Parses the readable bytes of `line`.
    /// - Throws: ``IRCParseError`` when the line is malformed.
    public static func parse(_ line: ByteBuffer) throws(IRCParseError) -> IRCMessage {
        let result = line.withUnsafeReadableBytes { bytes in Result { () throws(IRCParseError) in try parse(bytes) } }
        return try result.get()
    }

    /// Parses a line given as a string.
    /// - Throws: ``IRCParseError`` when the line is malformed.
    public static func parse(_ line: String) throws(IRCParseError) -> IRCMessage {
        var line = line
        let result = line.withUTF8 { bytes in
            Result { () throws(IRCParseError) in try parse(UnsafeRawBufferPointer(bytes)) }
        }
        return try result.get()
    }

    /// Parses raw bytes.
    /// - Throws: ``IRCParseError`` when the line is malformed.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(IRCParseError) -> IRCMessage {
        var index = 0
        let end = bytes.count
        for byte in bytes where byte == 0 || byte == ASCII.cr || byte == ASCII.lf {
            throw IRCParseError(.invalidCharacter, command: commandGuess(bytes))
        }
        skipSpaces(bytes, &index)
        if index == end { throw IRCParseError(.emptyLine) }

        var tags: [IRCTag] = []
        if bytes[index] == ASCII.at {
            let start = index + 1
            let stop = nextSpace(bytes, from: start)
            tags = try parseTags(UnsafeRawBufferPointer(rebasing: bytes[start..<stop]))
            index = stop
            skipSpaces(bytes, &index)
            if index == end { throw IRCParseError(.missingCommand) }
        }

        var source: String? = nil
        if bytes[index] == ASCII.colon {
            let start = index + 1
            let stop = nextSpace(bytes, from: start)
            guard stop > start else { throw IRCParseError(.invalidSource) }
            source = try string(bytes, start..<stop)
            index = stop
            skipSpaces(bytes, &index)
            if index == end { throw IRCParseError(.missingCommand) }
        }

        let commandStart = index
        let commandEnd = nextSpace(bytes, from: commandStart)
        let commandBytes = UnsafeRawBufferPointer(rebasing: bytes[commandStart..<commandEnd])
        let command: IRCCommand
        do {
            command = try parseCommand(commandBytes)
        } catch {
            let printable = commandBytes.count <= 64 && commandBytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
            throw IRCParseError(
                .invalidCommand,
                word: printable ? String(decoding: commandBytes, as: UTF8.self) : nil,
                label: tags.first { $0.key == "label" }?.value
            )
        }
        index = commandEnd

        var parameters: [String] = []
        while true {
            skipSpaces(bytes, &index)
            if index == end { break }
            if bytes[index] == ASCII.colon || parameters.count == maximumParameters - 1 {
                let start = bytes[index] == ASCII.colon ? index + 1 : index
                do {
                    parameters.append(try string(bytes, start..<end))
                } catch {
                    throw IRCParseError(.invalidUTF8, command: command)
                }
                break
            }
            let stop = nextSpace(bytes, from: index)
            do {
                parameters.append(try string(bytes, index..<stop))
            } catch {
                throw IRCParseError(.invalidUTF8, command: command)
            }
            index = stop
        }
        return IRCMessage(tags: tags, source: source, command: command, parameters: parameters)
    }

    /// Best-effort command name of a line that failed to parse, for `FAIL` replies.
    private static func commandGuess(_ bytes: UnsafeRawBufferPointer) -> IRCCommand? {
        var index = 0
        skipSpaces(bytes, &index)
        for prefix in [ASCII.at, ASCII.colon] where index < bytes.count && bytes[index] == prefix {
            index = nextSpace(bytes, from: index)
            skipSpaces(bytes, &index)
        }
        let stop = nextSpace(bytes, from: index)
        guard stop > index else { return nil }
        return try? parseCommand(UnsafeRawBufferPointer(rebasing: bytes[index..<stop]))
    }

    private static func parseCommand(_ bytes: UnsafeRawBufferPointer) throws(IRCParseError) -> IRCCommand {
        guard !bytes.isEmpty else { throw IRCParseError(.invalidCommand) }
        let allLetters = bytes.allSatisfy { ASCII.isLetter($0) }
        let numeric = bytes.count == 3 && bytes.allSatisfy { ASCII.isDigit($0) }
        guard allLetters || numeric else { throw IRCParseError(.invalidCommand) }
        return IRCCommand(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    private static func parseTags(_ bytes: UnsafeRawBufferPointer) throws(IRCParseError) -> [IRCTag] {
        guard !bytes.isEmpty else { throw IRCParseError(.invalidTags) }
        var tags: [IRCTag] = []
        var start = 0
        while start <= bytes.count {
            var stop = start
            while stop < bytes.count && bytes[stop] != ASCII.semicolon { stop += 1 }
            if stop > start {
                var equals = start
                while equals < stop && bytes[equals] != ASCII.equals { equals += 1 }
                guard equals > start else { throw IRCParseError(.invalidTags) }
                let key = try string(bytes, start..<equals)
                let value = equals < stop ? IRCTagEscaping.unescape(try string(bytes, (equals + 1)..<stop)) : ""
                // Later duplicates win, as the message-tags spec asks.
                if let existing = tags.firstIndex(where: { $0.key == key }) {
                    tags[existing].value = value
                } else {
                    tags.append(IRCTag(key, value))
                }
            }
            start = stop + 1
        }
        return tags
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(IRCParseError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        if slice.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: slice, as: UTF8.self)
        }
        guard let value = String(validating: slice, as: UTF8.self) else {
            throw IRCParseError(.invalidUTF8)
        }
        return value
    }

    private static func skipSpaces(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < bytes.count && bytes[index] == ASCII.space { index += 1 }
    }

    private static func nextSpace(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count && bytes[index] != ASCII.space { index += 1 }
        return index
    }
}
