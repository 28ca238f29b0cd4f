import ParleyClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a ``ChatLine`` into the text shown for it: `HH:MM <nick> text`, actions, notices, and dimmed events.
struct LineFormatter {
    var style: TerminalStyle

    /// - Parameter windowLabel: Shown before the line when it belongs to another window than the one in view.
    func format(_ line: ChatLine, windowLabel: String? = nil) -> String {
        let clock = Self.clock(line.time)
        let label = windowLabel.map { "[\($0)] " } ?? ""
        // A display name is shown with the nick, which is what /msg and mentions take.
        let nick = line.displayName.map { "\(Self.stripControls($0)) (\(line.nick ?? ""))" } ?? line.nick ?? ""
        let shownNick = line.isOwn ? self.style.bold(nick) : self.style.nick(nick)
        let text = Self.stripControls(line.text)
        switch line.kind {
        case .message:
            let body = "\(clock) \(label)<\(shownNick)> \(text)"
            return line.mentionsMe && !line.isOwn ? self.style.highlight("\(clock) \(label)<\(nick)> \(text)") : body
        case .action:
            return "\(clock) \(label)* \(shownNick) \(text)"
        case .notice:
            return nick.isEmpty ? "\(clock) \(label)-- \(text)" : "\(clock) \(label)-\(shownNick)- \(text)"
        case .event:
            return self.style.dim("\(clock) \(label)-!- \(text)")
        case .info:
            return "\(clock) \(label)-- \(text)"
        case .error:
            return self.style.error("\(clock) \(label)!! \(text)")
        }
    }

    /// `HH:MM` in local time.
    static func clock(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let hour = parts.tm_hour < 10 ? "0\(parts.tm_hour)" : "\(parts.tm_hour)"
        let minute = parts.tm_min < 10 ? "0\(parts.tm_min)" : "\(parts.tm_min)"
        return "\(hour):\(minute)"
    }

    /// Removes control characters (IRC formatting codes, escape sequences) so nobody can move our cursor or
    /// recolour our terminal; tabs become spaces.
    static func stripControls(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) }) else { return text }
        func isDigit(_ index: Int) -> Bool { index < scalars.count && ("0"..."9").contains(scalars[index]) }
        var out = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar.value {
            case 0x03:  // mIRC colour: \x03[N[N][,N[N]]]
                if isDigit(index) { index += 1 }
                if isDigit(index) { index += 1 }
                if index + 1 < scalars.count && scalars[index] == "," && isDigit(index + 1) {
                    index += 2
                    if isDigit(index) { index += 1 }
                }
            case 0x09:
                out.append(" ")
            case 0..<0x20, 0x7F..<0xA0:
                continue
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }
}
