import ParleyCore
import ParleyIRC
import Testing

@Suite struct ChannelTests {
    /// alice (op, created #a) and bob (member), inboxes cleared.
    static func twoInChannel(aliceCaps: [String] = [], bobCaps: [String] = []) -> CoreHarness {
        var h = CoreHarness()
        h.connect("alice", caps: aliceCaps)
        h.connect("bob", caps: bobCaps)
        h.send("alice", "JOIN #a")
        h.send("bob", "JOIN #a")
        _ = (h.take("alice"), h.take("bob"))
        return h
    }

    @Test func joinCreatesChannelWithCreatorAsOperator() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "JOIN #Lobby")
        let messages = h.take("alice")
        #expect(messages.map(\.command.rawValue) == ["JOIN", "353", "366"])
        #expect(messages[1].parameters == ["alice", "=", "#Lobby", "@alice"])
        #expect(h.state.channels[ChannelKey("#lobby")]?.members.count == 1)
    }

    @Test func joinIsSeenByMembersAndNamesListsBoth() {
        var h = CoreHarness()
        h.connect("alice")
        h.connect("bob")
        h.send("alice", "JOIN #a")
        _ = h.take("alice")
        h.send("bob", "JOIN #A")
        #expect(h.take("alice").map(\.line).first?.hasSuffix("bob!bob@host-bob JOIN #a") == true)
        let names = h.take("bob").first { $0.command == IRCCommand(.rplNamReply) }
        #expect(Set(names?.parameters.last?.split(separator: " ") ?? []) == ["@alice", "bob"])
    }

    @Test func joinSeveralChannelsWithKeysAndJoinZero() {
        var h = CoreHarness()
        h.connect("alice")
        h.connect("bob")
        h.send("alice", "JOIN #k")
        h.send("alice", "MODE #k +k secret")
        h.send("bob", "JOIN #x,#k,#y ,secret")
        #expect(h.state.sessions[h.ids["bob"]!]?.channels.count == 3)
        _ = h.take("bob")
        h.send("bob", "JOIN 0")
        #expect(h.commands("bob") == ["PART", "PART", "PART"])
        #expect(h.state.sessions[h.ids["bob"]!]?.channels.isEmpty == true)
    }

    @Test func badChannelNameGets403() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "JOIN lobby")
        #expect(h.commands("alice") == ["403"])
        h.send("alice", "PART #nowhere")
        #expect(h.commands("alice") == ["403"])
    }

    @Test func partLeavesAndEmptyChannelDisappears() {
        var h = Self.twoInChannel()
        h.send("bob", "PART #a :bye now")
        #expect(h.take("alice").first?.parameters == ["#a", "bye now"])
        #expect(h.commands("bob") == ["PART"])
        h.send("bob", "PART #a")
        #expect(h.commands("bob") == ["442"])
        h.send("alice", "PART #a")
        #expect(h.state.channels.isEmpty)
    }

    @Test func channelMessagesReachOthersButNotTheSender() {
        var h = Self.twoInChannel()
        h.send("alice", "PRIVMSG #a :hello")
        #expect(h.take("alice").isEmpty)
        let got = h.take("bob")
        #expect(got.count == 1)
        #expect(got.first?.parameters == ["#a", "hello"])
        #expect(got.first?.tag("msgid")?.isEmpty == false)
        #expect(got.first?.tag("time") != nil)
    }

    @Test func echoMessageReturnsTheSameMessageID() {
        var h = Self.twoInChannel(aliceCaps: ["echo-message"])
        h.send("alice", "PRIVMSG #a :hello")
        let echo = h.take("alice").first
        let delivered = h.take("bob").first
        #expect(echo?.tag("msgid") == delivered?.tag("msgid"))
        #expect(echo?.tag("msgid")?.isEmpty == false)
    }

    @Test func messageIDsAreUnique() {
        var h = Self.twoInChannel()
        for index in 0..<50 { h.send("alice", "PRIVMSG #a :m\(index)") }
        let ids = h.take("bob").compactMap { $0.tag("msgid") }
        #expect(ids.count == 50)
        #expect(Set(ids).count == 50)
    }

    @Test func outsidersCannotSendToNoExternalChannels() {
        var h = Self.twoInChannel()
        h.connect("carol")
        h.send("carol", "PRIVMSG #a :hi")
        #expect(h.commands("carol") == ["404"])
        #expect(h.take("bob").isEmpty)
        h.send("alice", "MODE #a -n")
        _ = (h.take("alice"), h.take("bob"))
        h.send("carol", "PRIVMSG #a :hi")
        #expect(h.take("bob").count == 1)
    }

    @Test func moderatedChannelNeedsVoice() {
        var h = Self.twoInChannel()
        h.send("alice", "MODE #a +m")
        _ = (h.take("alice"), h.take("bob"))
        h.send("bob", "PRIVMSG #a :hi")
        #expect(h.commands("bob") == ["404"])
        h.send("alice", "MODE #a +v bob")
        #expect(h.take("bob").first?.parameters == ["#a", "+v", "bob"])
        _ = h.take("alice")
        h.send("bob", "PRIVMSG #a :hi")
        #expect(h.take("alice").count == 1)
    }

    @Test func bansExceptionsKeysLimitsAndInviteOnly() {
        var h = CoreHarness()
        h.connect("alice")
        h.connect("bob")
        h.send("alice", "JOIN #a")
        h.send("alice", "MODE #a +b bob")
        h.send("bob", "JOIN #a")
        #expect(h.commands("bob") == ["474"])
        h.send("alice", "MODE #a +e *!*@host-bob")
        h.send("bob", "JOIN #a")
        #expect(h.commands("bob").first == "JOIN")
        h.send("bob", "PART #a")
        h.send("alice", "MODE #a -be bob!*@* *!*@host-bob")
        h.send("alice", "MODE #a +k key")
        _ = h.take("bob")
        h.send("bob", "JOIN #a wrong")
        #expect(h.commands("bob") == ["475"])
        h.send("alice", "MODE #a -k *")
        h.send("alice", "MODE #a +l 1")
        h.send("bob", "JOIN #a")
        #expect(h.commands("bob") == ["471"])
        h.send("alice", "MODE #a -l+i")
        h.send("bob", "JOIN #a")
        #expect(h.commands("bob") == ["473"])
        _ = h.take("alice")
        h.send("alice", "INVITE bob #a")
        #expect(h.commands("alice") == ["341"])
        #expect(h.take("bob").first?.command == .invite)
        h.send("bob", "JOIN #a")
        #expect(h.commands("bob").first == "JOIN")
    }

    @Test func banListIsQueryable() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "JOIN #a")
        h.send("alice", "MODE #a +b *!*@bad.example")
        _ = h.take("alice")
        h.send("alice", "MODE #a b")
        let list = h.take("alice")
        #expect(list.map(\.command.rawValue) == ["367", "368"])
        #expect(list.first?.parameters[2] == "*!*@bad.example")
    }

    @Test func onlyOperatorsChangeModesAndKick() {
        var h = Self.twoInChannel()
        h.send("bob", "MODE #a +m")
        #expect(h.commands("bob") == ["482"])
        h.send("bob", "KICK #a alice")
        #expect(h.commands("bob") == ["482"])
        h.send("alice", "KICK #a carol")
        #expect(h.commands("alice") == ["441"])
        h.send("alice", "KICK #a bob :behave")
        #expect(h.take("bob").first?.parameters == ["#a", "bob", "behave"])
        #expect(h.state.channels[ChannelKey("#a")]?.members.count == 1)
        h.send("bob", "PRIVMSG #a :still here?")
        #expect(h.commands("bob") == ["404"])
    }

    @Test func unknownChannelModeGets472() {
        var h = Self.twoInChannel()
        h.send("alice", "MODE #a +Z")
        #expect(h.commands("alice") == ["472"])
        h.send("alice", "MODE #a")
        let reply = h.take("alice")
        #expect(reply.map(\.command.rawValue) == ["324", "329"])
        #expect(reply.first?.parameters == ["alice", "#a", "+nt"])
        h.send("alice", "MODE #a +o")
        #expect(h.commands("alice") == ["461"])
        h.send("alice", "MODE #a +l x")
        #expect(h.commands("alice") == ["696"])
    }

    @Test func topicIsLockedToOperatorsByDefault() {
        var h = Self.twoInChannel()
        h.send("bob", "TOPIC #a :mine")
        #expect(h.commands("bob") == ["482"])
        h.send("alice", "TOPIC #a :Welcome all")
        #expect(h.take("bob").first?.parameters == ["#a", "Welcome all"])
        h.send("bob", "TOPIC #a")
        #expect(h.commands("bob") == ["332", "333"])
        h.connect("carol")
        h.send("carol", "JOIN #a")
        #expect(h.commands("carol") == ["JOIN", "332", "333", "353", "366"])
    }

    @Test func secretChannelsAndInvisibleUsersStayHidden() {
        var h = Self.twoInChannel()
        h.send("alice", "MODE #a +s")
        h.send("bob", "MODE bob +i")
        h.connect("carol")
        h.send("carol", "LIST")
        #expect(h.commands("carol") == ["321", "323"])
        h.send("carol", "NAMES #a")
        #expect(h.commands("carol") == ["366"])
        h.send("carol", "WHO bob")
        #expect(h.commands("carol") == ["352", "315"])
        h.send("carol", "WHO *")
        let who = h.take("carol").filter { $0.command == IRCCommand(.rplWhoReply) }.map { $0.parameters[5] }
        #expect(!who.contains("bob"))
        h.send("carol", "WHOIS bob")
        let whois = h.take("carol").map(\.command.rawValue)
        #expect(!whois.contains("319"))
        h.send("alice", "WHOIS bob")
        #expect(h.commands("alice").contains("319"))
    }

    @Test func nickChangeReachesEachPeerOnce() {
        var h = Self.twoInChannel()
        h.send("alice", "JOIN #b")
        h.send("bob", "JOIN #b")
        _ = (h.take("alice"), h.take("bob"))
        h.send("bob", "NICK robert")
        let seen = h.take("alice")
        #expect(seen.count == 1)
        #expect(seen.first?.source == "bob!bob@host-bob")
        #expect(seen.first?.parameters == ["robert"])
        #expect(h.commands("bob") == ["NICK"])
        h.send("alice", "PRIVMSG robert :hi")
        #expect(h.take("bob").count == 1)
    }

    @Test func directMessagesAndAway() {
        var h = CoreHarness()
        h.connect("alice")
        h.connect("bob")
        h.send("bob", "AWAY :lunch")
        #expect(h.commands("bob") == ["306"])
        h.send("alice", "PRIVMSG bob :hi")
        #expect(h.take("bob").first?.parameters == ["bob", "hi"])
        #expect(h.take("alice").first?.parameters == ["alice", "bob", "lunch"])
        h.send("alice", "PRIVMSG nobody,bob :x")
        #expect(h.commands("alice") == ["401", "301"])
        #expect(h.commands("bob") == ["PRIVMSG"])
        h.send("alice", "PRIVMSG a,b,c,d,e :x")
        #expect(h.commands("alice") == ["407"])
        h.send("bob", "AWAY")
        #expect(h.commands("bob") == ["305"])
    }

    @Test func tagmsgOnlyReachesMessageTagsClients() {
        var h = Self.twoInChannel(bobCaps: ["message-tags"])
        h.connect("carol")
        h.send("carol", "JOIN #a")
        _ = (h.take("alice"), h.take("bob"), h.take("carol"))
        h.send("carol", "@+typing=active TAGMSG #a")
        #expect(h.take("alice").isEmpty)
        let got = h.take("bob")
        #expect(got.first?.command == .tagmsg)
        #expect(got.first?.tag("+typing") == "active")
    }

    @Test func extendedJoinAndMultiPrefix() {
        var h = CoreHarness()
        h.connect("alice", caps: ["extended-join", "multi-prefix", "userhost-in-names"])
        h.connect("bob")
        h.send("alice", "JOIN #a")
        h.send("alice", "MODE #a +v alice")
        _ = h.take("alice")
        h.send("bob", "JOIN #a")
        #expect(h.take("alice").first?.parameters == ["#a", "*", "Real bob"])
        h.send("alice", "NAMES #a")
        let names = h.take("alice").first?.parameters.last ?? ""
        #expect(names.split(separator: " ").contains("@+alice!alice@host-alice"))
    }

    @Test func labeledResponses() {
        var h = CoreHarness()
        h.connect("alice", caps: ["labeled-response", "batch"])
        h.send("alice", "@label=one PING x")
        let single = h.take("alice")
        #expect(single.count == 1)
        #expect(single.first?.tag("label") == "one")
        h.send("alice", "@label=two AWAY :x")
        #expect(h.take("alice").first?.tag("label") == "two")
        h.send("alice", "@label=three PONG x")
        let ack = h.take("alice")
        #expect(ack.first?.command.rawValue == "ACK")
        h.send("alice", "@label=four JOIN #a")
        let batch = h.take("alice")
        #expect(batch.first?.command == .batch)
        #expect(batch.first?.tag("label") == "four")
        #expect(batch.last?.command == .batch)
        let reference = batch.first?.parameters.first?.dropFirst()
        #expect(batch.dropFirst().dropLast().allSatisfy { $0.tag("batch") == reference.map(String.init) })
    }

    @Test func operatorsAndKill() {
        var h = CoreHarness(
            configuration: CoreConfiguration(
                serverName: "irc.test",
                operators: [.init(name: "root", passwordHash: "h")]
            )
        )
        h.connect("alice")
        h.connect("bob")
        h.send("alice", "KILL bob :x")
        #expect(h.commands("alice") == ["481"])
        h.send("alice", "OPER nobody pw")
        #expect(h.commands("alice") == ["464"], "an unknown name is answered as a wrong password is")
        h.send("alice", "OPER root pw")
        #expect(h.operatorChecks == [OperatorCheck(session: h.ids["alice"]!, name: "root", password: "pw", hash: "h")])
        h.outbox.removeAll()
        h.state.operatorVerified(h.ids["alice"]!, name: "root", success: false, now: h.now, into: &h.outbox)
        h.collect()
        #expect(h.commands("alice") == ["464"])
        h.outbox.removeAll()
        h.state.operatorVerified(h.ids["alice"]!, name: "root", success: true, now: h.now, into: &h.outbox)
        h.collect()
        #expect(h.commands("alice") == ["381", "MODE"])
        h.send("bob", "MODE bob +w")
        _ = h.take("bob")
        h.send("bob", "WALLOPS :not allowed")
        #expect(h.commands("bob") == ["481"])
        h.send("alice", "WALLOPS :maintenance at noon")
        let wallops = h.take("bob")
        #expect(wallops.map(\.command) == [.wallops])
        #expect(wallops.first?.parameters == ["maintenance at noon"])
        h.send("alice", "MODE alice +i")
        _ = h.take("alice")
        h.send("alice", "LUSERS")
        let lusers = h.take("alice")
        #expect(lusers.first?.parameters.last == "There are 1 users and 1 invisible on 1 servers")
        #expect(lusers.dropFirst().first?.parameters.dropFirst().first == "1")
        h.send("alice", "KILL bob :spamming")
        #expect(h.isClosed("bob"))
        #expect(h.closed[h.ids["bob"]!] == "Killed (alice (spamming))")
        h.send("alice", "LUSERS")
        #expect(h.take("alice").first?.parameters.last == "There are 0 users and 1 invisible on 1 servers")
    }

    @Test func tagsAreFilteredByCapability() {
        #expect(ServerState.includeTag(IRCTag("time", "x"), for: [.serverTime]))
        #expect(!ServerState.includeTag(IRCTag("time", "x"), for: [.messageTags]))
        #expect(ServerState.includeTag(IRCTag("msgid", "x"), for: [.messageTags]))
        #expect(!ServerState.includeTag(IRCTag("+react", "x"), for: [.serverTime]))
    }

    @Test func queriesAnswer() {
        var h = CoreHarness()
        h.connect("alice")
        h.send("alice", "USERHOST alice nobody")
        #expect(h.take("alice").first?.parameters.last == "alice=+alice@host-alice")
        h.send("alice", "ISON alice nobody")
        #expect(h.take("alice").first?.parameters.last == "alice")
        for command in ["VERSION", "TIME", "ADMIN", "INFO", "LUSERS", "MOTD", "LINKS"] {
            h.send("alice", command)
            #expect(!h.take("alice").isEmpty, "\(command) gave no answer")
        }
        h.send("alice", "WHO alice %tnuhaf,42")
        #expect(h.take("alice").first?.parameters == ["alice", "42", "alice", "host-alice", "alice", "H", "0"])
        h.send("alice", "MODE alice +iZ")
        #expect(h.commands("alice") == ["501", "MODE"])
        h.send("alice", "MODE bob +i")
        #expect(h.commands("alice") == ["401"])
    }
}
