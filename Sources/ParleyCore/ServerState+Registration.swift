import ParleyIRC

extension ServerState {
    mutating func pass(_ request: Request, _ outbox: inout Outbox) {
        guard self.sessions[request.id]?.isRegistered == false else {
            self.reply(request.id, .errAlreadyRegistered, "You may not reregister", into: &outbox)
            return
        }
        self.sessions[request.id]?.givenPassword = request.parameters[0]
    }

    mutating func nick(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard let nick = request.message.parameter(0), !nick.isEmpty else {
            self.reply(request.id, .errNoNicknameGiven, "No nickname given", into: &outbox)
            return
        }
        guard IRCName.isValidNickname(nick, maximumLength: self.configuration.nickLength) else {
            self.reply(request.id, .errErroneusNickname, nick, "Erroneous nickname", into: &outbox)
            return
        }
        let key = NickKey(nick)
        if let owner = self.nicks[key], owner != request.id {
            self.reply(request.id, .errNicknameInUse, nick, "Nickname is already in use", into: &outbox)
            return
        }
        if Self.serviceNicks.contains(key.folded) {
            self.reply(request.id, .errNicknameInUse, nick, "Nickname is reserved for services", into: &outbox)
            return
        }
        if let until = self.heldForOwner[key.folded], request.now < until, session.account.map(NickKey.init) != key {
            self.reply(
                request.id,
                .errNicknameInUse,
                nick,
                "Nickname is reserved for the owner of the account \(nick); log in to that account to use it",
                into: &outbox
            )
            return
        }
        if let current = session.nick, current == nick { return }
        self.takeOrClaimNick(request.id, nick, now: request.now, into: &outbox)
    }

