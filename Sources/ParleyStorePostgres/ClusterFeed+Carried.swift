import ParleyStore

/// Messages carried in a commit's notifications, so that the other nodes (and this one, which hears its own) need not
/// read them back: `m ` and then, per message, ten fields each written as `LENGTH:VALUE` (LENGTH in UTF-8 bytes), so
/// that any text, line breaks and control characters included, comes back as it went.
extension ClusterFeed {
    /// One commit's notifications: its messages that fit PostgreSQL's 8,000-byte payloads, in as few payloads as
    /// they fit, then `SEQUENCE TARGET` pairs for every target with a message too large to carry (read as before).
    /// `numbers[i]` is `messages[i]`'s number in its target.
    static func payloads(messages: [StoredMessage], numbers: [Int64], heads: [String: Int64]) -> [String] {
        var payloads: [String] = []
        var current = ""
        var uncarried: [String: Int64] = [:]
        for (message, number) in zip(messages, numbers) {
            let encoded = Self.encode(message, number: number)
            guard 2 + encoded.utf8.count <= signalLimit else {
                uncarried[message.target] = heads[message.target] ?? number
                continue
            }
            if !current.isEmpty && current.utf8.count + encoded.utf8.count > signalLimit {
                payloads.append(current)
                current = ""
            }
            if current.isEmpty { current = "m " }
            current += encoded
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads + Self.payloads(heads: uncarried)
    }

    static func encode(_ message: StoredMessage, number: Int64) -> String {
        var out = ""
        for field in [
            String(number), message.msgid, message.target, String(message.time), message.sender,
            message.account ?? "", message.command, message.recipient, message.text, message.tags,
        ] {
            out += String(field.utf8.count)
            out += ":"
            out += field
        }
        return out
    }

    /// The messages of an `m ` payload (without its `m `); `nil` when it is not one this node wrote.
    static func carried(_ body: Substring) -> [NumberedMessage]? {
        var rest = body.utf8[...]
        var fields: [String] = []
        var messages: [NumberedMessage] = []
        while !rest.isEmpty {
            guard let colon = rest.firstIndex(of: UInt8(ascii: ":")),
                let length = Int(Substring(rest[..<colon])), length >= 0,
                rest.distance(from: rest.index(after: colon), to: rest.endIndex) >= length
            else { return nil }
            let start = rest.index(after: colon)
            let end = rest.index(start, offsetBy: length)
            guard let field = String(rest[start..<end]) else { return nil }
            fields.append(field)
            rest = rest[end...]
            guard fields.count == 10 else { continue }
            guard let number = Int64(fields[0]), let time = Int64(fields[3]), !fields[2].isEmpty else { return nil }
            messages.append(
                NumberedMessage(
                    number: number,
                    message: StoredMessage(
                        msgid: fields[1],
                        target: fields[2],
                        time: time,
                        sender: fields[4],
                        account: fields[5].isEmpty ? nil : fields[5],
                        command: fields[6],
                        recipient: fields[7],
                        text: fields[8],
                        tags: fields[9]
                    )
                )
            )
            fields = []
        }
        return fields.isEmpty && !messages.isEmpty ? messages : nil
    }
}
