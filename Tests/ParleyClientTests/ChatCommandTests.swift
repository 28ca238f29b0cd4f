import ParleyClient
import Testing

@Suite struct ChatCommandTests {
    @Test func plainTextAndQuit() {
        #expect(ChatCommand.parse("hello there") == .say("hello there"))
        #expect(ChatCommand.parse("quit") == .quit(nil))
        #expect(ChatCommand.parse("QUIT") == .quit(nil))
        #expect(ChatCommand.parse("quit now") == .say("quit now"))
        #expect(ChatCommand.parse("//slashes") == .say("/slashes"))
        #expect(ChatCommand.parse("/quit gone fishing") == .quit("gone fishing"))
    }

    @Test func commandsWithArguments() {
        #expect(ChatCommand.parse("/join #dev") == .join(channel: "#dev", key: nil))
        #expect(ChatCommand.parse("/join dev secret") == .join(channel: "#dev", key: "secret"))
        #expect(ChatCommand.parse("/part") == .part(channel: nil, reason: nil))
        #expect(ChatCommand.parse("/part #dev bye all") == .part(channel: "#dev", reason: "bye all"))
        #expect(ChatCommand.parse("/part see you") == .part(channel: nil, reason: "see you"))
        #expect(ChatCommand.parse("/msg bob hi  there") == .message(target: "bob", text: "hi  there"))
        #expect(ChatCommand.parse("/me waves") == .me("waves"))
        #expect(ChatCommand.parse("/ME waves") == .me("waves"))
        #expect(ChatCommand.parse("/topic") == .topic(nil))
        #expect(ChatCommand.parse("/topic new topic") == .topic("new topic"))
        #expect(ChatCommand.parse("/away lunch") == .away("lunch"))
        #expect(ChatCommand.parse("/away") == .back)
        #expect(ChatCommand.parse("/w 2") == .switchWindow("2"))
        #expect(ChatCommand.parse("/history") == .history(50))
        #expect(ChatCommand.parse("/history 20") == .history(20))
        #expect(ChatCommand.parse("/raw PING x") == .raw("PING x"))
    }

    @Test func badUseIsExplainedAndUnknownCommandsAreNamed() {
        #expect(ChatCommand.parse("/join") == .usage("/join #channel [key]"))
        #expect(ChatCommand.parse("/msg bob") == .usage("/msg nick text"))
        #expect(ChatCommand.parse("/nick") == .usage("/nick newname"))
        #expect(ChatCommand.parse("/history -3") == .usage("/history [N] (N a positive number)"))
        #expect(ChatCommand.parse("/frobnicate x") == .unknown("frobnicate"))
    }

    @Test func endpoints() {
        #expect(ChatEndpoint.parse("127.0.0.1", defaultPort: 1060) == ChatEndpoint(host: "127.0.0.1", port: 1060))
        #expect(
            ChatEndpoint.parse(" chat.example.org:6697 ", defaultPort: 1060)
                == ChatEndpoint(host: "chat.example.org", port: 6697)
        )
        #expect(ChatEndpoint.parse("[::1]:7000", defaultPort: 1060) == ChatEndpoint(host: "::1", port: 7000))
        #expect(ChatEndpoint.parse("::1", defaultPort: 1060) == ChatEndpoint(host: "::1", port: 1060))
        #expect(ChatEndpoint.parse("host:0", defaultPort: 1060) == nil)
        #expect(ChatEndpoint.parse("host:http", defaultPort: 1060) == nil)
        #expect(ChatEndpoint.parse("", defaultPort: 1060) == nil)
    }

    @Test func backoffDoublesUpToItsCeiling() {
        var backoff = Backoff(base: .seconds(1), ceiling: .seconds(10))
        #expect((0..<6).map { _ in backoff.next() } == [1, 2, 4, 8, 10, 10].map { Duration.seconds($0) })
        backoff.reset()
        #expect(backoff.next() == .seconds(1))
    }

    @Test func deleteTakesNoArguments() {
        #expect(ChatCommand.parse("/delete") == .delete)
        #expect(ChatCommand.parse("/DELETE") == .delete)
        if case .usage(let text) = ChatCommand.parse("/delete 3") {
            #expect(text.hasPrefix("/delete"))
        } else {
            Issue.record("/delete 3 was not refused with its usage")
        }
        #expect(ChatCommand.names.contains("delete") && ChatCommand.help.contains { $0.0 == "/delete" })
    }

    @Test func gotoTakesTheNumberOfAHit() {
        #expect(ChatCommand.parse("/goto 3") == .goto(3))
        for bad in ["/goto", "/goto 0", "/goto x", "/goto 1 2"] {
            if case .usage = ChatCommand.parse(bad) {} else { Issue.record("\(bad) was not refused with its usage") }
        }
    }
}
