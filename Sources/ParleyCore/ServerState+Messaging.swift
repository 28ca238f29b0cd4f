import ParleyIRC

extension ServerState {
    /// PRIVMSG, NOTICE and TAGMSG to channels and nicks; `lines` when it came as a draft/multiline batch (the
    /// request's text is then the combined value).
    mutating func message(_ request: Request, _ outbox: inout Outbox, lines: MultilineText? = nil) {
        guard let session = self.sessions[request.id] else { return }
        let command = request.message.command
        let isTagmsg = command == .tagmsg
        guard let targets = request.message.parameter(0), !targets.isEmpty else {
            self.reply(request.id, .errNoRecipient, "No recipient given (\(command.rawValue))", into: &outbox)
            return
        }
        let text = request.message.parameter(1)
        if !isTagmsg && (text ?? "").isEmpty {
            self.reply(request.id, .errNoTextToSend, "No text to send", into: &outbox)
            return
        }
        let targetList = targets.split(separator: ",").map(String.init)
        // "They MUST NOT send any error reply back to the client on receipt of a notice" (RFC 2812 3.3.2): a NOTICE
        // to a missing or closed target is dropped without a word.
        let answersErrors = command != .notice
        guard targetList.count <= self.configuration.targetsPerMessage else {
            self.reply(request.id, .errTooManyTargets, targets, "Too many targets", into: &outbox)
            return
        }
        self.sessions[request.id]?.lastSpoke = request.now

        // Relay only the client-only tags the client sent; the server adds time and msgid.
        var tags = [IRCTag("time", request.now.serverTime), IRCTag("msgid", "")]
        if let account = session.account { tags.append(IRCTag("account", account)) }
        let serverTags = tags.count
        for tag in request.message.tags where tag.isClientOnly {
            tags.append(tag)
        }
        if isTagmsg && tags.count == serverTags { return }
        // It would wait for a commit that cannot come: refused at once, so the sender knows it was not sent.
        if self.databaseAway && self.keepsHistory(of: IRCMessage(tags: tags, command: command, parameters: [])) {
            outbox.send(
                self.fail(
                    command.rawValue,
                    "TEMPORARILY_UNAVAILABLE",
                    "Your message was not sent: the database cannot be reached; try again shortly",
                    context: [targets]
                ),
                to: request.id
            )
            return
        }
        for target in targetList {
            if !IRCName.isChannel(target), Self.serviceNicks.contains(NickKey(target).folded) {
                if lines != nil {
                    outbox.send(
                        self.fail(
                            "BATCH",
                            "MULTILINE_INVALID_TARGET",
                            "Services take one line at a time",
                            context: [target, target]
                        ),
                        to: request.id
                    )
                } else if command == .privmsg {
                    self.serviceCommand(target, from: request.id, text ?? "", now: request.now, into: &outbox)
                }
                continue
            }
            tags[1].value = self.nextMessageID()
            let relayed = IRCMessage(
                tags: tags,
                source: session.prefix,
                command: command,
                parameters: isTagmsg ? [target] : [target, text ?? ""]
            )
            let wants: (Session) -> Bool = isTagmsg ? { $0.caps.contains(.messageTags) } : { _ in true }
            if IRCName.isChannel(target) {
                guard let channel = self.channels[ChannelKey(target)] else {
                    if answersErrors {
                        self.reply(request.id, .errNoSuchChannel, target, "No such channel", into: &outbox)
                    }
                    continue
                }
                if let reason = self.cannotSend(session, to: channel) {
                    if answersErrors {
                        self.reply(request.id, .errCannotSendToChan, channel.name, reason, into: &outbox)
                    }
                    continue
                }
                if self.keepsHistory(of: relayed) {
                    outbox.actions.append(.persist(relayed, target: ChannelKey(channel.name).folded, deliverTo: nil))
                } else if isTagmsg && !channel.remoteMembers.isEmpty {
                    outbox.actions.append(.signal(relayed))
                }
                let recipients =
                    isTagmsg
                    ? self.members(of: channel, except: request.id, where: wants)
                    : self.members(of: channel, except: request.id)
                self.deliver(relayed, lines: lines, to: recipients, into: &outbox)
            } else {
                // A registered nick held by someone not logged in to it is not its owner: what is meant for the
                // account waits for the owner, as it does while the owner is offline.
                let recipient = self.session(named: target).flatMap {
                    $0.isRegistered && !self.holdsReservedNick($0) ? $0 : nil
                }
                guard let recipient else {
                    if self.session(named: target)?.isRegistered != true, self.remoteUser(target) != nil,
                        self.configuration.history != nil
                    {
                        // On another node: the log carries it there (its relay delivers it and stores the
                        // recipient's copy); the sender's copy is stored here. Typing notices go as a signal.
                        if self.keepsHistory(of: relayed) {
                            self.persistDirect(relayed, from: session, to: target, recipientOwner: nil, into: &outbox)
                        } else {
                            outbox.actions.append(.signal(relayed))
                        }
                        if session.caps.contains(.echoMessage) {
                            self.deliver(relayed, lines: lines, to: [request.id], into: &outbox)
                        }
                        if command == .privmsg, let away = self.remoteAwayMessage(NickKey(target).folded) {
                            let display = self.remoteUser(target)?.display ?? target
                            self.reply(request.id, .rplAway, display, away, into: &outbox)
                        }
                    } else if self.keepsForLater(relayed, to: target) {
                        self.persistDirect(
                            relayed,
                            from: session,
                            to: target,
                            recipientOwner: HistoryQuery.owner(account: target, connection: ""),
                            deliverTo: NickKey(target).folded,
                            into: &outbox
                        )
                        let online = self.session(named: target)?.isRegistered == true
                        self.serviceNotice(
                            Self.nickServ,
                            to: request.id,
                            online
                                ? "\(target) is not logged in to the account of that nick; your message is kept and "
                                    + "delivered when the account's owner logs in."
                                : "\(target) is offline; your message is kept and delivered when they next log in.",
                            into: &outbox
                        )
                        if session.caps.contains(.echoMessage) {
                            self.deliver(relayed, lines: lines, to: [request.id], into: &outbox)
                        }
                    } else if answersErrors {
                        self.reply(request.id, .errNoSuchNick, target, "No such nick/channel", into: &outbox)
                    }
                    continue
                }
                if self.keepsHistory(of: relayed) {
                    self.persistDirect(
                        relayed,
                        from: session,
                        to: target,
                        recipientOwner: self.historyOwner(recipient),
                        into: &outbox
                    )
                }
                // A message to oneself is delivered as to anyone (and echoed too with echo-message): that copy is
                // a message, not a reply, so a label goes on the echo only.
                if wants(recipient) {
                    self.deliver(
                        relayed,
                        lines: lines,
                        to: [recipient.id],
                        asReply: recipient.id != request.id,
                        into: &outbox
                    )
                }
                if command == .privmsg, let away = recipient.away {
                    self.reply(request.id, .rplAway, recipient.displayNick, away, into: &outbox)
                }
            }
            if session.caps.contains(.echoMessage) {
                self.deliver(relayed, lines: lines, to: [request.id], into: &outbox)
            }
        }
    }

