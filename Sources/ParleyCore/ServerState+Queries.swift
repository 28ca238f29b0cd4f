import ParleyIRC

/// A user who left or changed nick, for WHOWAS.
struct WhowasEntry: Sendable {
    var nick: String
    var user: String
    var host: String
    var realname: String
    var time: Timestamp
}

extension ServerState {
    mutating func rememberWhowas(_ session: Session, now: Timestamp) {
        guard let nick = session.nick else { return }
        self.whowas.append(
            WhowasEntry(
                nick: nick,
                user: session.user ?? "*",
                host: session.host,
                realname: session.realname,
                time: now
            )
        )
        if self.whowas.count > self.configuration.whowasEntries {
            self.whowas.removeFirst(self.whowas.count - self.configuration.whowasEntries)
        }
    }

    /// `WHO mask [%fields[,token]]`, with WHOX when the second parameter starts with `%`.
    mutating func who(_ request: Request, _ outbox: inout Outbox) {
        guard let viewer = self.sessions[request.id] else { return }
        let mask = request.message.parameter(0) ?? "*"
        let options = request.message.parameter(1) ?? ""
        let whox = options.hasPrefix("%") ? Self.whoxFields(options) : nil
        let operatorsOnly = !options.hasPrefix("%") && options.contains("o")
        var matches: [(Session, Channel?)] = []
        var remote: [(RemoteMember, Channel)] = []
        if IRCName.isChannel(mask) {
            if let channel = self.channels[ChannelKey(mask)],
                channel.members[request.id] != nil || !channel.flags.contains(.secret)
            {
                let isMember = channel.members[request.id] != nil
                for member in channel.members.keys.sorted() {
                    guard let session = self.sessions[member] else { continue }
                    if !isMember && session.modes.contains(.invisible) { continue }
                    matches.append((session, channel))
                }
                // Users on other nodes: to members only, as in NAMES.
                if isMember {
                    remote = channel.remoteMembers.values.sorted { $0.nick < $1.nick }.map { ($0, channel) }
                }
            }
        } else if self.session(named: mask) == nil, let user = self.remoteUser(mask) {
            // A user on another node, shown when they share a channel with the asker (whether they are +i is not
            // known here).
            let folded = NickKey(mask).folded
            let shared = self.channels.values.sorted { $0.name < $1.name }.first {
                $0.members[request.id] != nil && $0.remoteMembers[folded]?.node == user.node
            }
            if let shared, let member = shared.remoteMembers[folded] { remote = [(member, shared)] }
        } else {
            let exact = self.session(named: mask)
            for session in self.sessions.values.sorted(by: { $0.id < $1.id }) where session.isRegistered {
                guard exact.map({ $0.id == session.id }) ?? true else { continue }
                if exact == nil {
                    let fields = [
                        session.displayNick, session.user ?? "", session.host, session.realname,
                        self.configuration.serverName,
                    ]
                    guard mask == "*" || mask == "0" || fields.contains(where: { IRCWildcard.matches(mask, $0) }) else {
                        continue
                    }
                    guard self.canSee(session, from: viewer) else { continue }
                }
                let shared = session.channels.intersection(viewer.channels).first.flatMap { self.channels[$0] }
                matches.append((session, shared))
            }
        }
        for (session, channel) in matches {
            if operatorsOnly && !session.modes.contains(.oper) { continue }
            var flags = session.away == nil ? "H" : "G"
            if session.modes.contains(.oper) { flags += "*" }
            if let channel, let status = channel.members[session.id] {
                flags += status.prefixes(multi: viewer.caps.contains(.multiPrefix))
            }
            if let (fields, token) = whox {
                var parameters: [String] = []
                for field in "tcuihsnfdlaor" where fields.contains(field) {
                    switch field {
                    case "t": parameters.append(token ?? "0")
                    case "c": parameters.append(channel?.name ?? "*")
                    case "u": parameters.append(session.user ?? "*")
                    case "i": parameters.append(viewer.modes.contains(.oper) ? session.address : "255.255.255.255")
                    case "h": parameters.append(session.host)
                    case "s": parameters.append(self.configuration.serverName)
                    case "n": parameters.append(session.displayNick)
                    case "f": parameters.append(flags)
                    case "d": parameters.append("0")
                    case "l":
                        parameters.append(
                            String(
                                max(
                                    0,
                                    (request.now.millisecondsSince1970 - session.lastSpoke.millisecondsSince1970) / 1000
                                )
                            )
                        )
                    case "a": parameters.append(session.account ?? "0")
                    case "o": parameters.append("n/a")
                    default: parameters.append(session.realname)
                    }
                }
                self.reply(request.id, .rplWhoSpcRpl, parameters, into: &outbox)
            } else {
                self.reply(
                    request.id,
                    .rplWhoReply,
                    channel?.name ?? "*",
                    session.user ?? "*",
                    session.host,
                    self.configuration.serverName,
                    session.displayNick,
                    flags,
                    "0 " + session.realname,
                    into: &outbox
                )
            }
        }
        for (member, channel) in remote where !operatorsOnly {
            let here = self.remoteAwayMessage(NickKey(member.nick).folded) == nil ? "H" : "G"
            let flags = here + member.status.prefixes(multi: viewer.caps.contains(.multiPrefix))
            if let (fields, token) = whox {
                var parameters: [String] = []
                for field in "tcuihsnfdlaor" where fields.contains(field) {
                    switch field {
                    case "t": parameters.append(token ?? "0")
                    case "c": parameters.append(channel.name)
                    case "u": parameters.append(member.user)
                    case "i": parameters.append("255.255.255.255")
                    case "h": parameters.append(member.host)
                    case "s": parameters.append(member.node)
                    case "n": parameters.append(member.nick)
                    case "f": parameters.append(flags)
                    case "d", "l", "a": parameters.append("0")
                    case "o": parameters.append("n/a")
                    default: parameters.append("")
                    }
                }
                self.reply(request.id, .rplWhoSpcRpl, parameters, into: &outbox)
            } else {
                self.reply(
                    request.id,
                    .rplWhoReply,
                    channel.name,
                    member.user,
                    member.host,
                    member.node,
                    member.nick,
                    flags,
                    "1 ",
                    into: &outbox
                )
            }
        }
        self.reply(request.id, .rplEndOfWho, mask, "End of WHO list", into: &outbox)
    }

