import ParleyIRC
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// draft/multiline over real sockets with history in SQLite: a pasted snippet arrives as one batch or as lines, is
/// stored as one message with its line breaks, is found by SEARCH and comes back from CHATHISTORY as one batch.
@Suite(.timeLimit(.minutes(2))) struct MultilineIntegrationTests {
    static let caps = ["draft/chathistory", "batch", "server-time", "message-tags", "echo-message", "soju.im/search"]

    /// Messages read before the first with `command` (which is read too).
    private func collect(_ client: TestClient, until command: IRCCommand) async throws -> [IRCMessage] {
        var lines: [IRCMessage] = []
        while let message = try await client.next(), message.command != command { lines.append(message) }
        return lines
    }

    @Test func aSnippetIsOneMessageForThoseWithTheCapabilityAndLinesForTheRest() async throws {
        try await TestServer.withHistory(
            { _ in },
            { server, store in
                let alice = try await server.register("alice", caps: Self.caps + ["draft/multiline"])
                try await alice.send("JOIN #code")
                _ = try await alice.expect(.rplEndOfNames)
                let bob = try await server.register("bob", caps: Self.caps + ["draft/multiline"])
                let carol = try await server.register("carol", caps: ["server-time"])
                try await server.join("#code", bob, carol)

                // Twenty lines at once (flood control counts a batch's lines as a fraction of a line each).
                let code = (1...20).map { "    line \($0) = \($0 * 2)" }
                try await alice.send("BATCH +s draft/multiline #code")
                for line in code { try await alice.send("@batch=s PRIVMSG #code :\(line)") }
                try await alice.send("@batch=s;draft/multiline-concat PRIVMSG #code : // continued")
                try await alice.send("BATCH -s")

                let echo = try await self.collect(alice, until: .batch)
                #expect(echo.allSatisfy { $0.command == .join }, "the echo starts with its BATCH")
                let relayed = try await self.collect(bob, until: .batch)
                #expect(relayed.allSatisfy { $0.command == .join })
                let lines = try await self.collect(bob, until: .batch)
                #expect(lines.map { $0.parameters[1] } == code + [" // continued"])
                #expect(
                    lines.last?.tags.contains { $0.key == "draft/multiline-concat" } == true,
                    "the concat tag arrives"
                )
                var plain: [IRCMessage] = []
                for _ in 0...code.count { plain.append(try await carol.expect(.privmsg)) }
                #expect(plain.map { $0.parameters[1] } == code + [" // continued"])
                #expect(plain.allSatisfy { $0.tags.allSatisfy { $0.key == "time" } }, "no batch, no concat tag")

                let stored = try await store.read(
                    HistoryRange(target: "#code", nearest: .before, limit: 10, events: false)
                )
                #expect(
                    stored.map(\.text) == [code.joined(separator: "\n") + " // continued"],
                    "stored once, as one text"
                )

                // History gives it back as a multiline batch inside the chathistory batch, and SEARCH finds it.
                for query in ["CHATHISTORY LATEST #code * 10", "SEARCH in=#code;text=line"] {
                    try await bob.send(query)
                    try await bob.send("PING done")
                    let replay = try await self.collect(bob, until: .pong)
                    let types = replay.compactMap { line -> String? in
                        guard line.command.rawValue == "BATCH", line.parameters.count > 1 else { return nil }
                        return line.parameters[0].hasPrefix("+") ? line.parameters[1] : nil
                    }
                    #expect(types.last == "draft/multiline", "\(query)")
                    // Read back, a concatenated line is one line again (it is short enough).
                    let joined = Array(code.dropLast()) + [code[code.count - 1] + " // continued"]
                    #expect(replay.filter { $0.command == .privmsg }.map { $0.parameters[1] } == joined, "\(query)")
                }
            }
        )
    }

    /// The operator's limits are what CAP LS states and what the server enforces.
    @Test func theConfiguredLimitsAreStatedAndKept() async throws {
        try await TestServer.withHistory(
            {
                $0.multilineMaxLines = 3
                $0.multilineMaxBytes = 600
            },
            { server, _ in
                let client = try await server.connect()
                try await client.send("CAP LS 302")
                let list = try await client.expect(.cap)
                #expect(list.parameters.last?.contains("draft/multiline=max-bytes=600,max-lines=3") == true)
                try await client.send("CAP REQ :draft/multiline batch")
                _ = try await client.expect(.cap)
                try await client.send("CAP END")
                try await client.send("NICK dana")
                try await client.send("USER dana 0 * :Dana")
                _ = try await client.expect(.rplWelcome)
                try await client.send("JOIN #c")
                _ = try await client.expect(.rplEndOfNames)
                try await client.send("BATCH +x draft/multiline #c")
                for _ in 0..<4 { try await client.send("@batch=x PRIVMSG #c :hi") }
                let refused = try await client.expect(.fail)
                #expect(refused.parameters.prefix(3) == ["BATCH", "MULTILINE_MAX_LINES", "3"])
            }
        )
    }
}