    /// Stores a direct message once for each party that keeps it: the sender's copy (with whoever holds `nick`
    /// now) and, when `recipientOwner` is known, the recipient's (with the sender's nick). One copy when both are
    /// the same conversation (a message to oneself).
    mutating func persistDirect(
        _ message: IRCMessage,
        from session: Session,
        to nick: String,
        recipientOwner: String?,
        deliverTo: String? = nil,
        into outbox: inout Outbox
    ) {
        let own = HistoryTarget.conversation(owner: self.historyOwner(session), correspondent: NickKey(nick).folded)
            .storageKey
        outbox.actions.append(.persist(message, target: own, deliverTo: nil))
        guard let recipientOwner else { return }
        let theirs = HistoryTarget.conversation(
            owner: recipientOwner,
            correspondent: NickKey(session.displayNick).folded
        ).storageKey
        if theirs != own || deliverTo != nil {
            outbox.actions.append(.persist(message, target: theirs, deliverTo: deliverTo))
        }
    }

    /// Whether `message` goes to history: every PRIVMSG and NOTICE, and TAGMSGs that carry more than typing state.
    func keepsHistory(of message: IRCMessage) -> Bool {
        guard self.configuration.history != nil else { return false }
        guard message.command == .tagmsg else { return true }
        return message.tags.contains { $0.isClientOnly && !Self.transientTags.contains($0.key) }
    }