    private static func whoxFields(_ options: String) -> (Set<Character>, String?) {
        let body = options.dropFirst()
        let parts = body.split(separator: ",", maxSplits: 1)
        let fields = Set(parts.first ?? "")
        let token = parts.count > 1 ? String(parts[1].prefix(3)) : nil
        return (fields, token)
    }

    mutating func whois(_ request: Request, _ outbox: inout Outbox) {
        guard let viewer = self.sessions[request.id] else { return }
        // `WHOIS server nick` asks a specific server; there is only this one.
        let nicks = request.parameters.count > 1 ? request.parameters[1] : request.parameters[0]
        let firstNick = nicks.split(separator: ",").first.map(String.init) ?? nicks
        guard let target = self.session(named: firstNick), target.isRegistered else {
            if let remote = self.remoteUser(firstNick) {
                self.whoisRemote(viewer, NickKey(firstNick).folded, remote, into: &outbox)
                return
            }
            self.reply(request.id, .errNoSuchNick, firstNick, "No such nick/channel", into: &outbox)
            self.reply(request.id, .rplEndOfWhois, firstNick, "End of /WHOIS list", into: &outbox)
            return
        }
        let nick = target.displayNick
        self.reply(
            request.id,
            .rplWhoisUser,
            nick,
            target.user ?? "*",
            target.host,
            "*",
            target.realname,
            into: &outbox
        )
        var visibleChannels: [String] = []
        for key in target.channels.sorted(by: { $0.folded < $1.folded }) {
            guard let channel = self.channels[key], let status = channel.members[target.id] else { continue }
            let shared = channel.members[request.id] != nil
            if (channel.flags.contains(.secret) || target.modes.contains(.invisible)) && !shared
                && viewer.id != target.id
                && !viewer.modes.contains(.oper)
            {
                continue
            }
            visibleChannels.append(status.prefixes(multi: viewer.caps.contains(.multiPrefix)) + channel.name)
        }
        if !visibleChannels.isEmpty {
            self.reply(request.id, .rplWhoisChannels, nick, visibleChannels.joined(separator: " "), into: &outbox)
        }
        self.reply(
            request.id,
            .rplWhoisServer,
            nick,
            self.configuration.serverName,
            self.configuration.serverDescription,
            into: &outbox
        )
        if target.modes.contains(.oper) {
            self.reply(request.id, .rplWhoisOperator, nick, "is an IRC operator", into: &outbox)
        }
        if let account = target.account {
            self.reply(request.id, .rplWhoisAccount, nick, account, "is logged in as", into: &outbox)
        }
        if target.isSecure {
            self.reply(request.id, .rplWhoisSecure, nick, "is using a secure connection", into: &outbox)
        }
        if let certificate = target.certificate, viewer.id == target.id || viewer.modes.contains(.oper) {
            self.reply(
                request.id,
                .rplWhoisCertFP,
                nick,
                "has client certificate fingerprint \(certificate)",
                into: &outbox
            )
        }
        if viewer.id == target.id || viewer.modes.contains(.oper) {
            self.reply(request.id, .rplWhoisActually, nick, target.address, "Actual IP", into: &outbox)
            self.reply(request.id, .rplWhoisModes, nick, "is using modes \(target.modes.string)", into: &outbox)
        }
        if let away = target.away {
            self.reply(request.id, .rplAway, nick, away, into: &outbox)
        }
        let idle = max(0, (request.now.millisecondsSince1970 - target.lastSpoke.millisecondsSince1970) / 1000)
        self.reply(
            request.id,
            .rplWhoisIdle,
            nick,
            String(idle),
            String(target.signonTime.seconds),
            "seconds idle, signon time",
            into: &outbox
        )
        for (key, value) in self.whoisMetadata(of: target) {
            self.reply(request.id, .rplWhoisKeyValue, nick, key, "*", value, into: &outbox)
        }
        self.reply(request.id, .rplEndOfWhois, nick, "End of /WHOIS list", into: &outbox)
    }

