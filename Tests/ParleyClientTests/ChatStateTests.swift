import ParleyClient
import ParleyIRC
import Testing

@Suite struct ChatStateTests {
    private func message(_ line: String) throws -> IRCMessage {
        try IRCParser.parse(line)
    }

    private func joined() throws -> ChatState {
        var state = ChatState(nick: "me")
        for line in [
            ":srv 001 me :Welcome", ":srv 005 me PREFIX=(ov)@+ NETWORK=TestNet :are supported",
            ":me!u@h JOIN #lobby", ":srv 353 me = #lobby :@op +voiced me", ":srv 366 me #lobby :End",
        ] {
            _ = state.apply(try self.message(line), now: 0)
        }
        return state
    }

    @Test func loggingInIsShownAsItsSentenceAlone() throws {
        var state = ChatState(nick: "phil")
        let lines = state.apply(
            try self.message(":irc.test 900 phil phil!phil@h.ip phil :You are now logged in as phil"),
            now: 0
        )
        #expect(lines.map(\.text) == ["You are now logged in as phil"])
        #expect(state.account == "phil")
        _ = state.apply(try self.message(":irc.test 901 phil phil!phil@h.ip :You are now logged out"), now: 0)
        #expect(state.account == nil)
    }

    @Test func aReadMarkerIsKeptByTargetAndShowsNothing() throws {
        var state = ChatState(nick: "phil")
        let lines = state.apply(
            try self.message(":irc.test MARKREAD #Lobby timestamp=2026-12-07T12:00:00.500Z"),
            now: 0
        )
        #expect(lines.isEmpty)
        #expect(state.readMarkers["#lobby"] == IRCTimestamp.parse("2026-12-07T12:00:00.500Z"))
        _ = state.apply(try self.message(":irc.test MARKREAD #other *"), now: 0)
        #expect(state.readMarkers["#other"] == nil)
    }

    @Test func tracksMembersThroughJoinsPartsQuitsAndNicks() throws {
        var state = try self.joined()
        #expect(state.networkName == "TestNet")
        #expect(state.members(of: "#lobby").map(\.nick) == ["op", "voiced", "me"])
        let join = state.apply(try self.message(":bob!b@h JOIN #lobby"), now: 5)
        #expect(join == [ChatLine(window: "#lobby", time: 5, kind: .event, text: "bob joined #lobby")])
        _ = state.apply(try self.message(":bob!b@h NICK robert"), now: 0)
        #expect(state.channel("#LOBBY")?.members["robert"]?.nick == "robert")
        let quit = state.apply(try self.message(":robert!b@h QUIT :bye"), now: 0)
        #expect(quit.map(\.text) == ["robert quit (bye)"])
        _ = state.apply(try self.message(":voiced!v@h PART #lobby"), now: 0)
        #expect(state.channel("#lobby")?.members.count == 2)
        _ = state.apply(try self.message(":me!u@h PART #lobby"), now: 0)
        #expect(state.channel("#lobby") == nil)
    }