    /// Renames a registered session (the nick is free and valid): NICK to it and its peers.
    mutating func changeNick(_ id: SessionID, to nick: String, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id], let oldNick = session.nick, oldNick != nick else { return }
        var change = self.event(session, .nick, [nick], now: now)
        self.recordEvent(&change, in: session.channels, into: &outbox)
        self.rememberWhowas(session, now: now)
        self.nicks[NickKey(oldNick)] = nil
        self.nicks[NickKey(nick)] = id
        if NickKey(oldNick) != NickKey(nick) {
            self.holdNick(NickKey(nick), by: id)
            self.letGoOfNick(NickKey(oldNick), by: id, into: &outbox)
        }
        self.sessions[id]?.nick = nick
        self.sessions[id]?.refreshPrefix()
        outbox.send(change, to: id)
        outbox.broadcast(change, to: self.peers(of: session))
        if NickKey(oldNick) != NickKey(nick) { self.checkReservation(id, now: now, into: &outbox) }
    }

    mutating func user(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id], !session.isRegistered, session.user == nil else {
            self.reply(request.id, .errAlreadyRegistered, "You may not reregister", into: &outbox)
            return
        }
        // An empty username or realname is a missing one (Modern IRC: "even an empty parameter").
        guard !request.parameters[0].isEmpty, !request.parameters[3].isEmpty else {
            self.reply(request.id, .errNeedMoreParams, "USER", "Not enough parameters", into: &outbox)
            return
        }
        let allowed = request.parameters[0].unicodeScalars.filter {
            $0.isASCII && $0 != "@" && $0 != "!" && $0.value > 0x20 && $0.value < 0x7F
        }
        var user = String(String.UnicodeScalarView(allowed.prefix(self.configuration.userLength)))
        if user.isEmpty { user = "user" }
        self.sessions[request.id]?.user = user
        self.sessions[request.id]?.realname = String(request.parameters[3].prefix(self.configuration.realnameLength))
        self.sessions[request.id]?.refreshPrefix()
        self.completeRegistration(request.id, now: request.now, into: &outbox)
    }

    mutating func ping(_ request: Request, _ outbox: inout Outbox) {
        guard let token = request.message.parameter(0) else {
            self.reply(request.id, .errNoOrigin, "No origin specified", into: &outbox)
            return
        }
        outbox.send(
            IRCMessage(source: self.configuration.serverName, .pong, self.configuration.serverName, token),
            to: request.id
        )
    }

    mutating func quit(_ request: Request, _ outbox: inout Outbox) {
        let reason = request.message.parameter(0).map { "Quit: " + $0 } ?? "Quit"
        self.closeSession(request.id, reason: reason, now: request.now, into: &outbox)
    }

    /// Ends a session from the server side: the client gets `ERROR`, its peers a `QUIT` with `reason`.
    mutating func closeSession(_ id: SessionID, reason: String, now: Timestamp, into outbox: inout Outbox) {
        self.disconnect(id, reason: reason, now: now, into: &outbox)
        outbox.actions.append(.close(id, reason: reason))
    }

    /// Registers the session once NICK and USER arrived and CAP negotiation (if any) ended.
    mutating func completeRegistration(_ id: SessionID, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id], !session.isRegistered, !session.negotiatingCaps,
            let nick = session.nick, session.user != nil
        else { return }
        if let password = self.configuration.password {
            if let wait = self.reserveAttempt("pass", address: session.address, now: now) {
                self.reply(id, .errPasswdMismatch, "Too many wrong passwords; try again in \(wait) s", into: &outbox)
                self.closeSession(id, reason: "Too many wrong passwords", now: now, into: &outbox)
                return
            }
            guard session.givenPassword == password else {
                self.reply(id, .errPasswdMismatch, "Password incorrect", into: &outbox)
                self.closeSession(id, reason: "Bad password", now: now, into: &outbox)
                return
            }
            self.attemptSucceeded("pass", address: session.address)
        }
        let key = NickKey(nick)
        if let owner = self.nicks[key], owner != id {
            // Someone registered this nick while we waited for CAP END.
            self.sessions[id]?.nick = nil
            self.letGoOfNick(key, by: id, into: &outbox)
            self.reply(id, .errNicknameInUse, nick, "Nickname is already in use", into: &outbox)
            return
        }
        self.nicks[key] = id
        self.sessions[id]?.isRegistered = true
        // Checked above and never needed again: without it most sessions keep nothing out of line.
        self.sessions[id]?.givenPassword = nil
        self.sessions[id]?.signonTime = now
        self.sessions[id]?.lastSpoke = now
        self.maximumUsers = max(self.maximumUsers, self.nicks.count)
        let config = self.configuration
        self.reply(id, .rplWelcome, "Welcome to the \(config.networkName) IRC Network \(session.prefix)", into: &outbox)
        self.reply(
            id,
            .rplYourHost,
            "Your host is \(config.serverName), running version \(config.version)",
            into: &outbox
        )
        self.reply(id, .rplCreated, "This server was created \(config.createdAt.serverTime)", into: &outbox)
        self.reply(id, .rplMyInfo, config.serverName, config.version, "iow", "beIiklmnost", "beIklov", into: &outbox)
        self.sendISupport(id, into: &outbox)
        self.sendLusers(id, into: &outbox)
        self.sendMOTD(id, into: &outbox)
        self.checkReservation(id, now: now, into: &outbox)
        self.requestPendingDeliveries(id, into: &outbox)
        self.metadataOnWelcome(id, into: &outbox)
        if let registered = self.sessions[id], let away = registered.away {
            // Set before registration (draft/pre-away): the other nodes of a cluster learn it now.
            var notify = self.event(registered, .away, [away], now: now)
            self.recordAwayForOtherNodes(&notify, of: registered, into: &outbox)
        }
    }

    var isupport: ISupport {
        let config = self.configuration
        var history: [(String, String?)] = []
        if let settings = config.history {
            history = [("CHATHISTORY", String(settings.queryLimit)), ("MSGREFTYPES", "msgid,timestamp")]
        }
        return ISupport(
            tokens: [
                ("AWAYLEN", String(config.awayLength)),
                ("CASEMAPPING", "ascii"),
            ] + history + [
                ("CHANLIMIT", "#:\(config.channelsPerUser)"),
                ("CHANMODES", "beI,k,l,imnst"),
                ("CHANNELLEN", String(config.channelLength)),
                ("CHANTYPES", "#"),
                ("EXCEPTS", "e"),
                ("INVEX", "I"),
                ("KICKLEN", String(config.kickLength)),
                ("LINELEN", String(config.lineLength)),
                ("MAXLIST", "beI:\(config.listEntries)"),
                ("MAXTARGETS", String(config.targetsPerMessage)),
                ("MODES", "4"),
                ("NETWORK", config.networkName),
                ("NICKLEN", String(config.nickLength)),
                ("PREFIX", "(ov)@+"),
                (
                    "TARGMAX",
                    "PRIVMSG:\(config.targetsPerMessage),NOTICE:\(config.targetsPerMessage),TAGMSG:\(config.targetsPerMessage),JOIN:,PART:,KICK:\(Self.kickTargets),WHOIS:1,NAMES:,LIST:"
                ),
                ("TOPICLEN", String(config.topicLength)),
                ("USERLEN", String(config.userLength)),
                ("UTF8ONLY", nil),
                ("WHOX", nil),
            ]
        )
    }

    mutating func sendISupport(_ id: SessionID, into outbox: inout Outbox) {
        guard let session = self.sessions[id] else { return }
        let lines = self.isupportLines ?? self.isupport.renderedLines
        self.isupportLines = lines
        let server = self.configuration.serverName
        let messages = ISupport.messages(renderedLines: lines, source: server, nick: session.displayNick)
        // draft/extended-isupport with batch: every 005 goes in a draft/isupport batch, the welcome's too.
        guard session.caps.isSuperset(of: [.batch, .extendedISupport]) else {
            for message in messages { outbox.send(message, to: id) }
            return
        }
        let reference = self.nextMessageID()
        outbox.send(
            IRCMessage(source: server, command: .batch, parameters: ["+" + reference, "draft/isupport"]),
            to: id
        )
        for var message in messages {
            message.tags.insert(IRCTag("batch", reference), at: 0)
            outbox.send(message, to: id)
        }
        outbox.send(IRCMessage(source: server, command: .batch, parameters: ["-" + reference]), to: id)
    }

    /// `ISUPPORT` (draft/extended-isupport): the 005 list on request, before registration too for clients that
    /// negotiated the capability.
    mutating func isupportCommand(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard session.isRegistered || session.caps.contains(.extendedISupport) else {
            self.reply(request.id, .errNotRegistered, "You have not registered", into: &outbox)
            return
        }
        self.sendISupport(request.id, into: &outbox)
    }

    mutating func sendLusers(_ id: SessionID, into outbox: inout Outbox) {
        let users = self.nicks.count
        let invisible = self.modeCounts.invisible
        let operators = self.modeCounts.operators
        let unknown = self.sessions.count - users
        self.reply(
            id,
            .rplLUserClient,
            "There are \(users - invisible) users and \(invisible) invisible on 1 servers",
            into: &outbox
        )
        self.reply(id, .rplLUserOp, String(operators), "operator(s) online", into: &outbox)
        self.reply(id, .rplLUserUnknown, String(unknown), "unknown connection(s)", into: &outbox)
        self.reply(id, .rplLUserChannels, String(self.channels.count), "channels formed", into: &outbox)
        self.reply(id, .rplLUserMe, "I have \(users) clients and 0 servers", into: &outbox)
        let counts = [String(users), String(self.maximumUsers)]
        self.reply(
            id,
            .rplLocalUsers,
            counts + ["Current local users \(users), max \(self.maximumUsers)"],
            into: &outbox
        )
        self.reply(
            id,
            .rplGlobalUsers,
            counts + ["Current global users \(users), max \(self.maximumUsers)"],
            into: &outbox
        )
    }

    mutating func sendMOTD(_ id: SessionID, into outbox: inout Outbox) {
        guard let motd = self.configuration.motd else {
            self.reply(id, .errNoMotd, "MOTD File is missing", into: &outbox)
            return
        }
        self.reply(id, .rplMotdStart, "- \(self.configuration.serverName) Message of the day - ", into: &outbox)
        for line in motd {
            self.reply(id, .rplMotd, "- " + line, into: &outbox)
        }
        self.reply(id, .rplEndOfMotd, "End of /MOTD command.", into: &outbox)
    }
}
