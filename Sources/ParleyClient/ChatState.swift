public import ParleyIRC

/// What a chat client knows about its connection: its nick, the server, the channels it is in and who is in them.
/// ``apply(_:now:)`` updates it from one server message and returns the lines to show a person. A plain value with
/// no I/O, so the terminal client, tests and other front ends share it.
public struct ChatState: Sendable {
    public struct Member: Equatable, Sendable {
        public var nick: String
        /// Prefix symbols, highest first (`@+` with multi-prefix).
        public var prefixes: String
    }

    public struct ChannelState: Sendable {
        public var name: String
        public var topic: String?
        /// Keyed by the case-folded nick.
        public var members: [String: Member] = [:]
    }

    public internal(set) var nick: String
    public internal(set) var serverName: String?
    public internal(set) var networkName: String?
    /// Whether the welcome (001) arrived.
    public internal(set) var isRegistered = false
    /// The message of the day, as received during registration or the last `MOTD`.
    public internal(set) var motd: [String] = []
    /// Capabilities the server acknowledged.
    public private(set) var capabilities: Set<String> = []
    /// Keyed by the case-folded channel name.
    public internal(set) var channels: [String: ChannelState] = [:]
    /// Who is typing in which window.
    public var typists = Typists()
    /// The strict transport policy the server stated over TLS, if any (the client remembers it per host).
    public var strictTransport: StrictTransportPolicy?
    /// Read markers (draft/read-marker) the server sent, by case-folded target: milliseconds since 1970.
    public private(set) var readMarkers: [String: Int64] = [:]
    /// The account this connection is logged in to (900), if any: the server keeps read markers only for accounts.
    public internal(set) var account: String?
    /// Channel-membership modes and their symbols, highest first (from ISUPPORT PREFIX).
    public internal(set) var prefixModes: [(mode: Character, symbol: Character)] = [("o", "@"), ("v", "+")]
    /// Channel modes that always take a parameter (lists and keys) and those that take one only when set.
    var modesWithParameter: Set<Character> = ["b", "e", "I", "k"]
    var modesWithParameterWhenSet: Set<Character> = ["l"]
    /// The first MOTD belongs to the welcome and is shown by the client as it likes; later ones (`/motd`) are lines.
    var welcomeMotdDone = false
    /// Open batches (reference → type, messages seen so far): history and search results are shown differently.
    private var batches: [String: (type: String, count: Int)] = [:]
    /// Msgids of the messages shown lately, oldest first (bounded): a reconnect's or `/history`'s replay of a line
    /// already on screen is not shown twice.
    private var seenMessageIDs: Set<String> = []
    private var seenOrder: [String] = []
    /// Who said what, by msgid, for the lines remembered above: a reply or a reaction names what it answers.
    private var said: [String: (nick: String, text: String)] = [:]
    private static let seenLimit = 4000
    /// The msgid of this client's last message in each window (case-folded name), as echoed: what `/delete` takes.
    private var lastOwn: [String: String] = [:]
    /// The hits of the latest search, numbered from 1 as shown: where each was said (a channel, or the other party
    /// of a conversation) and its msgid, for `/goto N`.
    public private(set) var searchHits: [(window: String, msgid: String)] = []
    /// The window whose next history batch is the context of a search hit: shown even where lines are on screen.
    private var contextFor: String?
    /// draft/multiline batches being received.
    private var multiline = MultilineGather()
    /// Display names (IRCv3 metadata `display-name`) by folded nick; shown only where they differ from the nick.
    var displayNames: [String: String] = [:]
    /// What the server takes in one draft/multiline message, when it offers the capability (from `CAP LS`).
    public var multilineLimits: MultilineText.Limits?

    public init(nick: String) {
        self.nick = nick
    }

    /// The channel named `name`, if we are in it.
    public func channel(_ name: String) -> ChannelState? {
        self.channels[CaseMapping.fold(name)]
    }

    /// The members of `channel`, operators first, then voiced, then by name.
    public func members(of channel: String) -> [Member] {
        guard let state = self.channel(channel) else { return [] }
        let rank = Dictionary(uniqueKeysWithValues: self.prefixModes.enumerated().map { ($1.symbol, $0) })
        return state.members.values.sorted { left, right in
            let leftRank = left.prefixes.first.flatMap { rank[$0] } ?? Int.max
            let rightRank = right.prefixes.first.flatMap { rank[$0] } ?? Int.max
            if leftRank != rightRank { return leftRank < rightRank }
            return left.nick.lowercased() < right.nick.lowercased()
        }
    }