    @Test func typingNoticesLapseOrEndWithAMessageOrLeaving() throws {
        var state = try self.joined()
        for line in [":bob!b@h JOIN #lobby", ":carol!c@h JOIN #lobby"] {
            _ = state.apply(try self.message(line), now: 0)
        }
        #expect(state.apply(try self.message("@+typing=active :bob!b@h TAGMSG #lobby"), now: 1_000).isEmpty)
        _ = state.apply(try self.message("@+draft/typing=paused :carol!c@h TAGMSG #lobby"), now: 1_000)
        _ = state.apply(try self.message("@+typing=active :dave!d@h TAGMSG me"), now: 1_000)
        _ = state.apply(try self.message("@+typing=active :me!u@h TAGMSG #lobby"), now: 1_000)
        #expect(state.typists.names(in: "#LOBBY", now: 2_000) == ["bob", "carol"], "not me, and any case")
        #expect(state.typists.names(in: "dave", now: 2_000) == ["dave"], "a conversation is the sender's window")
        #expect(Typists.sentence(state.typists.names(in: "#lobby", now: 2_000)) == "bob and carol are typing…")
        // active lapses after 6 s without another notice, paused after 30 s.
        #expect(state.typists.names(in: "#lobby", now: 7_001) == ["carol"])
        let lapsed = state.typists.expire(now: 7_001)
        let lapsedAgain = state.typists.expire(now: 7_002)
        #expect(lapsed && !lapsedAgain, "bob's notice lapsed once")
        _ = state.apply(try self.message(":carol!c@h PRIVMSG #lobby :there"), now: 8_000)
        #expect(state.typists.names(in: "#lobby", now: 8_000).isEmpty, "a message ends it")
        _ = state.apply(try self.message("@+typing=active :bob!b@h TAGMSG #lobby"), now: 9_000)
        _ = state.apply(try self.message("@+typing=done :bob!b@h TAGMSG #lobby"), now: 9_000)
        #expect(state.typists.names(in: "#lobby", now: 9_000).isEmpty, "done ends it")
        _ = state.apply(try self.message("@+typing=active :bob!b@h TAGMSG #lobby"), now: 9_000)
        _ = state.apply(try self.message(":bob!b@h PART #lobby"), now: 9_000)
        _ = state.apply(try self.message(":dave!d@h QUIT :bye"), now: 9_000)
        #expect(state.typists.isEmpty, "leaving and quitting end it")
        #expect(Typists.sentence([]) == nil && Typists.sentence(["a"]) == "a is typing…")
        #expect(Typists.sentence(["a", "b", "c", "d"]) == "several people are typing…")
    }

    @Test func modesChangePrefixes() throws {
        var state = try self.joined()
        _ = state.apply(try self.message(":op!o@h MODE #lobby +ov-o me voiced op"), now: 0)
        let members = Dictionary(uniqueKeysWithValues: state.members(of: "#lobby").map { ($0.nick, $0.prefixes) })
        #expect(members == ["me": "@", "voiced": "+", "op": ""])
        _ = state.apply(try self.message(":op!o@h MODE #lobby +kv key op"), now: 0)
        #expect(state.channel("#lobby")?.members["op"]?.prefixes == "+")
    }

