/// Turns the bytes a terminal sends in raw mode into ``Key`` values. Bytes may arrive split anywhere (a UTF-8
/// character or an escape sequence across two reads); what is incomplete waits for the next ``decode(_:)``.
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Decodes what can be decoded and keeps an incomplete tail.
    public mutating func decode(_ bytes: some Sequence<UInt8>) -> [Key] {
        self.pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var index = 0
        while index < self.pending.count {
            guard let (key, length) = Self.decodeOne(self.pending[index...]) else { break }
            if let key { keys.append(key) }
            index += length
        }
        self.pending.removeFirst(index)
        return keys
    }

    /// Whether a lone ESC (or part of a sequence) is waiting; a reader that sees no more bytes soon calls
    /// ``flush()`` so that the Escape key itself is not held back.
    public var hasPending: Bool { !self.pending.isEmpty }

    /// Gives up on an incomplete sequence: a lone ESC becomes ``Key/escape``, anything else is dropped. A paste
    /// still arriving is not given up on: the terminal always ends it.
    public mutating func flush() -> [Key] {
        if self.pending.starts(with: Self.pasteStart) { return [] }
        defer { self.pending.removeAll() }
        return self.pending == [0x1B] ? [.escape] : []
    }

    /// One key from the front of `bytes` and how many bytes it used, `(nil, n)` for bytes that mean nothing, or
    /// `nil` when more bytes are needed.
    private static func decodeOne(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let first = bytes[bytes.startIndex]
        if first == 0x1B {
            if bytes.starts(with: Self.pasteStart) { return self.decodePaste(bytes) }
            if bytes.count < Self.pasteStart.count && Self.pasteStart.starts(with: bytes) { return nil }
        }
        switch first {
        case 0x0D, 0x0A: return (.enter, 1)
        case 0x09: return (.tab, 1)
        case 0x7F, 0x08: return (.backspace, 1)
        case 0x1B: return self.decodeEscape(bytes)
        case 0x01...0x1A:
            return (.control(Character(Unicode.Scalar(first + 0x60))), 1)
        case 0x00, 0x1C...0x1F: return (nil, 1)
        case 0x20...0x7E: return (.character(Character(Unicode.Scalar(first))), 1)
        default: return self.decodeUTF8(bytes)
        }
    }

    /// Bracketed paste mode: `ESC [200~`, the text, `ESC [201~`.
    static let pasteStart: [UInt8] = Array("\u{1B}[200~".utf8)
    static let pasteEnd: [UInt8] = Array("\u{1B}[201~".utf8)

    /// A whole paste, its line breaks as `\n` (terminals send CR), or `nil` until its end has arrived.
    private static func decodePaste(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let body = bytes.dropFirst(Self.pasteStart.count)
        var index = body.startIndex
        while index + Self.pasteEnd.count <= body.endIndex {
            if body[index..<(index + Self.pasteEnd.count)].elementsEqual(Self.pasteEnd) {
                var text: [UInt8] = []
                for (offset, byte) in body[body.startIndex..<index].enumerated() {
                    // CR LF and a lone CR are each one line break.
                    if byte == 0x0A && offset > 0 && body[body.startIndex + offset - 1] == 0x0D { continue }
                    text.append(byte == 0x0D ? 0x0A : byte)
                }
                return (.paste(String(decoding: text, as: UTF8.self)), index + Self.pasteEnd.count - bytes.startIndex)
            }
            index += 1
        }
        return nil
    }

    private static func decodeUTF8(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let first = bytes[bytes.startIndex]
        let length: Int
        switch first {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return (nil, 1)
        }
        guard bytes.count >= length else {
            // Wait for the rest unless what is here is already not a continuation.
            for byte in bytes.dropFirst() where byte & 0xC0 != 0x80 { return (nil, 1) }
            return nil
        }
        let encoded = bytes.prefix(length)
        var decoded = String(decoding: encoded, as: UTF8.self).unicodeScalars.makeIterator()
        guard let scalar = decoded.next(), scalar != "\u{FFFD}" else { return (nil, 1) }
        return (.character(Character(scalar)), length)
    }

    private static func decodeEscape(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let start = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let second = bytes[start + 1]
        switch second {
        case UInt8(ascii: "["):
            return self.decodeCSI(bytes)
        case UInt8(ascii: "O"):
            guard bytes.count >= 3 else { return nil }
            let keys: [UInt8: Key] = [
                UInt8(ascii: "A"): .up, UInt8(ascii: "B"): .down, UInt8(ascii: "C"): .right,
                UInt8(ascii: "D"): .left, UInt8(ascii: "H"): .home, UInt8(ascii: "F"): .end,
            ]
            return (keys[bytes[start + 2]], 3)
        case 0x1B:
            return (.escape, 1)
        case 0x7F, 0x08:
            return (.control("w"), 2)
        case UInt8(ascii: "b"):
            return (.wordLeft, 2)
        case UInt8(ascii: "f"):
            return (.wordRight, 2)
        case 0x20...0x7E:
            return (.alt(Character(Unicode.Scalar(second))), 2)
        default:
            return (.escape, 1)
        }
    }

    /// `ESC [ params final`: cursor keys, Home/End/Delete/PageUp/PageDown, with or without modifiers.
    private static func decodeCSI(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let start = bytes.startIndex
        var index = start + 2
        var parameters: [Int] = [0]
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                parameters[parameters.count - 1] = parameters[parameters.count - 1] * 10 + Int(byte - 48)
            case UInt8(ascii: ";"):
                parameters.append(0)
            case 0x40...0x7E:
                let length = index - start + 1
                let modified = parameters.count > 1 && parameters[1] >= 5  // Ctrl (5) or Ctrl+Shift
                switch byte {
                case UInt8(ascii: "A"): return (.up, length)
                case UInt8(ascii: "B"): return (.down, length)
                case UInt8(ascii: "C"): return (modified ? .wordRight : .right, length)
                case UInt8(ascii: "D"): return (modified ? .wordLeft : .left, length)
                case UInt8(ascii: "H"): return (.home, length)
                case UInt8(ascii: "F"): return (.end, length)
                case UInt8(ascii: "~"):
                    switch parameters[0] {
                    case 1, 7: return (.home, length)
                    case 4, 8: return (.end, length)
                    case 3: return (.delete, length)
                    case 5: return (.pageUp, length)
                    case 6: return (.pageDown, length)
                    default: return (nil, length)
                    }
                default: return (nil, length)
                }
            case 0x20...0x3F:
                break  // other parameter or intermediate bytes
            default:
                return (nil, index - start)  // not a CSI sequence after all
            }
            index += 1
        }
        return nil
    }
}
