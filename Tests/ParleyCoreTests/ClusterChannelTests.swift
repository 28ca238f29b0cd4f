import ParleyCore
import ParleyIRC
import Testing

/// Channel events other nodes committed, applied with plain values: the harness plays the relay.
@Suite struct ClusterChannelTests {
    private func node(history: Bool = false) -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.nodeName = "a"
        if history { configuration.history = .init() }
        return CoreHarness(configuration: configuration)
    }

    private func relay(_ core: inout CoreHarness, _ line: String) throws {
        core.outbox.removeAll()
        core.state.relayFromOtherNode(try IRCParser.parse(line), into: &core.outbox)
        core.collect()
    }

    private func names(_ core: inout CoreHarness, _ client: String, _ channel: String) -> Set<String> {
        core.send(client, "NAMES \(channel)")
        let reply = core.take(client).filter { $0.command == IRCCommand(.rplNamReply) }
        return Set(reply.flatMap { $0.parameters.last!.split(separator: " ").map(String.init) })
    }

    @Test func aStartingNodeKeepsOnlyTheMembersOfRunsThatAreAlive() throws {
        var core = self.node()
        try self.relay(&core, "@msgid=x.r1-1 :old!u@h JOIN #c")
        try self.relay(&core, "@msgid=y.r2-1 :live!u@h JOIN #c")
        try self.relay(&core, "@msgid=y.r2-2 :irc.y MODE #c +o live")
        try self.relay(&core, "@msgid=x.r1-2 :gone!u@h JOIN #d")
        core.state.keepRemoteMembers(onRuns: ["y.r2"])
        #expect(core.state.channels[ChannelKey("#d")] == nil, "a channel whose members all went is gone")
        core.connect("me")
        core.answerClaim("me", "me", .granted)
        core.send("me", "JOIN #c")
        let joined = core.take("me")
        #expect(!joined.contains { $0.command == .mode }, "no ops for joining a channel that has members")
        #expect(self.names(&core, "me", "#c") == ["@live", "me"])
    }

    @Test func twoNodesChangingTheTopicAtOnceEndWithTheLogsLastChange() throws {
        var core = self.node()
        core.connect("me")
        core.answerClaim("me", "me", .granted)
        core.send("me", "JOIN #c")
        core.send("me", "TOPIC #c :mine")
        _ = core.take("me")
        // In the log, node y's change came after mine: it is shown, and it holds.
        try self.relay(&core, "@msgid=y.r2-1;time=2026-11-26T03:00:00.000Z :bob!u@h TOPIC #c :theirs")
        #expect(core.take("me").map(\.command) == [.topic])
        #expect(core.state.channels[ChannelKey("#c")]?.topic == "theirs")
        // Had mine come after theirs in the log, the relay hands mine back in that order: applied, not shown again.
        var own = try IRCParser.parse(":me!u@h TOPIC #c :mine again")
        own.tags = [IRCTag("msgid", "x"), IRCTag("time", "2026-11-26T03:00:01.000Z")]
        core.state.reapplyOwnChannelChange(own)
        #expect(core.state.channels[ChannelKey("#c")]?.topic == "mine again")
        #expect(core.take("me").isEmpty)
    }

    /// Typing notices are not stored, so they cannot travel through the log: they go to the other nodes as a
    /// signal, only when someone there can see them, and a signal from another node reaches the members here who
    /// take message tags.
    @Test func typingNoticesCrossNodesAsSignals() throws {
        var core = self.node(history: true)
        core.connect("me", caps: ["message-tags"])
        core.answerClaim("me", "me", .granted)
        core.connect("plain")
        core.answerClaim("plain", "plain", .granted)
        core.send("me", "JOIN #c")
        core.send("plain", "JOIN #c")
        core.send("me", "@+typing=active TAGMSG #c")
        #expect(core.signals.isEmpty, "no one on another node is in #c")
        try self.relay(&core, "@msgid=y.r2-1 :bob!u@h JOIN #c")
        core.state.remoteNickClaimed("bob", RemoteNick(display: "bob", node: "y"))
        core.persisted.removeAll()
        core.send("me", "@+typing=active TAGMSG #c")
        core.send("me", "@+typing=active TAGMSG bob")
        #expect(core.signals.map(\.command) == [.tagmsg, .tagmsg])
        #expect(core.signals.map { $0.parameters } == [["#c"], ["bob"]])
        #expect(core.signals.allSatisfy { $0.tag("+typing") == "active" && $0.source?.hasPrefix("me!") == true })
        #expect(core.persisted.isEmpty, "typing is never stored")
        // A reaction is content: it goes through the log like a message, not as a signal.
        core.signals.removeAll()
        core.send("me", "@+draft/react=x;+draft/reply=y TAGMSG #c")
        #expect(core.signals.isEmpty && core.persisted.count == 1)

        _ = core.take("me")
        _ = core.take("plain")
        core.outbox.removeAll()
        let typing = try IRCParser.parse("@+typing=paused;msgid=y.r2-9 :bob!u@h TAGMSG #c")
        core.state.relaySignalFromOtherNode(typing, into: &core.outbox)
        core.collect()
        #expect(core.take("me") == [typing])
        #expect(core.take("plain").isEmpty, "without message-tags there is nothing to show")
        core.outbox.removeAll()
        core.state.relaySignalFromOtherNode(
            try IRCParser.parse(":bob!u@h PRIVMSG #c :not a signal"),
            into: &core.outbox
        )
        core.collect()
        #expect(core.take("me").isEmpty && core.take("plain").isEmpty, "only a TAGMSG is taken as a signal")
    }

    /// An op here invites a user on node y: the INVITE is stored in their conversation (y's relay takes it from
    /// there); an INVITE stored on y for a user here lets them into the +i channel and tells them.
    @Test func anInviteCrossesNodesThroughTheLog() throws {
        var core = self.node(history: true)
        core.connect("me", caps: ["invite-notify"])
        core.answerClaim("me", "me", .granted)
        core.connect("you")
        core.answerClaim("you", "you", .granted)
        core.send("me", "JOIN #c")
        core.send("me", "MODE #c +i")
        core.state.remoteNickClaimed("bob", RemoteNick(display: "Bob", node: "y"))
        core.persisted.removeAll()
        _ = core.take("me")
        _ = core.take("you")
        core.send("me", "INVITE bob #c")
        #expect(core.take("me").map(\.command) == [IRCCommand(.rplInviting)])
        let stored = try #require(core.persisted.first)
        #expect(stored.0.command == .invite && stored.0.parameters == ["Bob", "#c"])
        let owner = try #require(core.state.historyOwner(of: core.ids["me"]!))
        #expect(
            stored.1 == HistoryTarget.conversation(owner: owner, correspondent: "bob").storageKey,
            "in the inviter's copy"
        )
        #expect(stored.0.tag("msgid")?.hasPrefix(core.state.runName + "-") == true)
        core.send("me", "INVITE nobody #c")
        #expect(core.take("me").map(\.command) == [IRCCommand(.errNoSuchNick)], "a nick no node holds")

        core.send("you", "JOIN #c")
        #expect(core.take("you").map(\.command) == [IRCCommand(.errInviteOnlyChan)])
        try self.relay(&core, "@msgid=y.r2-1 :bob!u@h JOIN #c")
        _ = core.take("me")
        try self.relay(&core, "@msgid=y.r2-2 :bob!u@h INVITE you #c")
        #expect(core.take("you").map(\.command) == [.invite], "the invited user is told")
        #expect(core.take("me").map(\.command) == [.invite], "a member with invite-notify is told")
        core.send("you", "JOIN #c")
        #expect(core.take("you").first?.command == .join, "and may join the +i channel")
        _ = core.take("me")
        core.send("me", "INVITE bob #c")
        #expect(core.take("me").map(\.command) == [IRCCommand(.errUserOnChannel)], "bob on y is already in")
    }

    /// AWAY crosses nodes through the logs of the user's channels: away-notify, WHO's G, WHOIS and a DM's 301 here
    /// for a user on node y; copies and older changes change nothing; this node logs its own users' AWAY.
    @Test func awayCrossesNodesThroughTheChannelLogs() throws {
        var core = self.node(history: true)
        core.connect("me", caps: ["away-notify"])
        core.answerClaim("me", "me", .granted)
        core.send("me", "JOIN #c")
        core.state.remoteNickClaimed("bob", RemoteNick(display: "bob", node: "y"))
        try self.relay(&core, "@msgid=y.r2-1;time=2026-11-26T03:00:00.000Z :bob!u@h JOIN #c")
        _ = core.take("me")
        try self.relay(&core, "@msgid=y.r2-2;time=2026-11-26T03:00:01.000Z :bob!u@h AWAY :lunch")
        try self.relay(&core, "@msgid=y.r2-2.1;time=2026-11-26T03:00:01.000Z :bob!u@h AWAY :lunch")
        #expect(core.take("me").map(\.parameters) == [["lunch"]], "told once, however many channels logged it")
        try self.relay(&core, "@msgid=y.r2-0;time=2026-11-26T02:59:00.000Z :bob!u@h AWAY :older")
        #expect(core.take("me").isEmpty, "an older change that arrives late changes nothing")
        core.send("me", "WHO #c")
        let who = core.take("me").filter { $0.command == IRCCommand(.rplWhoReply) }
        #expect(who.first { $0.parameters[5] == "bob" }?.parameters[6] == "G")
        core.send("me", "WHOIS bob")
        #expect(core.take("me").first { $0.command == IRCCommand(.rplAway) }?.parameters == ["me", "bob", "lunch"])
        core.send("me", "PRIVMSG bob :are you back?")
        #expect(core.take("me").map(\.command) == [IRCCommand(.rplAway)])
        try self.relay(&core, "@msgid=y.r2-3;time=2026-11-26T03:00:02.000Z :bob!u@h AWAY")
        #expect(core.take("me").map(\.parameters) == [[]], "back")
        core.send("me", "WHOIS bob")
        #expect(!core.take("me").contains { $0.command == IRCCommand(.rplAway) })

        try self.relay(&core, "@msgid=y.r2-4;time=2026-11-26T03:00:03.000Z :carol!u@h AWAY :afk")
        try self.relay(&core, "@msgid=y.r2-5;time=2026-11-26T03:00:04.000Z :carol!u@h JOIN #c")
        #expect(core.take("me").map(\.command) == [.join, .away], "an away user who joins is shown away")

        core.persisted.removeAll()
        core.send("me", "AWAY :brb")
        let logged = core.persisted.filter { $0.0.command == .away }
        #expect(logged.map(\.1) == [ChannelKey("#c").folded], "logged in the channel for the other nodes")
        #expect(logged.first?.0.parameters == ["brb"])

        // In no channel: logged where the user's own AWAY changes go; a DM from this node then answers 301.
        core.send("me", "PART #c")
        core.persisted.removeAll()
        core.send("me", "AWAY :gone")
        let alone = core.persisted.filter { $0.0.command == .away }
        #expect(alone.map(\.1) == [HistoryTarget.awayLog("me").storageKey])
        core.state.remoteNickClaimed("dave", RemoteNick(display: "dave", node: "y"))
        try self.relay(&core, "@msgid=y.r2-6;time=2026-11-26T03:00:05.000Z :dave!u@h AWAY :out")
        _ = core.take("me")
        core.send("me", "PRIVMSG dave :hello?")
        #expect(core.take("me").first { $0.command == IRCCommand(.rplAway) }?.parameters == ["me", "dave", "out"])
    }

    @Test func eventsFromAnotherNodeAreShownAndApplied() throws {
        var core = self.node()
        core.connect("me")
        core.answerClaim("me", "me", .granted)
        core.send("me", "JOIN #c")
        _ = core.take("me")
        try self.relay(&core, "@msgid=y.r2-1 :bob!u@h JOIN #c")
        #expect(core.take("me").map(\.command) == [.join])
        try self.relay(&core, "@msgid=y.r2-2 :bob!u@h NICK robert")
        try self.relay(&core, "@msgid=y.r2-2.1 :bob!u@h NICK robert")
        #expect(core.take("me").map(\.command) == [.nick], "one NICK however many channels it was logged in")
        #expect(self.names(&core, "me", "#c") == ["@me", "robert"])
        core.send("me", "WHO #c")
        let who = core.take("me").filter { $0.command == IRCCommand(.rplWhoReply) }
        #expect(who.map { $0.parameters[5] } == ["me", "robert"])
        #expect(who.last?.parameters[2...4] == ["u", "h", "y"], "user, host and the node as server")
        core.state.remoteNickClaimed("robert", RemoteNick(display: "Robert", node: "y"))
        core.send("me", "WHOIS robert")
        let whois = core.take("me")
        #expect(whois.map(\.command.rawValue) == ["311", "319", "312", "318"])
        #expect(whois.first?.parameters == ["me", "Robert", "u", "h", "*", ""])
        #expect(whois[1].parameters.last == "#c" && whois[2].parameters[2] == "y")
        core.send("me", "WHO Robert")
        let whoNick = core.take("me")
        #expect(whoNick.map(\.command.rawValue) == ["352", "315"])
        #expect(whoNick.first?.parameters[1...5] == ["#c", "u", "h", "y", "robert"])
        core.send("me", "WHOIS nobody")
        #expect(core.take("me").first?.command == IRCCommand(.errNoSuchNick))
        try self.relay(&core, "@msgid=y.r2-3 :robert!u@h KICK #c me :out")
        #expect(core.take("me").map(\.command) == [.kick])
        #expect(core.state.sessions[core.ids["me"]!]?.channels.isEmpty == true, "a remote op's KICK removes me")
        core.send("me", "JOIN #c")
        _ = core.take("me")
        core.outbox.removeAll()
        core.state.remoteNodeGone("y", lost: true, now: core.now, into: &core.outbox)
        core.collect()
        let quit = core.take("me")
        #expect(quit.map(\.command) == [.quit] && quit.first?.parameters == ["Node y was lost"])
        #expect(self.names(&core, "me", "#c") == ["me"])
    }
}