    /// Whether `text` mentions `nick` as a word (case-insensitively).
    public static func mentions(_ text: String, nick: String) -> Bool {
        let needle = Array(nick.lowercased().unicodeScalars)
        let haystack = Array(text.lowercased().unicodeScalars)
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || "_-[]\\`^{}|".unicodeScalars.contains(scalar)
        }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            let before = start == 0 || !isWordScalar(haystack[start - 1])
            let afterIndex = start + needle.count
            let after = afterIndex == haystack.count || !isWordScalar(haystack[afterIndex])
            if before && after { return true }
        }
        return false
    }

    /// Records a capability the server acknowledged (or removed, with a leading `-`).
    public mutating func acknowledge(capabilities names: [String]) {
        for name in names {
            if name.hasPrefix("-") {
                self.capabilities.remove(String(name.dropFirst()))
            } else {
                self.capabilities.insert(name)
            }
        }
    }

    /// Forgets the channels (the connection is gone; they will be joined again).
    public mutating func connectionLost() {
        self.channels = [:]
        self.isRegistered = false
        self.capabilities = []
    }

    /// The window a message to `target` from `from` belongs in: the channel, or the other party of a conversation.
    func window(of target: String, from: String) -> String {
        IRCName.isChannel(target) || CaseMapping.fold(target) != CaseMapping.fold(self.nick) ? target : from
    }

    /// The next history batch for `window` is the context of a search hit (`/goto`): its lines are shown even if
    /// they are on screen already.
    public mutating func expectContext(in window: String) {
        self.contextFor = window
    }

    /// The msgid of this client's last message in `window`, if the server echoed one: what `/delete` would take.
    public func lastOwnMessage(in window: String) -> String? {
        self.lastOwn[CaseMapping.fold(window)]
    }

    /// The line a client shows for its own message when the server will not echo it (no echo-message).
    public func ownLine(target: String, text: String, action: Bool, now: Int64) -> ChatLine {
        ChatLine(window: target, time: now, kind: action ? .action : .message, nick: self.nick, text: text, isOwn: true)
    }

    /// Applies one message from the server.
    /// - Returns: The lines to show for it (often none).
    public mutating func apply(_ message: IRCMessage, now: Int64) -> [ChatLine] {
        let time = message.tag("time").flatMap(IRCTimestamp.parse) ?? now
        let from = message.sourceNick ?? ""
        let isMe = CaseMapping.fold(from) == CaseMapping.fold(self.nick)
        func line(_ kind: ChatLine.Kind, _ text: String, window: String? = nil) -> ChatLine {
            ChatLine(window: window, time: time, kind: kind, text: text)
        }

        if self.applyMetadata(message) { return [] }
        switch message.command {
        case .privmsg, .notice:
            if let reference = message.tag("batch"), self.multiline.isOpen(reference) {
                self.multiline.add(message, to: reference)
                return []
            }
            let batch = message.tag("batch").flatMap { reference in
                self.batches[reference].map { (reference, $0.type) }
            }
            if let batch { self.batches[batch.0]?.count += 1 }
            let isContext =
                batch?.1 == "chathistory" && self.contextFor != nil
                && message.parameter(0).map { CaseMapping.fold(self.window(of: $0, from: from)) }
                    == self.contextFor.map(CaseMapping.fold)
            if let msgid = message.tag("msgid") {
                guard !self.seenMessageIDs.contains(msgid) || batch?.1 == "soju.im/search" || isContext else {
                    return []
                }
                self.remember(msgid)
            }
            if batch?.1 == "soju.im/search" {
                // A search hit: shown where the user searched, numbered, with where it was said.
                guard let target = message.parameter(0), let text = message.parameter(1) else { return [] }
                if let msgid = message.tag("msgid") {
                    self.searchHits.append((self.window(of: target, from: from), msgid))
                    return [line(.info, "[\(self.searchHits.count)] \(target) <\(from)> \(text)")]
                }
                return [line(.info, "\(target) <\(from)> \(text)")]
            }
            if let target = message.parameter(0), batch == nil {
                self.typists.end(from, in: IRCName.isChannel(target) ? target : from)
            }
            var lines = self.applyMessage(message, time: time, from: from, isMe: isMe)
            if let shown = self.displayNames[CaseMapping.fold(from)], CaseMapping.fold(shown) != CaseMapping.fold(from)
            {
                for index in lines.indices where lines[index].nick == from { lines[index].displayName = shown }
            }
            if let msgid = message.tag("msgid"), let text = message.parameter(1), !lines.isEmpty {
                self.said[msgid] = (from, text)
                if isMe, batch == nil, let window = lines.first?.window {
                    self.lastOwn[CaseMapping.fold(window)] = msgid
                }
            }
            // A reply: the start of the line it answers, just above it.
            if let parent = message.tag("+draft/reply"), let first = lines.first, first.kind != .info {
                let quoted =
                    self.said[parent].map { "↪ \($0.nick): \(Self.snippet($0.text))" } ?? "↪ an earlier message"
                var reference = ChatLine(window: first.window, time: first.time, kind: .event, text: quoted)
                reference.isHistory = first.isHistory
                lines.insert(reference, at: 0)
            }
            if batch?.1 == "chathistory" {
                for index in lines.indices {
                    lines[index].isHistory = true
                    lines[index].mentionsMe = false
                }
            }
            return lines
        case .batch:
            guard let reference = message.parameter(0), let sign = reference.first else { return [] }
            let name = String(reference.dropFirst())
            if sign == "+" && message.parameter(1) == MultilineText.batchType {
                self.multiline.begin(name, opening: message)
                return []
            }
            if sign == "-", self.multiline.isOpen(name) {
                guard let whole = self.multiline.end(name) else { return [] }
                return Self.splitAtLineBreaks(self.apply(whole, now: now))
            }
            if sign == "+" {
                let type = message.parameter(1) ?? ""
                self.batches[name] = (type, 0)
                if type == "soju.im/search" { self.searchHits = [] }
                return []
            }
            guard sign == "-", let ended = self.batches.removeValue(forKey: name) else { return [] }
            // The context asked for came in this batch (replies come in the order of their commands).
            if ended.type == "chathistory" { self.contextFor = nil }
            return ended.type == "soju.im/search" && ended.count == 0 ? [line(.info, "Nothing found.")] : []
        case .join:
            guard let name = message.parameter(0) else { return [] }
            let key = CaseMapping.fold(name)
            if isMe {
                self.channels[key] = ChannelState(name: name)
            }
            self.channels[key]?.members[CaseMapping.fold(from)] = Member(nick: from, prefixes: "")
            return isMe ? [] : [line(.event, "\(from) joined \(name)", window: name)]
        case .part:
            guard let name = message.parameter(0), let channel = self.channel(name) else { return [] }
            let reason = message.parameter(1).map { " (\($0))" } ?? ""
            if isMe {
                self.channels[CaseMapping.fold(name)] = nil
                return [line(.event, "You left \(channel.name)\(reason)", window: channel.name)]
            }
            self.channels[CaseMapping.fold(name)]?.members[CaseMapping.fold(from)] = nil
            self.typists.end(from, in: name)
            return [line(.event, "\(from) left \(channel.name)\(reason)", window: channel.name)]
        case .kick:
            guard let name = message.parameter(0), let victim = message.parameter(1), let channel = self.channel(name)
            else { return [] }
            let reason = message.parameter(2).map { " (\($0))" } ?? ""
            if CaseMapping.fold(victim) == CaseMapping.fold(self.nick) {
                self.channels[CaseMapping.fold(name)] = nil
                return [line(.error, "You were kicked from \(channel.name) by \(from)\(reason)", window: channel.name)]
            }
            self.channels[CaseMapping.fold(name)]?.members[CaseMapping.fold(victim)] = nil
            self.typists.end(victim, in: name)
            return [line(.event, "\(victim) was kicked by \(from)\(reason)", window: channel.name)]
        case .quit:
            self.typists.end(from, in: nil)
            let reason = message.parameter(0).map { " (\($0))" } ?? ""
            var lines: [ChatLine] = []
            for (key, channel) in self.channels.sorted(by: { $0.key < $1.key })
            where channel.members[CaseMapping.fold(from)] != nil {
                self.channels[key]?.members[CaseMapping.fold(from)] = nil
                lines.append(line(.event, "\(from) quit\(reason)", window: channel.name))
            }
            return lines
        case .nick:
            guard let newNick = message.parameter(0) else { return [] }
            if isMe { self.nick = newNick }
            self.typists.end(from, in: nil)
            var lines: [ChatLine] = []
            for (key, channel) in self.channels.sorted(by: { $0.key < $1.key }) {
                guard var member = channel.members[CaseMapping.fold(from)] else { continue }
                member.nick = newNick
                self.channels[key]?.members[CaseMapping.fold(from)] = nil
                self.channels[key]?.members[CaseMapping.fold(newNick)] = member
                let text = isMe ? "You are now known as \(newNick)" : "\(from) is now known as \(newNick)"
                lines.append(line(.event, text, window: channel.name))
            }
            if isMe && lines.isEmpty { lines.append(line(.event, "You are now known as \(newNick)")) }
            return lines
        case .rename:
            // draft/channel-rename: the same channel (members, topic) under its new name.
            guard let old = message.parameter(0), let new = message.parameter(1),
                var channel = self.channels.removeValue(forKey: CaseMapping.fold(old))
            else { return [] }
            channel.name = new
            self.channels[CaseMapping.fold(new)] = channel
            let reason = message.parameter(2).flatMap { $0.isEmpty ? nil : " (\($0))" } ?? ""
            return [line(.event, "\(from) renamed \(old) to \(new)\(reason)", window: new)]
        case .topic:
            guard let name = message.parameter(0), let channel = self.channel(name) else { return [] }
            let topic = message.parameter(1) ?? ""
            self.channels[CaseMapping.fold(name)]?.topic = topic
            let text = topic.isEmpty ? "\(from) cleared the topic" : "\(from) changed the topic to: \(topic)"
            return [line(.event, text, window: channel.name)]
        case .mode:
            return self.applyMode(message, time: time, from: from)
        case .invite:
            guard let channel = message.parameter(1) else { return [] }
            let invited = message.parameter(0) ?? ""
            if CaseMapping.fold(invited) == CaseMapping.fold(self.nick) {
                return [line(.info, "\(from) invites you to \(channel) (/join \(channel))")]
            }
            return [line(.event, "\(from) invited \(invited)", window: channel)]
        case .error:
            return [line(.error, "Server closed the connection: \(message.parameter(0) ?? "")")]
        case .fail:
            return [line(.error, message.parameters.last ?? "The server refused the command")]
        case .warn, .note:
            return [line(.info, message.parameters.last ?? "")]
        case .markread:
            // draft/read-marker: where this account (or connection) has read `target` up to, from any device.
            if let target = message.parameter(0), let value = message.parameter(1), value.hasPrefix("timestamp="),
                let read = IRCTimestamp.parse(String(value.dropFirst("timestamp=".count)))
            {
                self.readMarkers[CaseMapping.fold(target)] = read
            }
            return []
        case .cap:
            if message.parameter(1) == "ACK" {
                self.acknowledge(capabilities: (message.parameters.last ?? "").split(separator: " ").map(String.init))
            } else if message.parameter(1) == "DEL" {
                for name in (message.parameters.last ?? "").split(separator: " ") {
                    self.capabilities.remove(String(name))
                }
            }
            return []
        case .tagmsg:
            if let emoji = message.tag("+draft/react"), let parent = message.tag("+draft/reply"),
                let target = message.parameter(0)
            {
                // A reaction: one compact line where the line it answers was said.
                let window = IRCName.isChannel(target) || isMe ? target : from
                let about = self.said[parent].map { " to \($0.nick): \(Self.snippet($0.text))" } ?? ""
                return [line(.event, "\(isMe ? "You" : from) reacted \(emoji)\(about)", window: window)]
            }
            if let value = message.tag("+typing") ?? message.tag("+draft/typing"), !isMe, !from.isEmpty,
                let target = message.parameter(0)
            {
                self.typists.note(value, from: from, in: IRCName.isChannel(target) ? target : from, now: now)
            }
            return []
        case .redact:
            // draft/message-redaction: the line is already on screen; say it was taken back, under it.
            guard let target = message.parameter(0), let msgid = message.parameter(1) else { return [] }
            let window = self.window(of: target, from: from)
            if self.lastOwn[CaseMapping.fold(window)] == msgid { self.lastOwn[CaseMapping.fold(window)] = nil }
            let what = self.said[msgid].map { " (\($0.nick): \(Self.snippet($0.text)))" } ?? ""
            let reason = message.parameter(2).map { ": \($0)" } ?? ""
            return [line(.event, "\(isMe ? "You" : from) deleted a message\(what)\(reason)", window: window)]
        case .ping, .pong, .away, .setname, .chghost:
            return []
        default:
            guard message.command.isNumeric, let code = UInt16(message.command.rawValue) else {
                return [line(.info, "\(message.command) \(message.parameters.joined(separator: " "))")]
            }
            return self.applyNumeric(message, IRCNumeric(code), time: time)
        }
    }

    private mutating func applyMessage(_ message: IRCMessage, time: Int64, from: String, isMe: Bool) -> [ChatLine] {
        guard let target = message.parameter(0), var text = message.parameter(1) else { return [] }
        let isNotice = message.command == .notice
        let fromServer = message.source.map { !$0.contains("!") && !$0.contains("@") } ?? true
        if fromServer {
            return [ChatLine(time: time, kind: .notice, nick: message.source, text: text)]
        }
        var kind: ChatLine.Kind = isNotice ? .notice : .message
        if text.hasPrefix("\u{01}") {
            let body = text.dropFirst().prefix { $0 != "\u{01}" }
            let verb = body.prefix { $0 != " " }
            guard verb == "ACTION" else {
                let what = isNotice ? "answered CTCP" : "sent CTCP"
                return [ChatLine(time: time, kind: .info, text: "\(from) \(what) \(body)")]
            }
            kind = .action
            text = String(body.dropFirst(verb.count).drop { $0 == " " })
        }
        let toChannel = IRCName.isChannel(target.drop { "~&@%+".contains($0) }.description)
        // A DM lives in the window named after the other person: the sender, or for our own echo, the target.
        let window = toChannel || isMe ? target : from
        let mentions = !isMe && (!toChannel || Self.mentions(text, nick: self.nick))
        return [
            ChatLine(window: window, time: time, kind: kind, nick: from, text: text, isOwn: isMe, mentionsMe: mentions)
        ]
    }

    private mutating func applyMode(_ message: IRCMessage, time: Int64, from: String) -> [ChatLine] {
        guard let target = message.parameter(0), message.parameters.count >= 2 else { return [] }
        let changes = message.parameters.dropFirst().joined(separator: " ")
        guard IRCName.isChannel(target), let channel = self.channel(target) else {
            return [ChatLine(time: time, kind: .event, text: "Mode \(changes) on \(target)")]
        }
        var adding = true
        var arguments = message.parameters.dropFirst(2).makeIterator()
        let key = CaseMapping.fold(target)
        for mode in message.parameters[1] {
            switch mode {
            case "+": adding = true
            case "-": adding = false
            default:
                if let prefix = self.prefixModes.first(where: { $0.mode == mode }) {
                    guard let nick = arguments.next(), var member = channel.members[CaseMapping.fold(nick)] else {
                        continue
                    }
                    member.prefixes.removeAll { $0 == prefix.symbol }
                    if adding { member.prefixes.append(prefix.symbol) }
                    let order = self.prefixModes.map(\.symbol)
                    member.prefixes = String(order.filter(member.prefixes.contains))
                    self.channels[key]?.members[CaseMapping.fold(nick)] = member
                } else if self.modesWithParameter.contains(mode)
                    || (adding && self.modesWithParameterWhenSet.contains(mode))
                {
                    _ = arguments.next()
                }
            }
        }
        return [ChatLine(window: channel.name, time: time, kind: .event, text: "\(from) sets mode \(changes)")]
    }

    /// After a reconnect: the new connection's state knows which lines the old one showed, so the replay of the
    /// last lines on rejoining does not print them again.
    public mutating func keepSeenMessages(of previous: ChatState) {
        for msgid in previous.seenOrder where !self.seenMessageIDs.contains(msgid) {
            self.remember(msgid)
            self.said[msgid] = previous.said[msgid]
        }
    }

    private mutating func remember(_ msgid: String) {
        self.seenMessageIDs.insert(msgid)
        self.seenOrder.append(msgid)
        if self.seenOrder.count > Self.seenLimit {
            let dropped = self.seenOrder.count - Self.seenLimit / 2
            for old in self.seenOrder.prefix(dropped) {
                self.seenMessageIDs.remove(old)
                self.said[old] = nil
            }
            self.seenOrder.removeFirst(dropped)
        }
    }

    /// The start of a line, for a reply's or a reaction's reference to it.
    static func snippet(_ text: String) -> String {
        text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
}
