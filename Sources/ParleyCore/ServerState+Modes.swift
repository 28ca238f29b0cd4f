import ParleyIRC

extension ServerState {
    mutating func mode(_ request: Request, _ outbox: inout Outbox) {
        let target = request.parameters[0]
        if IRCName.isChannel(target) {
            self.channelMode(request, outbox: &outbox)
        } else {
            self.userMode(request, outbox: &outbox)
        }
    }

    private mutating func userMode(_ request: Request, outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        let target = request.parameters[0]
        guard self.session(named: target) != nil else {
            self.reply(request.id, .errNoSuchNick, target, "No such nick/channel", into: &outbox)
            return
        }
        guard NickKey(target) == NickKey(session.displayNick) else {
            self.reply(request.id, .errUsersDontMatch, "Can't change mode for other users", into: &outbox)
            return
        }
        guard let changes = request.message.parameter(1) else {
            self.reply(request.id, .rplUModeIs, session.modes.string, into: &outbox)
            return
        }
        var adding = true
        var modes = session.modes
        var applied = ""
        var appliedSign: Character?
        var unknown = false
        for letter in changes {
            let flag: Session.Modes
            switch letter {
            case "+", "-":
                adding = letter == "+"
                continue
            case "i": flag = .invisible
            case "w": flag = .wallops
            case "o":
                // +o only through OPER; -o is allowed.
                if adding { continue }
                flag = .oper
            default:
                unknown = true
                continue
            }
            guard modes.contains(flag) != adding else { continue }
            if adding { modes.insert(flag) } else { modes.remove(flag) }
            let sign: Character = adding ? "+" : "-"
            if appliedSign != sign {
                applied.append(sign)
                appliedSign = sign
            }
            applied.append(letter)
        }
        if unknown {
            self.reply(request.id, .errUModeUnknownFlag, "Unknown MODE flag", into: &outbox)
        }
        self.setUserModes(request.id, modes)
        if !applied.isEmpty {
            outbox.send(IRCMessage(source: session.prefix, .mode, session.displayNick, applied), to: request.id)
        }
    }