    @Test func messagesGoToTheirWindowsWithServerTime() throws {
        var state = try self.joined()
        let channel = state.apply(
            try self.message("@time=2026-11-25T13:57:21.123Z :bob!b@h PRIVMSG #lobby :hi Me!"),
            now: 0
        )
        #expect(
            channel == [
                ChatLine(
                    window: "#lobby",
                    time: 1_795_615_041_123,
                    kind: .message,
                    nick: "bob",
                    text: "hi Me!",
                    mentionsMe: true
                )
            ]
        )
        let dm = state.apply(try self.message(":bob!b@h PRIVMSG me :psst"), now: 7)
        #expect(dm.first?.window == "bob")
        #expect(dm.first?.mentionsMe == true)
        let echo = state.apply(try self.message(":me!u@h PRIVMSG bob :hello"), now: 7)
        #expect(echo.first?.window == "bob")
        #expect(echo.first?.isOwn == true)
        let action = state.apply(try self.message(":bob!b@h PRIVMSG #lobby :\u{01}ACTION waves\u{01}"), now: 0)
        #expect(action.first?.kind == .action)
        #expect(action.first?.text == "waves")
        let notMentioned = state.apply(try self.message(":bob!b@h PRIVMSG #lobby :memes"), now: 0)
        #expect(notMentioned.first?.mentionsMe == false)
    }

    @Test func errorsAreExplainedInWords() throws {
        var state = try self.joined()
        let taken = state.apply(try self.message(":srv 433 me bob :Nickname is already in use"), now: 0)
        #expect(taken == [ChatLine(time: 0, kind: .error, text: "The name bob is taken; choose another one.")])
        let noSuch = state.apply(try self.message(":srv 401 me ghost :No such nick/channel"), now: 0)
        #expect(noSuch.first?.text == "ghost: nobody by that name is online.")
        let motdLater = state.apply(try self.message(":srv 372 me :- hello"), now: 0)
        #expect(motdLater.isEmpty)  // still the welcome MOTD: no 376 yet
        _ = state.apply(try self.message(":srv 376 me :End"), now: 0)
        #expect(state.apply(try self.message(":srv 372 me :- again"), now: 0).map(\.text) == ["again"])
    }

    @Test func whoisRepliesReadAsWords() throws {
        var state = try self.joined()
        let now: Int64 = 1_796_593_377_000 + 3 * 3600_000 + 12 * 60_000
        var lines: [String] = []
        for line in [
            ":srv 311 me alice ~alice host.example * :Alice Liddell", ":srv 312 me alice irc.test :Parley",
            ":srv 319 me alice :@#lobby #dev", ":srv 330 me alice alice :is logged in as",
            ":srv 671 me alice :is using a secure connection", ":srv 301 me alice :at lunch",
            ":srv 317 me alice 21 1796593377 :seconds idle, signon time", ":srv 318 me alice :End of /WHOIS list",
        ] {
            lines += state.apply(try self.message(line), now: now).map(\.text)
        }
        #expect(
            lines == [
                "alice is ~alice@host.example (Alice Liddell)", "alice is on irc.test (Parley)",
                "alice is in @#lobby, #dev", "alice is logged in as alice", "alice is using a secure connection",
                "alice is away: at lunch", "alice has been idle 21 s, signed on 3 h 12 min ago",
            ]
        )
        #expect(ChatState.duration(59) == "59 s" && ChatState.duration(3600) == "1 h")
        #expect(ChatState.duration(2 * 86400 + 4 * 3600 + 5) == "2 d 4 h")
    }

    @Test func historyIsShownOnceAndIsNotNewsAndSearchHitsSayWhereTheyWereSaid() throws {
        var state = try self.joined()
        let live = state.apply(try self.message("@msgid=m1 :bob!b@h PRIVMSG #lobby :me: look"), now: 0)
        #expect(live.map(\.mentionsMe) == [true] && live.map(\.isHistory) == [false])
        // The replay after a reconnect: the line already shown is left out, an older one is history, not news.
        var again = ChatState(nick: "me")
        again.keepSeenMessages(of: state)
        var replay: [ChatLine] = []
        for line in [
            ":srv BATCH +h1 chathistory #lobby", "@batch=h1;msgid=m0 :bob!b@h PRIVMSG #lobby :me: earlier",
            "@batch=h1;msgid=m1 :bob!b@h PRIVMSG #lobby :me: look", ":srv BATCH -h1",
        ] {
            replay += again.apply(try self.message(line), now: 0)
        }
        #expect(replay.map(\.text) == ["me: earlier"])
        #expect(replay.map(\.isHistory) == [true] && replay.map(\.mentionsMe) == [false])
        // Search hits are shown where the user searched, with the channel and the sender; none says so.
        var hits: [String] = []
        for line in [
            ":srv BATCH +s1 soju.im/search", "@batch=s1;msgid=m1 :bob!b@h PRIVMSG #lobby :me: look",
            ":srv BATCH -s1", ":srv BATCH +s2 soju.im/search", ":srv BATCH -s2",
        ] {
            hits += again.apply(try self.message(line), now: 0).map { "\($0.window ?? "-") \($0.text)" }
        }
        #expect(hits == ["- [1] #lobby <bob> me: look", "- Nothing found."])
        #expect(ChatCommand.parse("/search  ") == .usage("/search TEXT"))
        #expect(ChatCommand.parse("/search where is it") == .search("where is it"))
    }

    @Test func repliesNameTheLineTheyAnswerAndReactionsAreOneCompactLine() throws {
        var state = try self.joined()
        _ = state.apply(
            try self.message("@msgid=p1 :alice!a@h PRIVMSG #lobby :does anyone know where the keys to the shed are?"),
            now: 0
        )
        let reply = state.apply(
            try self.message("@msgid=r1;+draft/reply=p1 :bob!b@h PRIVMSG #lobby :on the hook"),
            now: 0
        )
        #expect(reply.map(\.text) == ["↪ alice: does anyone know where the keys to the s…", "on the hook"])
        #expect(reply.map(\.kind) == [.event, .message] && reply.allSatisfy { $0.window == "#lobby" })
        let unknown = state.apply(try self.message("@msgid=r2;+draft/reply=zz :bob!b@h PRIVMSG #lobby :yes"), now: 0)
        #expect(unknown.map(\.text) == ["↪ an earlier message", "yes"])
        let reaction = state.apply(try self.message("@+draft/react=👍;+draft/reply=r1 :carol!c@h TAGMSG #lobby"), now: 0)
        #expect(reaction.map(\.text) == ["carol reacted 👍 to bob: on the hook"])
        #expect(reaction.first?.kind == .event)
    }

    /// draft/message-redaction: `/delete` takes this client's last echoed message in the window; a REDACT shows as a
    /// line saying what was taken back, in the right window.
    @Test func theLastOwnMessagePerWindowAndRedactionsAsLines() throws {
        var state = try self.joined()
        #expect(state.lastOwnMessage(in: "#lobby") == nil)
        _ = state.apply(try self.message("@msgid=o1 :me!m@h PRIVMSG #lobby :first"), now: 0)
        _ = state.apply(try self.message("@msgid=o2 :me!m@h PRIVMSG #lobby :second thoughts"), now: 0)
        _ = state.apply(try self.message("@msgid=x1 :alice!a@h PRIVMSG #lobby :not mine"), now: 0)
        _ = state.apply(try self.message("@msgid=d1 :me!m@h PRIVMSG alice :psst"), now: 0)
        #expect(state.lastOwnMessage(in: "#LOBBY") == "o2")
        #expect(state.lastOwnMessage(in: "alice") == "d1")
        let mine = state.apply(try self.message(":me!m@h REDACT #lobby o2 :typo"), now: 0)
        #expect(mine.map(\.text) == ["You deleted a message (me: second thoughts): typo"])
        #expect(mine.first?.window == "#lobby" && mine.first?.kind == .event)
        #expect(state.lastOwnMessage(in: "#lobby") == nil, "what is gone is not taken twice")
        let theirs = state.apply(try self.message(":alice!a@h REDACT me a9"), now: 0)
        #expect(theirs.map(\.text) == ["alice deleted a message"] && theirs.first?.window == "alice")
    }

    /// Search hits are numbered; `/goto N` needs each one's window (a DM to me belongs in its sender's window) and
    /// msgid, and the context it fetches is shown even where those lines are on screen already.
    @Test func searchHitsAreNumberedAndTheirContextIsShownAgain() throws {
        var state = try self.joined()
        _ = state.apply(try self.message("@msgid=a1 :alice!a@h PRIVMSG #lobby :the needle"), now: 0)
        _ = state.apply(try self.message("BATCH +s1 soju.im/search"), now: 0)
        let hits = [
            try self.message("@batch=s1;msgid=a1 :alice!a@h PRIVMSG #lobby :the needle"),
            try self.message("@batch=s1;msgid=d1 :bob!b@h PRIVMSG me :a needle for you"),
        ].flatMap { state.apply($0, now: 0) }
        _ = state.apply(try self.message("BATCH -s1"), now: 0)
        #expect(hits.map(\.text) == ["[1] #lobby <alice> the needle", "[2] me <bob> a needle for you"])
        #expect(state.searchHits.map(\.window) == ["#lobby", "bob"] && state.searchHits.map(\.msgid) == ["a1", "d1"])

        // Without asking for context, a line already shown is not shown again; asked for, it is (once).
        func around() throws -> [String] {
            _ = state.apply(try self.message("BATCH +h1 chathistory #lobby"), now: 0)
            let lines = state.apply(
                try self.message("@batch=h1;msgid=a1 :alice!a@h PRIVMSG #lobby :the needle"),
                now: 0
            )
            _ = state.apply(try self.message("BATCH -h1"), now: 0)
            return lines.map(\.text)
        }
        #expect(try around().isEmpty)
        state.expectContext(in: "#LOBBY")
        #expect(try around() == ["the needle"])
        #expect(try around().isEmpty, "the context is for one batch")
        // A new search starts the numbering again.
        _ = state.apply(try self.message("BATCH +s2 soju.im/search"), now: 0)
        #expect(state.searchHits.isEmpty)
    }

    /// draft/multiline: a batch is one message shown as one line per line (concat lines joined), a history page's
    /// nested batch too, and its msgid is what `/delete` takes.
    @Test func aMultilineBatchIsOneMessageShownLineByLine() throws {
        var state = try self.joined()
        var shown: [ChatLine] = []
        for line in [
            "@msgid=m1;time=2026-12-07T10:00:00.000Z :me!u@h BATCH +b draft/multiline #lobby",
            "@batch=b :me!u@h PRIVMSG #lobby :def f():", "@batch=b :me!u@h PRIVMSG #lobby :    return ",
            "@batch=b;draft/multiline-concat :me!u@h PRIVMSG #lobby :1", ":me!u@h BATCH -b",
        ] {
            shown += state.apply(try self.message(line), now: 0)
        }
        #expect(shown.map(\.text) == ["def f():", "    return 1"])
        #expect(shown.allSatisfy { $0.nick == "me" && $0.window == "#lobby" && $0.kind == .message && $0.isOwn })
        #expect(state.lastOwnMessage(in: "#lobby") == "m1", "the whole message is what /delete takes")

        shown = []
        for line in [
            ":srv BATCH +h chathistory #lobby", "@batch=h;msgid=m2 :ann!a@h BATCH +i draft/multiline #lobby",
            "@batch=i :ann!a@h PRIVMSG #lobby :a", "@batch=i :ann!a@h PRIVMSG #lobby :b", "@batch=h :ann!a@h BATCH -i",
            ":srv BATCH -h",
        ] {
            shown += state.apply(try self.message(line), now: 0)
        }
        #expect(shown.map(\.text) == ["a", "b"] && shown.allSatisfy { $0.isHistory && $0.nick == "ann" })
    }

    /// draft/channel-rename: the channel keeps its members under the new name, and the line says who renamed it.
    @Test func aRenamedChannelKeepsItsMembers() throws {
        var state = try self.joined()
        let lines = state.apply(try self.message(":op!o@h RENAME #lobby #Hall :tidier"), now: 0)
        #expect(lines.map(\.text) == ["op renamed #lobby to #Hall (tidier)"] && lines.first?.window == "#Hall")
        #expect(state.channel("#lobby") == nil)
        #expect(state.channel("#hall")?.name == "#Hall" && state.members(of: "#hall").count == 3)
    }

    /// IRCv3 metadata: a display name (761) goes with the nick's lines until it is removed (766) or the nick changes;
    /// the replies themselves print nothing.
    @Test func aDisplayNameGoesWithItsNicksLines() throws {
        var state = try self.joined()
        #expect(state.apply(try self.message(":srv 770 me display-name"), now: 0).isEmpty)
        #expect(state.apply(try self.message(":srv 761 me ann display-name * :Ann Example"), now: 0).isEmpty)
        let said = state.apply(try self.message(":ann!a@h PRIVMSG #lobby :hi"), now: 0)
        #expect(said.map(\.displayName) == ["Ann Example"] && said.first?.nick == "ann")
        _ = state.apply(try self.message(":ann!a@h NICK anna"), now: 0)
        #expect(
            state.apply(try self.message(":anna!a@h PRIVMSG #lobby :hi"), now: 0).first?.displayName == "Ann Example"
        )
        _ = state.apply(try self.message(":srv 761 me anna display-name * :ANNA"), now: 0)
        #expect(state.apply(try self.message(":anna!a@h PRIVMSG #lobby :hi"), now: 0).first?.displayName == nil)
        _ = state.apply(try self.message(":srv 766 me anna display-name :key not set"), now: 0)
        #expect(state.apply(try self.message(":anna!a@h PRIVMSG #lobby :hi"), now: 0).first?.displayName == nil)
    }
}
