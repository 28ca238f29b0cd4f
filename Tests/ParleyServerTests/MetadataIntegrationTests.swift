import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// IRCv3 metadata over real sockets: a display name reaches a subscriber who shares a channel, not a client without
/// the capability, and WHOIS shows it to anyone.
@Suite(.timeLimit(.minutes(2))) struct MetadataIntegrationTests {
    @Test func aDisplayNameReachesSubscribersOnly() async throws {
        let server = try await TestServer.start()
        let ann = try await server.register("ann", caps: ["draft/metadata-3", "batch"])
        let ben = try await server.register("ben", caps: ["draft/metadata-3", "batch"])
        let cat = try await server.register("cat")
        try await ben.send("METADATA * SUB display-name")
        #expect(try await ben.expect(IRCNumeric(770)).parameters == ["ben", "display-name"])
        try await cat.send("METADATA * SUB display-name")
        _ = try await cat.expect(IRCNumeric(770))
        try await ann.send("JOIN #room")
        _ = try await ann.expect(.rplEndOfNames)
        try await server.join("#room", ben, cat)

        try await ann.send("METADATA * SET display-name :Ann Example")
        #expect(try await ann.expect(IRCNumeric(761)).parameters == ["ann", "ann", "display-name", "*", "Ann Example"])
        #expect(try await ben.expect(IRCNumeric(761)).parameters == ["ben", "ann", "display-name", "*", "Ann Example"])

        // cat subscribed but did not negotiate the capability: nothing came before its PONG.
        try await cat.send("PING check")
        var beforePong: [IRCMessage] = []
        while let line = try await cat.next(), line.command != .pong { beforePong.append(line) }
        #expect(!beforePong.contains { $0.command.rawValue == "761" })
        try await cat.send("WHOIS ann")
        #expect(try await cat.expect(IRCNumeric(760)).parameters == ["cat", "ann", "display-name", "*", "Ann Example"])
        await server.stop()
    }
}