    /// Whether a message to `nick`, who is not online, is kept for the account of that name.
    func keepsForLater(_ message: IRCMessage, to nick: String) -> Bool {
        message.command != .tagmsg && self.configuration.history != nil
            && self.registeredAccounts.contains(NickKey(nick).folded)
    }

    /// Client tags that describe a moment, not content: not worth keeping.
    static let transientTags: Set<String> = ["+typing", "+draft/typing"]

    /// Why `session` may not speak in `channel` (+n, +m, +b), or `nil` if it may.
    func cannotSend(_ session: Session, to channel: Channel) -> String? {
        guard let status = channel.members[session.id] else {
            return channel.flags.contains(.noExternal) ? "Cannot send to channel (no external messages)" : nil
        }
        if !status.isEmpty { return nil }
        if channel.flags.contains(.moderated) { return "Cannot send to channel (+m)" }
        if channel.isBanned(prefix: session.prefix) { return "Cannot send to channel (you are banned)" }
        return nil
    }

    /// AWAY; before registration too with draft/pre-away (a device that connects only to sync says so at once,
    /// `AWAY *`: not present, for no reason given).
    mutating func away(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard session.isRegistered || session.caps.contains(.preAway) else {
            self.reply(request.id, .errNotRegistered, "You have not registered", into: &outbox)
            return
        }
        let text = request.message.parameter(0).map { String($0.prefix(self.configuration.awayLength)) }
        let message = text.flatMap { $0.isEmpty ? nil : $0 }
        self.sessions[request.id]?.away = message
        if message == nil {
            self.reply(request.id, .rplUnAway, "You are no longer marked as being away", into: &outbox)
        } else {
            self.reply(request.id, .rplNowAway, "You have been marked as being away", into: &outbox)
        }
        // Before registration nobody shares a channel with it yet; a cluster learns it once it has registered.
        guard session.isRegistered else { return }
        var notify = self.event(session, .away, message.map { [$0] } ?? [], now: request.now)
        self.recordAwayForOtherNodes(&notify, of: session, into: &outbox)
        outbox.broadcast(notify, to: self.peers(of: session) { $0.caps.contains(.awayNotify) })
    }

    /// In a cluster the other nodes learn an AWAY from the log of each channel the user is in, or of their own.
    mutating func recordAwayForOtherNodes(_ notify: inout IRCMessage, of session: Session, into outbox: inout Outbox) {
        guard self.configuration.nodeName != nil else { return }
        let own = ChannelKey(HistoryTarget.awayLog(NickKey(session.displayNick).folded).storageKey)
        self.recordEvent(&notify, in: session.channels.isEmpty ? [own] : Array(session.channels), into: &outbox)
    }

    mutating func setname(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        let realname = request.parameters[0]
        guard !realname.isEmpty, realname.utf8.count <= self.configuration.realnameLength else {
            outbox.send(self.fail("SETNAME", "INVALID_REALNAME", "Realname is empty or too long"), to: request.id)
            return
        }
        self.sessions[request.id]?.realname = realname
        let change = self.event(session, .setname, [realname], now: request.now)
        if session.caps.contains(.setname) { outbox.send(change, to: request.id) }
        outbox.broadcast(change, to: self.peers(of: session) { $0.caps.contains(.setname) })
    }
}
