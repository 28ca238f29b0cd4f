import ParleyIRC
import ParleyTestSupport
import Testing

/// draft/extended-isupport and no-implicit-names over real sockets.
@Suite struct ModernCapabilityIntegrationTests {
    @Test func isupportBeforeRegistrationAndJoinWithoutNames() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let client = try await server.connect()
        try await client.send("CAP LS 302")
        let list = try await client.expect(.cap).parameters.last ?? ""
        #expect(list.split(separator: " ").contains("draft/extended-isupport"))
        #expect(list.split(separator: " ").contains("no-implicit-names"))
        try await client.send("CAP REQ :batch draft/extended-isupport no-implicit-names")
        #expect(try await client.expect(.cap).parameter(1) == "ACK")
        try await client.send("ISUPPORT")
        let start = try await client.expect(.batch)
        #expect(start.parameters.last == "draft/isupport")
        let first = try await client.expect(.rplISupport)
        #expect(first.tag("batch") == String(start.parameters[0].dropFirst()))
        try await client.send("NICK early")
        try await client.send("USER early 0 * :Early")
        try await client.send("CAP END")
        _ = try await client.expect(.rplWelcome)
        try await client.expect(.errNoMotd, .rplEndOfMotd)
        try await client.send("JOIN #quiet")
        _ = try await client.expect(.join)
        // The next thing it hears is the answer to this PING: no 353/366 came between.
        try await client.send("PING after-join")
        let next = try await client.next()
        #expect(next?.command == .pong && next?.parameters.last == "after-join", "\(String(describing: next))")
        await client.close()
    }
}
