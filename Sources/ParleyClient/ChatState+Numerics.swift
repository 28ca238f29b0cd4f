import ParleyIRC

/// Numerics in words: the replies a person reads (WHOIS, errors, ISUPPORT's effect on the state).
extension ChatState {
    mutating func applyNumeric(_ message: IRCMessage, _ numeric: IRCNumeric, time: Int64) -> [ChatLine] {
        let parameters = Array(message.parameters.dropFirst())
        let text = parameters.joined(separator: " ")
        switch numeric {
        case .rplWelcome:
            self.nick = message.parameter(0) ?? self.nick
            self.serverName = message.source
            self.isRegistered = true
            return []
        case .rplMyInfo, .rplYourHost, .rplCreated:
            return []
        case .rplISupport:
            for token in parameters.dropLast() {
                self.applySupport(token)
            }
            return []
        case .rplMotdStart:
            self.motd = []
            return []
        case .rplMotd:
            var line = parameters.last ?? ""
            if line.hasPrefix("- ") { line.removeFirst(2) }
            self.motd.append(line)
            return self.welcomeMotdDone ? [ChatLine(time: time, kind: .info, text: line)] : []
        case .rplEndOfMotd, .errNoMotd:
            if numeric == .errNoMotd { self.motd = [] }
            defer { self.welcomeMotdDone = true }
            return self.welcomeMotdDone && numeric == .errNoMotd
                ? [ChatLine(time: time, kind: .info, text: "The server has no message of the day.")] : []
        case .rplTopic:
            guard parameters.count >= 2 else { return [] }
            self.channels[CaseMapping.fold(parameters[0])]?.topic = parameters[1]
            return [ChatLine(window: parameters[0], time: time, kind: .event, text: "Topic: \(parameters[1])")]
        case .rplNamReply:
            guard parameters.count >= 3 else { return [] }
            let key = CaseMapping.fold(parameters[1])
            guard self.channels[key] != nil else { return [ChatLine(time: time, kind: .info, text: text)] }
            let symbols = Set(self.prefixModes.map(\.symbol))
            for entry in parameters[2].split(separator: " ") {
                let prefixes = String(entry.prefix { symbols.contains($0) })
                let nick = String(entry.dropFirst(prefixes.count).prefix { $0 != "!" })
                self.channels[key]?.members[CaseMapping.fold(nick)] = Member(nick: nick, prefixes: prefixes)
            }
            return []
        case .rplWhoisUser, .rplWhoisServer, .rplWhoisIdle, .rplWhoisChannels, .rplWhoisAccount, .rplWhoisSecure,
            .rplWhoisOperator, .rplAway, .rplWhoisActually, .rplEndOfWhois:
            return Self.whois(numeric, parameters, time: time).map { [ChatLine(time: time, kind: .info, text: $0)] }
                ?? []
        case .rplEndOfNames, .rplTopicWhoTime, .rplLUserClient, .rplLUserOp, .rplLUserUnknown, .rplLUserChannels,
            .rplLUserMe, .rplLocalUsers, .rplGlobalUsers:
            return []
        case .rplLoggedIn, .rplLoggedOut:
            // 900 <nick> <prefix> <account> :text; 901 <nick> <prefix> :text (the nick is dropped above).
            self.account = numeric == .rplLoggedIn && parameters.count >= 3 ? parameters[1] : nil
            // The prefix and account before the sentence say nothing the sentence does not.
            return [ChatLine(time: time, kind: .info, text: parameters.last ?? "")]
        default:
            if (400..<600).contains(numeric.code) {
                return [ChatLine(time: time, kind: .error, text: Self.explain(message))]
            }
            return [ChatLine(time: time, kind: .info, text: text)]
        }
    }

