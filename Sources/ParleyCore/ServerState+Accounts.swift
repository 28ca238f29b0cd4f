import ParleyIRC

/// Accounts: NickServ, the IRCv3 `REGISTER` command, logging in and out, and registered nicks.
///
/// Passwords never stay here: each request goes to the host as an ``AccountRequest`` and comes back as an
/// ``AccountOutcome``.
extension ServerState {
    static let nickServ = "NickServ"
    static let serviceNicks: Set<String> = ["nickserv", "chanserv"]

    /// Records the registered accounts (folded names) when the server starts.
    public mutating func loadAccounts(_ names: some Sequence<String>) {
        self.registeredAccounts = Set(names.map { NickKey($0).folded })
    }

    // MARK: NickServ

    /// `PRIVMSG NickServ :COMMAND args`.
    mutating func nickServCommand(_ id: SessionID, _ text: String, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id] else { return }
        guard self.configuration.accounts != nil else {
            self.serviceNotice(Self.nickServ, to: id, "Accounts are not enabled on this server.", into: &outbox)
            return
        }
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let command = words.first.map(CaseMapping.asciiUppercased) ?? "HELP"
        let arguments = Array(words.dropFirst())
        func request(_ kind: AccountRequest.Kind) {
            outbox.actions.append(
                .effect(AnyEffect(AccountRequest(session: id, kind: kind, via: .nickServ, address: session.address)))
            )
        }
        func say(_ line: String) { self.serviceNotice(Self.nickServ, to: id, line, into: &outbox) }
        switch (command, arguments.count) {
        case ("REGISTER", 1...2):
            guard session.account == nil else {
                return say("You are already logged in as \(session.account ?? ""); log out first.")
            }
            if let problem = self.passwordProblem(arguments[0]) { return say(problem) }
            guard !self.registeredAccounts.contains(NickKey(session.displayNick).folded) else {
                return say("The account \(session.displayNick) already exists. IDENTIFY if it is yours.")
            }
            if let wait = self.reserveRegistration(session.address, now: now) {
                return say("Too many accounts registered from your address; try again in \(wait) s.")
            }
            request(
                .register(
                    account: session.displayNick,
                    email: arguments.count > 1 ? arguments[1] : nil,
                    password: arguments[0]
                )
            )
        case ("IDENTIFY", 1...2):
            let account = arguments.count == 2 ? arguments[0] : session.displayNick
            request(.identify(account: account, password: arguments.last ?? ""))
        case ("DROP", 1):
            guard let account = session.account else { return say("You are not logged in.") }
            request(.drop(account: account, password: arguments[0]))
        case ("SET", 2) where CaseMapping.asciiUppercased(arguments[0]) == "PASSWORD":
            guard let account = session.account else { return say("Log in first: /msg NickServ IDENTIFY <password>") }
            if let problem = self.passwordProblem(arguments[1]) { return say(problem) }
            request(.setPassword(account: account, password: arguments[1]))
        case ("INFO", 0...1):
            request(.info(account: arguments.first ?? session.account ?? session.displayNick))
        case ("CERT", 1...2):
            guard let account = session.account else { return say("Log in first: /msg NickServ IDENTIFY <password>") }
            switch (CaseMapping.asciiUppercased(arguments[0]), arguments.count) {
            case ("ADD", _):
                // Only the certificate this connection presented: a fingerprint typed in proves nothing, and would
                // let whoever holds that certificate into the account.
                guard let fingerprint = session.certificate else {
                    return say("This connection has no TLS client certificate: connect with the one to add.")
                }
                if arguments.count == 2, Self.normalizedFingerprint(arguments[1]) != fingerprint {
                    return say("Only the certificate of this connection can be added (\(fingerprint)).")
                }
                request(.certificate(account: account, change: .add(fingerprint)))
            case ("DEL", 2):
                guard let fingerprint = Self.normalizedFingerprint(arguments[1]) else {
                    return say("\(arguments[1]) is not a SHA-256 fingerprint (64 hex digits).")
                }
                request(.certificate(account: account, change: .remove(fingerprint)))
            case ("LIST", 1):
                request(.certificate(account: account, change: .list))
            default:
                say("CERT ADD [fingerprint], CERT DEL <fingerprint> or CERT LIST.")
            }
        case ("GHOST", 1), ("REGAIN", 1):
            self.freeNick(arguments[0], for: id, andTake: command == "REGAIN", now: now, into: &outbox)
        case ("LOGOUT", 0):
            guard session.account != nil else { return say("You are not logged in.") }
            self.setAccount(id, nil, now: now, into: &outbox)
            say("You are now logged out.")
        case ("HELP", _):
            for line in [
                "NickServ keeps accounts. Commands:",
                "REGISTER <password> [email] — register your current nick as an account",
                "IDENTIFY [account] <password> — log in",
                "LOGOUT — log out",
                "GHOST <nick> — disconnect whoever uses your account's nick",
                "REGAIN <nick> — the same, then take the nick",
                "INFO [account] — when an account was registered",
                "SET PASSWORD <new password> — change your password",
                "DROP <password> — delete your account",
                "CERT ADD | DEL <fingerprint> | LIST — TLS client certificates that log in (SASL EXTERNAL); ADD adds "
                    + "the one this connection presented",
            ] {
                say(line)
            }
        default:
            say("Unknown or incomplete command \(command). /msg NickServ HELP lists the commands.")
        }
    }

    /// Counts a registration from `address` (`registrationsPerHour`); the seconds to wait when over the limit.
    mutating func reserveRegistration(_ address: String, now: Timestamp) -> Int64? {
        let limit = self.configuration.accounts?.registrationsPerHour ?? 5
        return self.reserveAttempt("register", address: address, now: now, limit: limit, window: 3_600_000)
    }

    /// A SHA-256 fingerprint as stored: 64 lower-case hex digits (colons, as tools print them, are dropped).
    static func normalizedFingerprint(_ text: String) -> String? {
        let hex = text.lowercased().filter { $0 != ":" }
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        return hex
    }

    /// Why `password` cannot be used, or `nil`.
    func passwordProblem(_ password: String) -> String? {
        let minimum = self.configuration.accounts?.minimumPasswordLength ?? 8
        if password.count < minimum { return "The password must have at least \(minimum) characters." }
        return nil
    }

    func serviceNotice(_ service: String, to id: SessionID, _ text: String, into outbox: inout Outbox) {
        let nick = self.sessions[id]?.displayNick ?? "*"
        outbox.send(
            IRCMessage(
                source: "\(service)!\(service)@services.\(self.configuration.serverName)",
                command: .notice,
                parameters: [nick, text]
            ),
            to: id
        )
    }

    // MARK: REGISTER / VERIFY (draft/account-registration)

    mutating func registerCommand(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        var account = request.parameters[0]
        let email = request.parameters[1]
        let password = request.parameters[2]
        func fail(_ code: String, _ text: String) {
            outbox.send(self.fail("REGISTER", code, text, context: [account]), to: request.id)
        }
        guard self.configuration.accounts != nil else {
            return fail("TEMPORARILY_UNAVAILABLE", "Accounts are not enabled on this server")
        }
        if account == "*" {
            guard let nick = session.nick else {
                account = "*"
                return fail("NEED_NICK", "Send NICK first, or name the account")
            }
            account = nick
        }
        guard session.account == nil else { return fail("ALREADY_AUTHENTICATED", "You are already logged in") }
        guard IRCName.isValidNickname(account, maximumLength: self.configuration.nickLength),
            !Self.serviceNicks.contains(NickKey(account).folded)
        else { return fail("BAD_ACCOUNT_NAME", "An account name follows the rules of a nickname") }
        if let problem = self.passwordProblem(password) { return fail("WEAK_PASSWORD", problem) }
        guard !self.registeredAccounts.contains(NickKey(account).folded) else {
            return fail("ACCOUNT_EXISTS", "The account already exists")
        }
        if let wait = self.reserveRegistration(session.address, now: request.now) {
            return fail(
                "TEMPORARILY_UNAVAILABLE",
                "Too many accounts registered from your address; try again in \(wait) s"
            )
        }
        let kind = AccountRequest.Kind.register(account: account, email: email == "*" ? nil : email, password: password)
        let registration = AccountRequest(
            session: request.id,
            kind: kind,
            via: .registerCommand,
            address: session.address
        )
        outbox.actions.append(.effect(AnyEffect(registration)))
    }

    /// Verification codes are not used (no mail is sent), so there is never one to check.
    mutating func verifyCommand(_ request: Request, _ outbox: inout Outbox) {
        outbox.send(
            self.fail(
                "VERIFY",
                "INVALID_CODE",
                "No verification is pending: accounts are active at once",
                context: [request.parameters[0]]
            ),
            to: request.id
        )
    }

    // MARK: Outcomes

    /// The host finished an ``AccountRequest``.
    public mutating func accountCompleted(
        _ request: AccountRequest,
        _ outcome: AccountOutcome,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        let id = request.session
        guard self.sessions[id] != nil else { return }
        let viaRegister = request.via == .registerCommand
        func say(_ line: String) { self.serviceNotice(Self.nickServ, to: id, line, into: &outbox) }
        switch outcome {
        case .registered(let account):
            self.registeredAccounts.insert(NickKey(account).folded)
            if viaRegister {
                outbox.send(
                    IRCMessage(
                        source: self.configuration.serverName,
                        command: .register,
                        parameters: ["SUCCESS", account, "Account \(account) registered; you are logged in"]
                    ),
                    to: id
                )
            } else {
                say("Account \(account) registered. You are now logged in.")
            }
            self.setAccount(id, account, now: now, into: &outbox)
        case .loggedIn(let account):
            say("You are now logged in as \(account).")
            self.setAccount(id, account, now: now, into: &outbox)
        case .dropped(let account):
            let folded = NickKey(account).folded
            self.registeredAccounts.remove(folded)
            for (other, session) in self.sessions where session.account.map(NickKey.init) == NickKey(account) {
                self.setAccount(other, nil, now: now, into: &outbox)
            }
            // Its channel registrations go with it: whoever registers the name next must not become their founder.
            let founded = self.registeredChannels.filter { $0.value.founder == folded }
            for (key, registration) in founded.sorted(by: { $0.key.folded < $1.key.folded }) {
                self.registeredChannels[key] = nil
                outbox.actions.append(.dropChannel(key.folded))
                say("The registration of \(registration.name) is dropped with it.")
            }
            say("The account \(account) is deleted.")
        case .passwordChanged(let account):
            say("The password of \(account) is changed.")
        case .info(let account, let registeredAt):
            say("\(account) was registered \(IRCTimestamp.format(millisecondsSince1970: registeredAt)).")
        case .certificateAdded(let account, let fingerprint):
            say("The certificate \(fingerprint) now logs in to \(account) (SASL EXTERNAL).")
        case .certificateRemoved(let account, let fingerprint):
            say("The certificate \(fingerprint) no longer logs in to \(account).")
        case .certificates(let account, let fingerprints):
            say(fingerprints.isEmpty ? "No certificate logs in to \(account)." : "Certificates of \(account):")
            for fingerprint in fingerprints { say(fingerprint) }
        case .failed(let failure):
            let (code, text): (String, String)
            switch failure {
            case .exists: (code, text) = ("ACCOUNT_EXISTS", "The account already exists")
            case .noSuchAccount: (code, text) = ("ACCOUNT_REQUIRED", "There is no such account")
            case .wrongPassword: (code, text) = ("INVALID_PASSWORD", "Wrong account name or password")
            case .rateLimited(let seconds):
                (code, text) = ("TEMPORARILY_UNAVAILABLE", "Too many failed attempts; try again in \(seconds) s")
            case .unavailable(let reason): (code, text) = ("TEMPORARILY_UNAVAILABLE", "Accounts unavailable: \(reason)")
            case .certificateInUse:
                (code, text) = ("ACCOUNT_EXISTS", "That certificate already logs in to an account")
            case .noSuchCertificate: (code, text) = ("INVALID_PARAMS", "No such certificate on this account")
            }
            if viaRegister {
                var context = "*"
                if case .register(let account, _, _) = request.kind { context = account }
                outbox.send(self.fail("REGISTER", code, text, context: [context]), to: id)
            } else {
                say(text + ".")
            }
        }
    }

    /// Logs `id` in to `account` (or out, with `nil`): 900/901, and ACCOUNT to peers with account-notify.
    mutating func setAccount(_ id: SessionID, _ account: String?, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id], session.account != account else { return }
        self.sessions[id]?.account = account
        if let account {
            self.reply(id, .rplLoggedIn, session.prefix, account, "You are now logged in as \(account)", into: &outbox)
            if NickKey(account) == NickKey(session.displayNick) { self.sessions[id]?.renameAt = nil }
            self.requestPendingDeliveries(id, into: &outbox)
        } else {
            self.reply(id, .rplLoggedOut, session.prefix, "You are now logged out", into: &outbox)
            self.checkReservation(id, now: now, into: &outbox)
        }
        guard session.isRegistered else { return }
        let notify = self.event(session, .account, [account ?? "*"], now: now)
        outbox.broadcast(notify, to: self.peers(of: session) { $0.caps.contains(.accountNotify) })
    }

    // MARK: Registered nicks

    /// If `id` holds a registered nick it is not logged in to, warn it and set its rename time.
    mutating func checkReservation(_ id: SessionID, now: Timestamp, into outbox: inout Outbox) {
        guard let settings = self.configuration.accounts, let session = self.sessions[id], session.isRegistered,
            let nick = session.nick
        else { return }
        let key = NickKey(nick)
        guard self.registeredAccounts.contains(key.folded), session.account.map(NickKey.init) != key else {
            self.sessions[id]?.renameAt = nil
            return
        }
        self.sessions[id]?.renameAt = Timestamp(
            millisecondsSince1970: now.millisecondsSince1970 + settings.nickGrace * 1000
        )
        self.serviceNotice(
            Self.nickServ,
            to: id,
            "The nick \(nick) belongs to a registered account. Log in within \(settings.nickGrace) seconds "
                + "(/msg NickServ IDENTIFY <password>) or you will be renamed.",
            into: &outbox
        )
    }

    /// Renames sessions whose grace period for a registered nick has passed. The host calls it about once a second.
    public mutating func expireReservations(now: Timestamp, into outbox: inout Outbox) {
        if !self.heldForOwner.isEmpty { self.heldForOwner = self.heldForOwner.filter { now < $0.value } }
        let expired = self.sessions.values.filter { ($0.renameAt.map { $0 <= now }) ?? false }.map(\.id)
        for id in expired {
            self.sessions[id]?.renameAt = nil
            self.claimGuestNick(id, now: now, into: &outbox)
        }
    }

    /// Whether the session uses a registered nick without being logged in to its account.
    func holdsReservedNick(_ session: Session) -> Bool {
        guard let nick = session.nick else { return false }
        let key = NickKey(nick)
        return self.registeredAccounts.contains(key.folded) && session.account.map(NickKey.init) != key
    }

    /// Renames a session that did not log in to the account of its nick in time.
    mutating func renameToGuest(_ id: SessionID, _ guest: String, now: Timestamp, into outbox: inout Outbox) {
        guard let oldNick = self.sessions[id]?.nick else { return }
        self.serviceNotice(
            Self.nickServ,
            to: id,
            "You did not log in to the account \(oldNick) in time, so your nick is now \(guest).",
            into: &outbox
        )
        if let settings = self.configuration.accounts, let session = self.sessions[id], self.holdsReservedNick(session)
        {
            self.heldForOwner[NickKey(oldNick).folded] = Timestamp(
                millisecondsSince1970: now.millisecondsSince1970 + settings.nickHold * 1000
            )
            if self.claimsNicks {
                outbox.actions.append(.holdNick(folded: NickKey(oldNick).folded, seconds: settings.nickHold))
            }
        }
        self.changeNick(id, to: guest, now: now, into: &outbox)
    }
}

extension ServerState {
    /// A PRIVMSG to a service nick.
    mutating func serviceCommand(
        _ service: String,
        from id: SessionID,
        _ text: String,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        switch NickKey(service).folded {
        case "nickserv": self.nickServCommand(id, text, now: now, into: &outbox)
        case "chanserv": self.chanServCommand(id, text, now: now, into: &outbox)
        default: self.serviceNotice(service, to: id, "This service is not available yet.", into: &outbox)
        }
    }
}
