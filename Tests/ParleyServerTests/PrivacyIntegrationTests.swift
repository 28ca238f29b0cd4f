import ParleyClient
import ParleyCore
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct PrivacyIntegrationTests {
    @Test func addressesAreCloakedForEveryoneButOperators() async throws {
        let hash = try OperatorPassword.hash("oper-secret", rounds: 1000)
        let server = try await TestServer.start {
            $0.cloakKey = "a-test-cloak-key-of-some-length"
            $0.operators = [.init(name: "boss", passwordHash: hash)]
        }
        let alice = try await server.register("alice")
        let bob = try await server.register("bob")
        try await server.join("#room", alice, bob)
        let join = try await alice.expect(.join)
        let host = try #require(join.source?.split(separator: "@").last.map(String.init))
        #expect(host.hasSuffix(".ip"))
        #expect(!(join.source ?? "").contains("127.0.0.1"))

        try await alice.send("WHOIS bob")
        let whois = try await alice.expect(.rplWhoisUser)
        #expect(whois.parameters[3] == host)  // the same address gives the same cloak
        try await alice.send("WHO #room")
        var who = try await alice.expect(.rplWhoReply)
        while who.parameters[5] != "bob" { who = try await alice.expect(.rplWhoReply) }
        #expect(who.parameters[3] == host)
        try await alice.send("WHOIS bob")
        var seen: [IRCMessage] = []
        while let message = try await alice.next(), message.command != IRCCommand(.rplEndOfWhois) {
            seen.append(message)
        }
        #expect(!seen.contains { $0.parameters.contains("127.0.0.1") })

        try await alice.send("OPER boss oper-secret")
        try await alice.expect(.rplYoureOper)
        try await alice.send("WHOIS bob")
        let actual = try await alice.expect(.rplWhoisActually)
        #expect(actual.parameters[2] == "127.0.0.1")
        await server.stop()
    }

    @Test func cloakingCanBeTurnedOffAndDependsOnTheKey() async throws {
        let plain = try await TestServer.start { $0.cloak = false }
        let one = try await plain.register("one")
        try await one.send("WHOIS one")
        #expect(try await one.expect(.rplWhoisUser).parameters[3] == "127.0.0.1")
        await plain.stop()

        var hosts: [String] = []
        for key in ["first-key-0123456789", "second-key-0123456789"] {
            let server = try await TestServer.start { $0.cloakKey = key }
            let client = try await server.register("probe")
            try await client.send("WHOIS probe")
            hosts.append(try await client.expect(.rplWhoisUser).parameters[3])
            await server.stop()
        }
        #expect(hosts[0] != hosts[1])
    }
}
