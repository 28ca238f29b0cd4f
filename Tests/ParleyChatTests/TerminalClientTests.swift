import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// The `parley` binary against a real server, as people and scripts use it.
@Suite(.timeLimit(.minutes(2))) struct TerminalClientTests {
    /// Runs `body` against a fresh server and stops the server however `body` ends.
    private func withServer(_ body: (TestServer) async throws -> Void) async throws {
        let server = try await TestServer.start()
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func twoScriptedClientsChatInTheLobby() async throws {
        try await self.withServer { server in
            let address = "127.0.0.1:\(server.port)"

            let alice = try ChatProcess([address, "--nick", "alice"])
            defer { alice.terminate() }
            try await alice.waitFor("You are in #lobby with 0 others")

            let bob = try ChatProcess([address, "--nick", "bob"])
            bob.write("hello from bob\n/me waves\nquit\n")
            #expect(try await bob.exitStatus() == 0)
            #expect(bob.text.contains("You are in #lobby with 1 other"))
            #expect(bob.text.contains("<bob> hello from bob"))  // its own line, through echo-message

            try await alice.waitFor("bob quit")
            let seen = alice.text
            #expect(seen.contains("bob joined #lobby"))
            #expect(seen.contains("<bob> hello from bob"))
            #expect(seen.contains("* bob waves"))
            #expect(!seen.contains("\u{1B}["))  // plain lines for scripts: no escape codes

            try alice.closeInput()  // EOF: leave
            #expect(try await alice.exitStatus() == 0)
        }
    }

    @Test func scriptLinesAfterJoinGoToTheNewChannelAndDirectMessagesArrive() async throws {
        try await self.withServer { server in
            let watcher = try await server.register("watcher")
            try await server.join("#dev", watcher)

            let script = try ChatProcess(["127.0.0.1:\(server.port)", "--nick", "scripter"])
            script.write("/join #dev\nin dev\n/msg watcher psst\n")
            try script.closeInput()
            #expect(try await script.exitStatus() == 0)

            let inChannel = try await watcher.expect(.privmsg)
            #expect(inChannel.parameters == ["#dev", "in dev"])
            let direct = try await watcher.expect(.privmsg)
            #expect(direct.parameters == ["watcher", "psst"])
            let quit = try await watcher.expect(.quit)
            #expect(quit.sourceNick == "scripter")
        }
    }

    @Test func aTakenOrInvalidNameIsExplainedAndAskedAgainAtATerminal() async throws {
        try await self.withServer { server in
            let taken = try await server.register("alice")
            try await server.join("#lobby", taken)

            let person = try ChatProcess(["127.0.0.1:\(server.port)"], terminal: true)
            defer { person.terminate() }
            try await person.waitFor("Username:")
            person.write("alice\r")
            try await person.waitFor("The name alice is taken; choose another one.")
            try await person.waitFor("Username:", count: 2)
            person.write("9lives\r")
            try await person.waitFor("9lives cannot be a name")
            try await person.waitFor("Username:", count: 3)
            person.write("zed\r")
            try await person.waitFor("Welcome, zed!")
            try await person.waitFor("You are in #lobby with 1 other.")
            try await person.waitFor("[#lobby]")  // the input line is drawn

            let join = try await taken.expect(.join)
            #expect(join.sourceNick == "zed")
            person.write("hi there\r")
            let line = try await taken.expect(.privmsg)
            #expect(line.parameters == ["#lobby", "hi there"])

            person.write("quit\r")
            #expect(try await person.exitStatus() == 0)
            let quit = try await taken.expect(.quit)
            #expect(quit.sourceNick == "zed")
        }
    }

    /// A script's lines wait behind the server's flood control (here 20 at once, then 25 a second); `parley` must
    /// not quit, or close, before the server has handled the last of them. It used to close 3 s after the end of its
    /// input: the server then carried the rest out, but the script never saw them taken (or refused).
    @Test func aPipedScriptIsDeliveredWhollyThroughFloodControlBeforeItQuits() async throws {
        let server = try await TestServer.start {
            $0.floodControl = true
            $0.floodBurst = 20
            $0.floodRate = 25
        }
        defer { Task { await server.stop() } }
        let watcher = try await server.register("watcher")
        try await server.join("#lobby", watcher)
        let count = 200
        // Long lines, so that what flood control holds back is more than one read of the server's.
        let padding = String(repeating: "x", count: 300)
        let script = try ChatProcess(["127.0.0.1:\(server.port)", "--nick", "piper"])
        script.write((1...count).map { "line \($0) \(padding)\n" }.joined())
        try script.closeInput()
        var received: [String] = []
        while received.count < count {
            let message = try await watcher.expect(.privmsg, .quit, timeout: .seconds(30))
            guard message.command == .privmsg else { break }
            received.append(message.parameters.last ?? "")
        }
        #expect(received == (1...count).map { "line \($0) \(padding)" })
        #expect(try await script.exitStatus() == 0)
        // It saw the server take its last line (the echo) before it left, so its transcript is the truth.
        #expect(script.text.contains("<piper> line \(count) x"))
        let quit = try await watcher.expect(.quit)
        #expect(quit.sourceNick == "piper")
    }

    @Test func badArgumentsAreNamed() async throws {
        let badPort = try ChatProcess(["127.0.0.1", "--port", "0", "--nick", "x"])
        #expect(try await badPort.exitStatus() != 0)
        #expect(badPort.text.contains("--port must be 1…65535"))
        let badChannel = try ChatProcess(["127.0.0.1", "--channel", "lobby", "--nick", "x"])
        #expect(try await badChannel.exitStatus() != 0)
        #expect(badChannel.text.contains("--channel must start with #"))
        let noServer = try ChatProcess(["127.0.0.1:1", "--nick", "x"])
        #expect(try await noServer.exitStatus() == 1)
        #expect(noServer.text.contains("Cannot connect to 127.0.0.1:1"))
    }
}
