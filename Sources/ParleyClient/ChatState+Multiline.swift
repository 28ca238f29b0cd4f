import ParleyIRC

/// draft/multiline batches being received: their lines gather until the batch ends, then they are one message.
struct MultilineGather: Sendable {
    private var open: [String: (opening: IRCMessage, lines: [IRCMessage])] = [:]

    func isOpen(_ reference: String) -> Bool { self.open[reference] != nil }

    mutating func begin(_ reference: String, opening: IRCMessage) {
        self.open[reference] = (opening, [])
    }

    mutating func add(_ line: IRCMessage, to reference: String) {
        self.open[reference]?.lines.append(line)
    }

    /// The batch's message: the opening line's tags and source (an enclosing batch's tag too, so a history page
    /// keeps it), the lines' command, the lines joined (a concat line without a break). `nil` for an empty batch.
    mutating func end(_ reference: String) -> IRCMessage? {
        guard let (opening, lines) = self.open.removeValue(forKey: reference), let first = lines.first,
            let target = opening.parameter(2)
        else { return nil }
        let text = MultilineText(
            lines: lines.map {
                MultilineText.Line(
                    $0.parameter(1) ?? "",
                    concat: $0.tags.contains { $0.key == MultilineText.concatTag }
                )
            }
        )
        return IRCMessage(
            tags: opening.tags,
            source: opening.source,
            command: first.command,
            parameters: [target, text.combined]
        )
    }
}

extension ChatState {
    /// The lines of a multiline message as shown: one line each, every one under the sender's name.
    static func splitAtLineBreaks(_ lines: [ChatLine]) -> [ChatLine] {
        lines.flatMap { line -> [ChatLine] in
            guard line.text.contains("\n") else { return [line] }
            return line.text.split(separator: "\n", omittingEmptySubsequences: false).map {
                var each = line
                each.text = String($0)
                return each
            }
        }
    }
}