    private mutating func channelMode(_ request: Request, outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard case (let key, var channel)? = self.existingChannel(request.parameters[0], for: request.id, into: &outbox)
        else { return }
        let status = channel.members[request.id]
        guard let changes = request.message.parameter(1) else {
            self.reply(
                request.id,
                .rplChannelModeIs,
                [channel.name] + channel.modeString(showKey: status != nil),
                into: &outbox
            )
            self.reply(request.id, .rplCreationTime, channel.name, String(channel.createdAt.seconds), into: &outbox)
            return
        }
        var arguments = request.parameters.dropFirst(2).makeIterator()
        var adding = true
        var applied = ""
        var appliedSign: Character?
        var appliedArguments: [String] = []
        var denied = false
        var listed: Set<Character> = []
        let isOp = status?.contains(.op) == true || session.modes.contains(.oper)

        func record(_ letter: Character, _ argument: String?) {
            let sign: Character = adding ? "+" : "-"
            if appliedSign != sign {
                applied.append(sign)
                appliedSign = sign
            }
            applied.append(letter)
            if let argument { appliedArguments.append(argument) }
        }

        for letter in changes {
            if letter == "+" || letter == "-" {
                adding = letter == "+"
                continue
            }
            let listMode = letter == "b" || letter == "e" || letter == "I"
            if listMode {
                guard let mask = arguments.next() else {
                    // Each list once per request: `MODE #c bbbb…` must not multiply a long ban list.
                    if listed.insert(letter).inserted {
                        self.sendList(letter, of: channel, to: request.id, into: &outbox)
                    }
                    continue
                }
                guard isOp else {
                    denied = true
                    continue
                }
                let normalized = IRCWildcard.normalizeMask(mask)
                var list = letter == "b" ? channel.bans : letter == "e" ? channel.exceptions : channel.inviteExceptions
                let exists = list.contains { CaseMapping.fold($0.mask) == CaseMapping.fold(normalized) }
                if adding {
                    if exists { continue }
                    guard list.count < self.configuration.listEntries else {
                        self.reply(
                            request.id,
                            IRCNumeric(478),
                            channel.name,
                            normalized,
                            "Channel list is full",
                            into: &outbox
                        )
                        continue
                    }
                    list.append(Channel.MaskEntry(mask: normalized, setter: session.prefix, time: request.now))
                } else {
                    guard exists else { continue }
                    list.removeAll { CaseMapping.fold($0.mask) == CaseMapping.fold(normalized) }
                }
                switch letter {
                case "b": channel.bans = list
                case "e": channel.exceptions = list
                default: channel.inviteExceptions = list
                }
                record(letter, normalized)
                continue
            }
            let needsArgument = letter == "o" || letter == "v" || letter == "k" || (letter == "l" && adding)
            let argument = needsArgument ? arguments.next() : nil
            let known = needsArgument || letter == "l" || Channel.Flags.letters.contains { $0.0 == letter }
            guard known else {
                self.reply(request.id, .errUnknownMode, String(letter), "is unknown mode char to me", into: &outbox)
                continue
            }
            guard isOp else {
                denied = true
                continue
            }
            if needsArgument && argument == nil {
                self.reply(request.id, .errNeedMoreParams, "MODE", "Not enough parameters", into: &outbox)
                continue
            }
            switch letter {
            case "o", "v":
                let nick = argument ?? ""
                if var member = channel.remoteMembers[NickKey(nick).folded] {
                    let flag: Channel.Status = letter == "o" ? .op : .voice
                    guard member.status.contains(flag) != adding else { continue }
                    if adding { member.status.insert(flag) } else { member.status.remove(flag) }
                    channel.remoteMembers[NickKey(nick).folded] = member
                    record(letter, member.nick)
                    continue
                }
                guard let target = self.session(named: nick) else {
                    self.reply(request.id, .errNoSuchNick, nick, "No such nick/channel", into: &outbox)
                    continue
                }
                guard var memberStatus = channel.members[target.id] else {
                    self.reply(
                        request.id,
                        .errUserNotInChannel,
                        nick,
                        channel.name,
                        "They aren't on that channel",
                        into: &outbox
                    )
                    continue
                }
                let flag: Channel.Status = letter == "o" ? .op : .voice
                guard memberStatus.contains(flag) != adding else { continue }
                if adding { memberStatus.insert(flag) } else { memberStatus.remove(flag) }
                channel.members[target.id] = memberStatus
                record(letter, target.displayNick)
            case "k":
                let value = argument ?? ""
                if adding {
                    guard !value.isEmpty, !value.contains(" "), !value.contains(","), value.utf8.count <= 32 else {
                        self.reply(
                            request.id,
                            .errInvalidModeParam,
                            channel.name,
                            "k",
                            // The rejected key is not echoed: it may hold a space or be empty.
                            "*",
                            "Invalid key: 1–32 characters, no spaces or commas",
                            into: &outbox
                        )
                        continue
                    }
                    channel.key = value
                    record("k", value)
                } else {
                    guard channel.key != nil else { continue }
                    channel.key = nil
                    record("k", "*")
                }
            case "l":
                if adding {
                    guard let limit = Int(argument ?? ""), limit > 0 else {
                        self.reply(
                            request.id,
                            .errInvalidModeParam,
                            channel.name,
                            "l",
                            Self.echoable(argument),
                            "Invalid limit: a whole number above 0",
                            into: &outbox
                        )
                        continue
                    }
                    channel.limit = limit
                    record("l", String(limit))
                } else {
                    guard channel.limit != nil else { continue }
                    channel.limit = nil
                    record("l", nil)
                }
            default:
                guard let flag = Channel.Flags.letters.first(where: { $0.0 == letter })?.1 else { continue }
                guard channel.flags.contains(flag) != adding else { continue }
                if adding { channel.flags.insert(flag) } else { channel.flags.remove(flag) }
                record(letter, nil)
            }
        }
        self.channels[key] = channel
        if denied {
            self.reply(request.id, .errChanOPrivsNeeded, channel.name, "You're not channel operator", into: &outbox)
        }
        guard !applied.isEmpty else { return }
        var change = self.event(session, .mode, [channel.name, applied] + appliedArguments, now: request.now)
        self.recordEvent(&change, in: [ChannelKey(channel.name)], into: &outbox)
        if channel.members[request.id] != nil { outbox.send(change, to: request.id) }
        outbox.broadcast(change, to: self.members(of: channel, except: request.id))
    }

    private mutating func sendList(
        _ letter: Character,
        of channel: Channel,
        to id: SessionID,
        into outbox: inout Outbox
    ) {
        let (list, item, end): ([Channel.MaskEntry], IRCNumeric, IRCNumeric) =
            switch letter {
            case "b": (channel.bans, .rplBanList, .rplEndOfBanList)
            case "e": (channel.exceptions, .rplExceptList, .rplEndOfExceptList)
            default: (channel.inviteExceptions, .rplInviteList, .rplEndOfInviteList)
            }
        for entry in list {
            self.reply(id, item, channel.name, entry.mask, entry.setter, String(entry.time.seconds), into: &outbox)
        }
        self.reply(id, end, channel.name, "End of channel list", into: &outbox)
    }

    /// `value` as a middle parameter of a reply, or `*` when it could not be one (empty, with a space, or starting
    /// with `:`).
    static func echoable(_ value: String?) -> String {
        guard let value, !value.isEmpty, !value.hasPrefix(":"), !value.contains(" ") else { return "*" }
        return value
    }
}
