import ParleyCore
import ParleyIRC
import Testing

/// What irctest found the server doing against the specifications, each case as a plain-value test of the core.
@Suite struct ConformanceFixTests {
    @Test func aNoticeGetsNoErrorReplyWhereAPrivmsgDoes() {
        var core = CoreHarness()
        core.connect("alice")
        core.connect("bob")
        core.send("bob", "JOIN #quiet")
        core.send("bob", "MODE #quiet +n")
        _ = core.take("bob")
        for target in ["#nonexistent", "nobody", "#quiet"] {
            core.send("alice", "NOTICE \(target) :hello there")
            #expect(core.take("alice").isEmpty, "NOTICE \(target) was answered")
        }
        core.send("alice", "PRIVMSG #nonexistent :hello")
        core.send("alice", "PRIVMSG nobody :hello")
        core.send("alice", "PRIVMSG #quiet :hello")
        #expect(
            core.take("alice").map(\.command)
                == [IRCCommand(.errNoSuchChannel), IRCCommand(.errNoSuchNick), IRCCommand(.errCannotSendToChan)]
        )
    }

    @Test func anInvalidKeyOrLimitIsNamedOnlyWhenItFitsAParameter() {
        var core = CoreHarness()
        core.connect("bar")
        core.send("bar", "JOIN #chan")
        _ = core.take("bar")
        for key in ["", " ", "a b", String(repeating: "k", count: 40)] {
            core.send("bar", "MODE #chan +k :\(key)")
            let replies = core.take("bar")
            #expect(replies.map(\.command) == [IRCCommand(.errInvalidModeParam)], "\(key.debugDescription)")
            #expect(replies.first?.parameters.prefix(4) == ["bar", "#chan", "k", "*"], "\(key.debugDescription)")
            #expect(replies.first?.parameters.count == 5)
        }
        core.send("bar", "MODE #chan +l :many")
        #expect(core.take("bar").first?.parameters.prefix(4) == ["bar", "#chan", "l", "many"])
        core.send("bar", "MODE #chan +l :two words")
        #expect(core.take("bar").first?.parameters.prefix(4) == ["bar", "#chan", "l", "*"])
    }

    @Test func anEmptyUsernameOrRealnameIsAMissingParameter() {
        var core = CoreHarness()
        core.open("foo")
        core.send("foo", "NICK foo")
        core.send("foo", "USER username * * :")
        core.send("foo", "USER  * * :Real")
        let replies = core.take("foo")
        #expect(replies.map(\.command) == [IRCCommand(.errNeedMoreParams), IRCCommand(.errNeedMoreParams)])
        #expect(replies.first?.parameters == ["foo", "USER", "Not enough parameters"])
        core.send("foo", "USER username * * :Real Name")
        #expect(core.take("foo").first?.command == IRCCommand(.rplWelcome), "a full USER still registers")
    }

    @Test func aCommandThatIsNotAWordIsNamedAndLabeledIn421() {
        var core = CoreHarness()
        core.connect("alice", caps: ["labeled-response", "batch"])
        core.send("alice", "@label=abc NONEXISTENT-COMMAND x")
        let reply = core.take("alice")
        #expect(reply.map(\.command) == [IRCCommand(.errUnknownCommand)])
        #expect(reply.first?.parameters.prefix(2) == ["alice", "NONEXISTENT-COMMAND"])
        #expect(reply.first?.tag("label") == "abc")
        core.send("alice", "NONEXISTENT-COMMAND")
        #expect(core.take("alice").first?.tag("label") == nil, "no label asked, none given")
    }

    @Test func kickPairsChannelsWithNicksOrTakesManyNicksFromOneChannel() {
        var core = CoreHarness()
        for name in ["op", "bar", "baz", "qux"] { core.connect(name) }
        core.send("op", "JOIN #a")
        core.send("op", "JOIN #b")
        for name in ["bar", "baz", "qux"] {
            core.send(name, "JOIN #a")
            core.send(name, "JOIN #b")
        }
        for name in ["op", "bar", "baz", "qux"] { _ = core.take(name) }

        core.send("op", "KICK #a,#b bar,baz :bye")
        let kicks = core.take("qux").filter { $0.command == .kick }.map(\.parameters)
        #expect(kicks == [["#a", "bar", "bye"], ["#b", "baz", "bye"]])
        _ = core.take("op")

        core.send("op", "KICK #a baz,qux :out")
        #expect(core.take("op").filter { $0.command == .kick }.map { $0.parameters[1] } == ["baz", "qux"])

        core.send("op", "KICK #a,#b qux")
        #expect(core.take("op").map(\.command) == [IRCCommand(.errNeedMoreParams)], "two channels, one nick")
        core.send("op", "KICK #b a,b,c,d,e")
        #expect(core.take("op").map(\.command) == [IRCCommand(.errTooManyTargets)], "more nicks than TARGMAX")
    }

    @Test func aMessageToOneselfArrivesAsAMessageAndWithEchoMessageAlsoAsTheLabeledEcho() {
        var core = CoreHarness()
        core.connect("plain")
        core.send("plain", "PRIVMSG plain :note to self")
        #expect(core.take("plain").map(\.command) == [.privmsg], "delivered once without echo-message")

        core.connect("foo", caps: ["echo-message", "batch", "labeled-response"])
        for command in ["PRIVMSG", "NOTICE"] {
            core.send("foo", "@label=12345 \(command) foo :hi")
            let got = core.take("foo")
            #expect(got.map(\.command.rawValue) == [command, command], "the message and its echo, no batch")
            #expect(got.filter { $0.tag("label") == "12345" }.count == 1, "only the echo is labeled")
        }
    }

    @Test func namesOfSeveralChannelsEndsOnceNamingTheList() {
        var core = CoreHarness()
        core.connect("nick1")
        core.send("nick1", "JOIN #chan1")
        core.send("nick1", "JOIN #chan2")
        _ = core.take("nick1")
        core.send("nick1", "NAMES #chan1,#chan2,#none")
        let replies = core.take("nick1")
        #expect(
            replies.map(\.command)
                == [IRCCommand(.rplNamReply), IRCCommand(.rplNamReply), IRCCommand(.rplEndOfNames)]
        )
        #expect(replies.map { $0.parameters[2] }.prefix(2) == ["#chan1", "#chan2"])
        #expect(replies.last?.parameters.prefix(2) == ["nick1", "#chan1,#chan2,#none"])
        core.send("nick1", "NAMES #none")
        #expect(core.take("nick1").map { $0.parameters.prefix(2) } == [["nick1", "#none"]])
    }

    @Test func whoxShowsTheAccountAndWhatALoggedInUserCausesCarriesIt() {
        var core = CoreHarness()
        core.connect("coolNick")
        core.logIn("coolNick", as: "coolAcct")
        core.connect("otherNick", caps: ["account-tag", "invite-notify"])
        core.connect("plain")
        core.send("coolNick", "JOIN #chan")
        core.send("otherNick", "JOIN #chan")
        _ = core.take("coolNick")
        _ = core.take("otherNick")
        core.send("otherNick", "WHO coolNick %na")
        #expect(core.take("otherNick").first?.parameters == ["otherNick", "coolNick", "coolAcct"])
        core.send("otherNick", "WHO plain %na")
        #expect(core.take("otherNick").first?.parameters == ["otherNick", "plain", "0"], "0 for no account")

        core.send("coolNick", "INVITE plain #chan")
        let told = core.take("otherNick").filter { $0.command == .invite }
        #expect(told.first?.tag("account") == "coolAcct", "invite-notify carries the inviter's account")
        core.send("coolNick", "PART #chan")
        #expect(core.take("otherNick").first { $0.command == .part }?.tag("account") == "coolAcct")
    }
}