    /// WHOIS of a user on another node of the cluster: what this node knows (user and host from a channel they
    /// share with someone here, the channels they share with the viewer, and their node), nothing more: whether
    /// they are +i is not known here, so no other channel is named.
    private mutating func whoisRemote(
        _ viewer: Session,
        _ folded: String,
        _ remote: RemoteNick,
        into outbox: inout Outbox
    ) {
        let channels = self.channels.values.sorted { $0.name < $1.name }
        let known = channels.lazy.compactMap { $0.remoteMembers[folded] }.first
        self.reply(
            viewer.id,
            .rplWhoisUser,
            remote.display,
            known?.user ?? "*",
            known?.host ?? "*",
            "*",
            "",
            into: &outbox
        )
        let shared = channels.compactMap { channel -> String? in
            guard channel.members[viewer.id] != nil, let member = channel.remoteMembers[folded] else { return nil }
            return member.status.prefixes(multi: viewer.caps.contains(.multiPrefix)) + channel.name
        }
        if !shared.isEmpty {
            self.reply(viewer.id, .rplWhoisChannels, remote.display, shared.joined(separator: " "), into: &outbox)
        }
        self.reply(
            viewer.id,
            .rplWhoisServer,
            remote.display,
            remote.node,
            "another node of \(self.configuration.networkName)",
            into: &outbox
        )
        if let away = self.remoteAwayMessage(folded) {
            self.reply(viewer.id, .rplAway, remote.display, away, into: &outbox)
        }
        self.reply(viewer.id, .rplEndOfWhois, remote.display, "End of /WHOIS list", into: &outbox)
    }

