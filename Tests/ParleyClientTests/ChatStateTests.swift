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
}
