import ParleyIRC
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// draft/message-redaction over real sockets, with history in SQLite: who may delete what, who is told, and that
/// the message leaves history (every copy of a direct message).
@Suite(.timeLimit(.minutes(2))) struct RedactionIntegrationTests {
    static let caps = [
        "draft/chathistory", "batch", "server-time", "message-tags", "echo-message", "draft/message-redaction",
    ]

    private func withServer(_ body: (TestServer, TestStore) async throws -> Void) async throws {
        try await TestServer.withHistory({ _ in }, body)
    }

    /// Sends `text` to `target` and returns its msgid, from the sender's echo.
    private func say(_ client: TestClient, _ target: String, _ text: String) async throws -> String {
        try await client.send("PRIVMSG \(target) :\(text)")
        let echo = try await client.expect(.privmsg)
        return try #require(echo.tag("msgid"))
    }

    /// Messages read before the first with `command` (which is read too).
    private func collect(_ client: TestClient, until command: IRCCommand) async throws -> [IRCMessage] {
        var lines: [IRCMessage] = []
        while let message = try await client.next(), message.command != command { lines.append(message) }
        return lines
    }

    private func history(_ store: TestStore, _ target: String) async throws -> [String] {
        try await store.read(HistoryRange(target: target, nearest: .before, limit: 100, events: false)).map(\.text)
    }

    @Test func theSenderAndChannelOperatorsMayRedactOthersMayNot() async throws {
        try await self.withServer { server, store in
            let alice = try await server.register("alice", caps: Self.caps)
            try await alice.send("JOIN #room")
            _ = try await alice.expect(.rplEndOfNames)
            let bob = try await server.register("bob", caps: Self.caps)
            let carol = try await server.register("carol", caps: ["message-tags"])
            try await server.join("#room", bob, carol)
            let first = try await self.say(alice, "#room", "oops")
            _ = try await bob.expect(.privmsg)
            _ = try await carol.expect(.privmsg)

            // Bob is not an operator: alice's message is not his to delete.
            try await bob.send("REDACT #room \(first)")
            let refused = try await bob.expect(.fail)
            #expect(refused.parameters.prefix(4) == ["REDACT", "REDACT_FORBIDDEN", "#room", first])

            // Alice deletes her own: both members with the capability are told, carol (without it) is not.
            try await alice.send("REDACT #room \(first)")
            let told = try await alice.expect(.redact)
            #expect(told.parameters == ["#room", first] && told.source?.hasPrefix("alice!") == true)
            #expect(try await bob.expect(.redact).parameters == ["#room", first])
            try await carol.send("PING carol")
            let beforePong = try await self.collect(carol, until: .pong)
            #expect(!beforePong.contains { $0.command == .redact })
            #expect(try await self.history(store, "#room").isEmpty)

            // Alice is the channel's operator: she may delete bob's, with a reason everyone sees.
            let second = try await self.say(bob, "#room", "spam")
            _ = try await alice.expect(.privmsg)
            try await alice.send("REDACT #room \(second) :no spam here")
            #expect(try await alice.expect(.redact).parameters == ["#room", second, "no spam here"])
            let bobTold = try await bob.expect(.redact)
            #expect(
                bobTold.parameters == ["#room", second, "no spam here"] && bobTold.source?.hasPrefix("alice!") == true
            )

            // Deleted already, or never there: UNKNOWN_MSGID. A channel alice is not in: INVALID_TARGET.
            try await alice.send("REDACT #room \(second)")
            #expect(try await alice.expect(.fail).parameters.prefix(4) == ["REDACT", "UNKNOWN_MSGID", "#room", second])
            try await alice.send("REDACT #elsewhere \(second)")
            #expect(try await alice.expect(.fail).parameters.prefix(3) == ["REDACT", "INVALID_TARGET", "#elsewhere"])
            try await alice.send("REDACT #room")
            #expect(try await alice.expect(.errNeedMoreParams).parameters.contains("REDACT"))
        }
    }

    @Test func aRedactedDirectMessageLeavesBothCopiesAndBothEndsAreTold() async throws {
        try await self.withServer { server, _ in
            let alice = try await server.register("alice", caps: Self.caps)
            let bob = try await server.register("bob", caps: Self.caps)
            let msgid = try await self.say(alice, "bob", "meant for someone else")
            _ = try await bob.expect(.privmsg)
            // Bob received it but did not send it.
            try await bob.send("REDACT alice \(msgid)")
            #expect(try await bob.expect(.fail).parameters.prefix(2) == ["REDACT", "REDACT_FORBIDDEN"])
            try await alice.send("REDACT bob \(msgid)")
            #expect(try await alice.expect(.redact).parameters == ["bob", msgid])
            #expect(try await bob.expect(.redact).parameters == ["bob", msgid])
            for (client, other) in [(alice, "bob"), (bob, "alice")] {
                try await client.send("CHATHISTORY LATEST \(other) * 10")
                _ = try await client.expect(.batch)
                let lines = try await self.collect(client, until: .batch)
                #expect(!lines.contains { $0.command == .privmsg }, "\(lines)")
            }
        }
    }

    @Test func withoutHistoryTheCapabilityIsNotOffered() async throws {
        let server = try await TestServer.start()
        let client = try await server.connect()
        try await client.send("CAP LS 302")
        let list = try await client.expect(.cap)
        #expect(!list.parameters.last!.contains("draft/message-redaction"))
        await server.stop()
    }
}