    mutating func whowasQuery(_ request: Request, _ outbox: inout Outbox) {
        let nick = request.parameters[0]
        let count = request.message.parameter(1).flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? Int.max
        let key = NickKey(nick)
        let entries = self.whowas.reversed().filter { NickKey($0.nick) == key }.prefix(count)
        if entries.isEmpty {
            self.reply(request.id, .errWasNoSuchNick, nick, "There was no such nickname", into: &outbox)
        }
        for entry in entries {
            self.reply(
                request.id,
                .rplWhoWasUser,
                entry.nick,
                entry.user,
                entry.host,
                "*",
                entry.realname,
                into: &outbox
            )
            self.reply(
                request.id,
                .rplWhoisServer,
                entry.nick,
                self.configuration.serverName,
                entry.time.serverTime,
                into: &outbox
            )
        }
        self.reply(request.id, .rplEndOfWhoWas, nick, "End of WHOWAS", into: &outbox)
    }

    mutating func userhost(_ request: Request, _ outbox: inout Outbox) {
        var replies: [String] = []
        for nick in request.parameters.prefix(5) {
            guard let session = self.session(named: nick), session.isRegistered else { continue }
            let oper = session.modes.contains(.oper) ? "*" : ""
            let away = session.away == nil ? "+" : "-"
            replies.append("\(session.displayNick)\(oper)=\(away)\(session.user ?? "*")@\(session.host)")
        }
        self.reply(request.id, .rplUserHost, replies.joined(separator: " "), into: &outbox)
    }

    mutating func ison(_ request: Request, _ outbox: inout Outbox) {
        let nicks = request.parameters.flatMap { $0.split(separator: " ").map(String.init) }
        let online = nicks.compactMap { self.session(named: $0)?.nick }
        self.reply(request.id, .rplIsOn, online.joined(separator: " "), into: &outbox)
    }

    mutating func versionQuery(_ request: Request, _ outbox: inout Outbox) {
        let config = self.configuration
        self.reply(request.id, .rplVersion, config.version, config.serverName, "Parley IRC server", into: &outbox)
        self.sendISupport(request.id, into: &outbox)
    }

    mutating func timeQuery(_ request: Request, _ outbox: inout Outbox) {
        self.reply(request.id, .rplTime, self.configuration.serverName, request.now.serverTime, into: &outbox)
    }

    mutating func adminQuery(_ request: Request, _ outbox: inout Outbox) {
        let info = self.configuration.adminInfo
        self.reply(request.id, .rplAdminMe, self.configuration.serverName, "Administrative info", into: &outbox)
        self.reply(request.id, .rplAdminLoc1, info.first ?? self.configuration.networkName, into: &outbox)
        self.reply(request.id, .rplAdminLoc2, info.dropFirst().first ?? "Parley IRC server", into: &outbox)
        self.reply(
            request.id,
            .rplAdminEmail,
            info.dropFirst(2).first ?? "No administrative contact set",
            into: &outbox
        )
    }

    /// `LINKS`: a single node has no links; it lists itself.
    mutating func linksQuery(_ request: Request, _ outbox: inout Outbox) {
        let name = self.configuration.serverName
        self.reply(request.id, .rplLinks, name, name, "0 \(self.configuration.serverDescription)", into: &outbox)
        self.reply(request.id, .rplEndOfLinks, "*", "End of /LINKS list", into: &outbox)
    }

    mutating func infoQuery(_ request: Request, _ outbox: inout Outbox) {
        let lines = [
            "\(self.configuration.version): Parley, a chat server that speaks IRC.",
            "Written in Swift on SwiftNIO.",
            "Up since \(self.configuration.createdAt.serverTime).",
        ]
        for line in lines {
            self.reply(request.id, .rplInfo, line, into: &outbox)
        }
        self.reply(request.id, .rplEndOfInfo, "End of /INFO list", into: &outbox)
    }
}
