import ParleyIRC
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// draft/channel-rename over real sockets with history in SQLite: members follow the channel, and its history is
/// read under the new name.
@Suite(.timeLimit(.minutes(2))) struct RenameIntegrationTests {
    @Test func theChannelItsMembersAndItsHistoryTakeTheNewName() async throws {
        try await TestServer.withHistory(
            { _ in },
            { server, store in
                let caps = [
                    "draft/channel-rename", "draft/chathistory", "batch", "server-time", "message-tags", "echo-message",
                ]
                let alice = try await server.register("alice", caps: caps)
                try await alice.send("JOIN #typo")
                _ = try await alice.expect(.rplEndOfNames)
                let bob = try await server.register("bob")
                try await server.join("#typo", bob)
                try await alice.send("PRIVMSG #typo :said before")
                _ = try await alice.expect(.privmsg)
                _ = try await bob.expect(.privmsg)

                try await alice.send("RENAME #typo #fixed :typo")
                #expect(try await alice.expect(.rename).parameters == ["#typo", "#fixed", "typo"])
                #expect(try await bob.expect(.part).parameters == ["#typo", "typo"])
                #expect(try await bob.expect(.join).parameters == ["#fixed"])
                #expect(try await bob.expect(.rplEndOfNames).parameters[1] == "#fixed")

                try await bob.send("PRIVMSG #fixed :said after")
                #expect(try await alice.expect(.privmsg).parameters == ["#fixed", "said after"])
                try await alice.send("CHATHISTORY LATEST #fixed * 10")
                var said: [String] = []
                while let line = try await alice.next(), !(line.command == .batch && line.parameters[0].hasPrefix("-"))
                {
                    if line.command == .privmsg { said.append(line.parameters[1]) }
                }
                #expect(said == ["said before", "said after"])
                let old = try await store.read(HistoryRange(target: "#typo", nearest: .before, limit: 10, events: true))
                #expect(old.isEmpty, "nothing stays under the old name")
            }
        )
    }
}
