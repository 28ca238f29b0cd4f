import ParleyClient
import ParleyIRC
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Offline DMs, read markers and search against a real server and store.
@Suite(.timeLimit(.minutes(2))) struct ReadingIntegrationTests {
    private func withServer(_ body: (TestServer) async throws -> Void) async throws {
        try await TestServer.withHistory { server, _ in try await body(server) }
    }

    /// Registers `nick` and its account, logged in.
    private func account(_ server: TestServer, _ nick: String, caps: [String] = []) async throws -> TestClient {
        let client = try await server.register(nick, caps: caps)
        try await client.send("PRIVMSG NickServ :REGISTER \(nick)-password")
        try await client.expect(.rplLoggedIn)
        return client
    }

    private func readBatch(_ client: TestClient) async throws -> (IRCMessage, [IRCMessage]) {
        let open = try await client.expect(.batch)
        var lines: [IRCMessage] = []
        while let message = try await client.next(), message.command != .batch { lines.append(message) }
        return (open, lines)
    }

    @Test func directMessagesToAnOfflineAccountArriveAtItsNextLogin() async throws {
        try await self.withServer { server in
            let lena = try await self.account(server, "lena")
            await lena.close()
            let mo = try await server.register("mo", caps: ["echo-message"])
            // The close reaches the server asynchronously: wait until lena is gone.
            var online = true
            for _ in 0..<100 where online {
                try await mo.send("ISON lena")
                online = try await mo.expect(.rplIsOn).parameters.last?.isEmpty == false
                if online { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(!online)
            try await mo.send("PRIVMSG lena :are you there?")
            let kept = try await mo.expect(.notice)
            #expect(kept.parameters.last?.contains("lena is offline") == true)
            try await mo.expect(.privmsg)
            try await mo.send("PRIVMSG lena :second one")
            try await mo.send("PRIVMSG nobody :lost")
            try await mo.expect(.errNoSuchNick)

            let back = try await server.register("lena", caps: ["server-time"])
            try await back.send("PRIVMSG NickServ :IDENTIFY lena-password")
            var lines: [IRCMessage] = []
            while lines.count < 2 {
                let message = try await back.expect(.privmsg)
                lines.append(message)
            }
            #expect(lines.map { $0.parameters.last! } == ["are you there?", "second one"])
            #expect(lines.allSatisfy { $0.source?.hasPrefix("mo!") == true && $0.tag("time") != nil })
            // Delivered once: a second login gets nothing more.
            try await back.send("PRIVMSG NickServ :LOGOUT")
            try await back.send("PRIVMSG NickServ :IDENTIFY lena-password")
            try await back.expect(.rplLoggedIn)
            try await back.send("PING done")
            var after: [IRCCommand] = []
            while let message = try await back.next(), message.command != .pong { after.append(message.command) }
            #expect(!after.contains(.privmsg))
        }
    }

    /// The marker is read from the store; the JOIN's replies come before it and a PING sent after it is answered
    /// after it (replies in the order of their commands).
    @Test func theMarkerOfAJoinAndAPingAfterItLeaveInOrder() async throws {
        try await self.withServer { server in
            let client = try await self.account(server, "ora", caps: ["draft/read-marker"])
            try await client.send("JOIN #order\r\nMARKREAD #order\r\nPING after-markers")
            var commands: [IRCCommand] = []
            while let message = try await client.next() {
                commands.append(message.command)
                if message.command == .pong { break }
            }
            let join = try #require(commands.firstIndex(of: .join))
            let markers = commands.indices.filter { commands[$0] == .markread }
            #expect(markers.count == 2, "\(commands)")
            #expect(markers.allSatisfy { $0 > join })
            #expect(commands.last == .pong)
        }
    }

    @Test func readMarkersAreKeptPerAccountAndSharedBetweenSessions() async throws {
        try await self.withServer { server in
            let first = try await self.account(server, "nia", caps: ["draft/read-marker"])
            try await first.send("JOIN #room")
            let initial = try await first.expect(.markread)
            #expect(initial.parameters == ["#room", "*"])
            let (second, result) = try await self.secondSession(server)
            #expect(result.command == IRCCommand(.rplSaslSuccess))
            try await first.send("MARKREAD #room timestamp=2026-01-01T00:00:00.000Z")
            let mine = try await first.expect(.markread)
            #expect(mine.parameters == ["#room", "timestamp=2026-01-01T00:00:00.000Z"])
            let theirs = try await second.expect(.markread)
            #expect(theirs.parameters == mine.parameters)
            // Markers never move back.
            try await first.send("MARKREAD #room timestamp=2025-01-01T00:00:00.000Z")
            let kept = try await first.expect(.markread)
            #expect(kept.parameters.last == "timestamp=2026-01-01T00:00:00.000Z")
            try await first.send("MARKREAD #room yesterday")
            let fail = try await first.expect(.fail)
            #expect(fail.parameters.prefix(2) == ["MARKREAD", "INVALID_PARAMS"])
            try await first.send("MARKREAD")
            let missing = try await first.expect(.fail)
            #expect(missing.parameters.prefix(2) == ["MARKREAD", "NEED_MORE_PARAMS"])
        }
    }

    /// Without an account a client's markers last as long as its connection (the spec asks for that rather than a
    /// refusal), and nobody else sees them.
    @Test func aClientWithoutAnAccountKeepsMarkersForItsConnection() async throws {
        try await self.withServer { server in
            let guest = try await server.register("guest", caps: ["draft/read-marker"])
            try await guest.send("JOIN #room")
            let joined = try await self.untilEndOfNames(guest)
            #expect(joined.contains(":irc.test MARKREAD #room *"), "\(joined)")
            try await guest.send("MARKREAD #room timestamp=2026-02-01T00:00:00.000Z")
            #expect(try await guest.expect(.markread).parameters == ["#room", "timestamp=2026-02-01T00:00:00.000Z"])
            try await guest.send("MARKREAD #room timestamp=2025-02-01T00:00:00.000Z")
            #expect(try await guest.expect(.markread).parameters.last == "timestamp=2026-02-01T00:00:00.000Z")
            try await guest.send("MARKREAD someone timestamp=2026-03-01T00:00:00.000Z")
            #expect(try await guest.expect(.markread).parameters == ["someone", "timestamp=2026-03-01T00:00:00.000Z"])
            try await guest.send("PART #room\r\nJOIN #room")
            let again = try await self.untilEndOfNames(guest)
            #expect(again.contains(":irc.test MARKREAD #room timestamp=2026-02-01T00:00:00.000Z"), "\(again)")
            try await guest.send("MARKREAD #room *")
            #expect(try await guest.expect(.fail).parameters.prefix(2) == ["MARKREAD", "INVALID_PARAMS"])
            let other = try await server.register("other", caps: ["draft/read-marker"])
            try await other.send("MARKREAD #room")
            #expect(try await other.expect(.markread).parameters == ["#room", "*"])
        }
    }

    /// An account's marker is read from the store, yet it still comes before the end of NAMES (the spec's order).
    @Test func anAccountsMarkerComesBeforeTheEndOfNames() async throws {
        try await self.withServer { server in
            let client = try await self.account(server, "ines", caps: ["draft/read-marker"])
            try await client.send("MARKREAD #hall timestamp=2026-04-01T00:00:00.000Z")
            _ = try await client.expect(.markread)
            try await client.send("JOIN #hall")
            let joined = try await self.untilEndOfNames(client)
            let marker = joined.firstIndex(of: ":irc.test MARKREAD #hall timestamp=2026-04-01T00:00:00.000Z")
            let names = joined.firstIndex { $0.contains(" 353 ines ") }
            #expect(marker != nil && names != nil && marker! < names!, "\(joined)")
        }
    }

    /// Lines up to and including RPL_ENDOFNAMES.
    private func untilEndOfNames(_ client: TestClient) async throws -> [String] {
        var lines: [String] = []
        while let message = try await client.next() {
            lines.append(message.line)
            if message.command == IRCCommand(.rplEndOfNames) { break }
        }
        return lines
    }

    private func secondSession(_ server: TestServer) async throws -> (TestClient, IRCMessage) {
        let client = try await server.connect()
        try await client.send("CAP LS 302")
        try await client.send("CAP REQ :sasl draft/read-marker")
        try await client.send("NICK nia2")
        try await client.send("USER nia 0 * :Nia")
        try await client.send("AUTHENTICATE PLAIN")
        try await client.expect(.authenticate)
        try await client.send("AUTHENTICATE " + Base64.encode(Array("\u{0}nia\u{0}nia-password".utf8)))
        let result = try await client.expect(.rplSaslSuccess, .errSaslFail)
        try await client.send("CAP END")
        try await client.expect(.rplWelcome)
        return (client, result)
    }

    @Test func aStoreFailureOnAReadMarkerIsReportedNotDropped() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store)
        let client = try await self.account(server, "rhea", caps: ["draft/read-marker"])
        try await client.send("JOIN #room")
        _ = try await client.expect(.markread)
        store.setFailing(true)
        try await client.send("MARKREAD #room timestamp=2026-01-01T00:00:00.000Z")
        let failedSet = try await client.expect(.fail, .markread)
        #expect(failedSet.parameters.prefix(3) == ["MARKREAD", "INTERNAL_ERROR", "#room"])
        try await client.send("MARKREAD #room")
        let failedGet = try await client.expect(.fail, .markread)
        #expect(failedGet.parameters.prefix(3) == ["MARKREAD", "INTERNAL_ERROR", "#room"])
        store.setFailing(false)
        try await client.send("MARKREAD #room timestamp=2026-01-01T00:00:00.000Z")
        let saved = try await client.expect(.fail, .markread)
        #expect(saved.parameters == ["#room", "timestamp=2026-01-01T00:00:00.000Z"])
        await client.close()
        await server.stop()
        try await store.close()
    }

    @Test func searchFindsWordsOnlyWhereTheSearcherMayRead() async throws {
        try await self.withServer { server in
            let caps = ["soju.im/search", "batch", "echo-message", "message-tags", "server-time"]
            let olga = try await server.register("olga", caps: caps)
            let pat = try await server.register("pat", caps: caps)
            try await server.join("#public", olga, pat)
            try await server.join("#private", pat)
            for (client, target, text) in [
                (olga, "#public", "the quick brown fox"), (pat, "#public", "a quick reply"),
                (pat, "#private", "quick secret plans"), (pat, "olga", "quick private note"),
                (olga, "#public", "nothing to see"),
            ] {
                try await client.send("PRIVMSG \(target) :\(text)")
                // Its own echo (sent after the commit), not another member's earlier line.
                while try await client.expect(.privmsg).parameters.last != text {}
            }
            try await olga.send("SEARCH text=quick")
            var (open, lines) = try await self.readBatch(olga)
            #expect(open.parameters.dropFirst() == ["soju.im/search"])
            #expect(
                lines.map { $0.parameters.last! } == ["the quick brown fox", "a quick reply", "quick private note"]
            )

            try await olga.send("SEARCH in=#public;from=PAT;text=quick")
            (open, lines) = try await self.readBatch(olga)
            #expect(lines.map { $0.parameters.last! } == ["a quick reply"])

            try await olga.send("SEARCH in=#private;text=quick")
            let refused = try await olga.expect(.fail)
            #expect(refused.parameters.prefix(2) == ["SEARCH", "INVALID_PARAMS"])

            try await pat.send("SEARCH text=\"quick;limit=1")
            (open, lines) = try await self.readBatch(pat)
            #expect(lines.map { $0.parameters.last! } == ["quick private note"])
            try await pat.send("SEARCH colour=blue")
            let unknown = try await pat.expect(.fail)
            #expect(unknown.parameters.last?.contains("colour") == true)
        }
    }
}
