import ParleyIRC

/// ChanServ: channel registration. A registered channel remembers its founder (an account), topic, modes and bans;
/// the founder gets ops on joining.
extension ServerState {
    static let chanServ = "ChanServ"

    /// Records the registered channels when the server starts.
    public mutating func loadChannels(_ registrations: some Sequence<ChannelRegistration>) {
        for registration in registrations {
            self.registeredChannels[ChannelKey(registration.name)] = registration
        }
    }

    var chanServPrefix: String { "\(Self.chanServ)!\(Self.chanServ)@services.\(self.configuration.serverName)" }

    mutating func chanServCommand(_ id: SessionID, _ text: String, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id] else { return }
        func say(_ line: String) { self.serviceNotice(Self.chanServ, to: id, line, into: &outbox) }
        guard self.configuration.accounts != nil else { return say("Channel registration is not enabled here.") }
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let command = words.first.map(CaseMapping.asciiUppercased) ?? "HELP"
        guard command != "HELP" else {
            for line in [
                "ChanServ keeps channels. Commands:",
                "REGISTER <#channel> — register a channel you are an operator of, to your account",
                "OP <#channel> [nick] / DEOP <#channel> [nick] — founder only",
                "INFO <#channel> — who founded it and when",
                "DROP <#channel> — forget the registration (founder only)",
            ] {
                say(line)
            }
            return
        }
        guard words.count >= 2, IRCName.isChannel(words[1]) else {
            return say("\(command) needs a channel name: /msg ChanServ \(command) #channel")
        }
        let key = ChannelKey(words[1])
        let registration = self.registeredChannels[key]
        let account = session.account.map { NickKey($0).folded }
        let isFounder = registration != nil && account == registration?.founder
        switch command {
        case "REGISTER":
            guard let account else { return say("Log in first: /msg NickServ IDENTIFY <password>") }
            guard registration == nil else { return say("\(words[1]) is already registered.") }
            guard let channel = self.channels[key], channel.members[id]?.contains(.op) == true else {
                return say("You must be an operator in \(words[1]) to register it.")
            }
            let created = channel.snapshot(
                into: ChannelRegistration(name: channel.name, founder: account, registeredAt: now.millisecondsSince1970)
            )
            self.registeredChannels[key] = created
            outbox.actions.append(.saveChannel(created))
            say("\(channel.name) is registered to \(session.account ?? account). Its topic, modes and bans are kept.")
        case "OP", "DEOP":
            guard isFounder else { return say("Only the founder of \(words[1]) can do that.") }
            guard var channel = self.channels[key] else { return say("Nobody is in \(words[1]).") }
            let nick = words.count > 2 ? words[2] : session.displayNick
            guard let target = self.session(named: nick), var status = channel.members[target.id] else {
                return say("\(nick) is not in \(channel.name).")
            }
            if command == "OP" { status.insert(.op) } else { status.remove(.op) }
            channel.members[target.id] = status
            self.channels[key] = channel
            let mode = IRCMessage(
                tags: [IRCTag("time", now.serverTime)],
                source: self.chanServPrefix,
                command: .mode,
                parameters: [channel.name, command == "OP" ? "+o" : "-o", target.displayNick]
            )
            outbox.broadcast(mode, to: self.members(of: channel, except: nil))
        case "INFO":
            guard let registration else { return say("\(words[1]) is not registered.") }
            let time = IRCTimestamp.format(millisecondsSince1970: registration.registeredAt)
            say("\(registration.name): founder \(registration.founder), registered \(time).")
        case "DROP":
            guard isFounder, let registration else { return say("Only the founder of \(words[1]) can drop it.") }
            self.registeredChannels[key] = nil
            outbox.actions.append(.dropChannel(ChannelKey(registration.name).folded))
            say("\(registration.name) is no longer registered.")
        default:
            say("Unknown command \(command). /msg ChanServ HELP lists the commands.")
        }
    }

    /// After TOPIC or MODE on a registered channel: save what changed.
    mutating func syncRegistration(_ name: String, into outbox: inout Outbox) {
        let key = ChannelKey(name)
        guard let registration = self.registeredChannels[key], let channel = self.channels[key] else { return }
        let updated = channel.snapshot(into: registration)
        guard updated != registration else { return }
        self.registeredChannels[key] = updated
        outbox.actions.append(.saveChannel(updated))
    }
}