    mutating func applySupport(_ token: String) {
        let parts = token.split(separator: "=", maxSplits: 1)
        let name = parts.first.map(String.init) ?? ""
        let value = parts.count > 1 ? String(parts[1]) : ""
        switch name {
        case "NETWORK":
            self.networkName = value
        case "PREFIX":
            guard value.hasPrefix("("), let close = value.firstIndex(of: ")") else { return }
            let modes = value[value.index(after: value.startIndex)..<close]
            let symbols = value[value.index(after: close)...]
            guard modes.count == symbols.count else { return }
            self.prefixModes = zip(modes, symbols).map { ($0, $1) }
        case "CHANMODES":
            let groups = value.split(separator: ",", omittingEmptySubsequences: false)
            guard groups.count >= 3 else { return }
            self.modesWithParameter = Set(groups[0]).union(groups[1])
            self.modesWithParameterWhenSet = Set(groups[2])
        default:
            break
        }
    }

    /// A WHOIS reply (or the away message after a DM) in words: `alice has been idle 21 s, signed on 3 h ago`,
    /// not the numeric's raw parameters. `nil` for the end of the reply and for a reply too short to read.
    static func whois(_ numeric: IRCNumeric, _ parameters: [String], time: Int64) -> String? {
        guard let nick = parameters.first else { return nil }
        let rest = Array(parameters.dropFirst())
        switch numeric {
        case .rplWhoisUser where rest.count >= 4:
            return "\(nick) is \(rest[0])@\(rest[1]) (\(rest[3]))"
        case .rplWhoisServer where rest.count >= 2:
            return "\(nick) is on \(rest[0]) (\(rest[1]))"
        case .rplWhoisIdle where rest.count >= 2:
            guard let idle = Int64(rest[0]), let signon = Int64(rest[1]) else { return nil }
            let online = max(time / 1000 - signon, 0)
            return "\(nick) has been idle \(Self.duration(idle)), signed on \(Self.duration(online)) ago"
        case .rplWhoisChannels where !rest.isEmpty:
            return "\(nick) is in \(rest[0].split(separator: " ").joined(separator: ", "))"
        case .rplWhoisAccount where !rest.isEmpty:
            return "\(nick) is logged in as \(rest[0])"
        case .rplWhoisSecure:
            return "\(nick) is using a secure connection"
        case .rplWhoisOperator:
            return "\(nick) is an IRC operator"
        case .rplWhoisActually where !rest.isEmpty:
            return "\(nick) is connecting from \(rest[0])"
        case .rplAway:
            return rest.first.map { "\(nick) is away: \($0)" } ?? "\(nick) is away"
        default:
            return nil
        }
    }

    /// Seconds as a person says them: `21 s`, `5 min`, `3 h 12 min`, `2 d 4 h`.
    public static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: return "\(max(seconds, 0)) s"
        case ..<3600: return "\(seconds / 60) min"
        case ..<86400:
            return seconds % 3600 / 60 == 0 ? "\(seconds / 3600) h" : "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default:
            return seconds % 86400 / 3600 == 0
                ? "\(seconds / 86400) d" : "\(seconds / 86400) d \(seconds % 86400 / 3600) h"
        }
    }

    /// An error numeric in words a person understands.
    public static func explain(_ message: IRCMessage) -> String {
        let subject = message.parameters.count > 2 ? message.parameters[1] : ""
        switch message.command.isNumeric ? UInt16(message.command.rawValue).map(IRCNumeric.init) : nil {
        case .errNicknameInUse:
            return "The name \(subject) is taken; choose another one."
        case .errErroneusNickname:
            return
                "\(subject) cannot be a name: use letters, digits and - _ [ ] { } \\ ` ^ |, not starting with a digit or -."
        case .errNoNicknameGiven:
            return "A name is needed."
        case .errNoSuchNick:
            return "\(subject): nobody by that name is online."
        case .errNoSuchChannel:
            return "\(subject): no such channel."
        case .errCannotSendToChan:
            return "\(subject): you cannot talk there (\(message.parameters.last ?? ""))."
        case .errChanOPrivsNeeded:
            return "\(subject): you need to be a channel operator for that."
        case .errNotOnChannel:
            return "\(subject): you are not in that channel."
        default:
            let detail = message.parameters.last ?? ""
            return subject.isEmpty || message.parameters.count <= 2 ? detail : "\(subject): \(detail)"
        }
    }
}
