import ParleyCore
import ParleyIRC
import Testing

/// A node that shuts down tells each user another node to connect to (RPL_BOUNCE); addresses come from configuration
/// (`HOST:PORT`) and the cluster's table (`HOST PORT`).
@Suite struct ReconnectAddressTests {
    @Test func addressesAreReadFromConfigurationAndTheTableAndBadOnesRefused() {
        #expect(
            ReconnectAddress(configured: "irc2.example.net:6697")
                == ReconnectAddress(host: "irc2.example.net", port: 6697)
        )
        #expect(ReconnectAddress(configured: "[2001:db8::1]:1060")?.host == "2001:db8::1")
        #expect(ReconnectAddress(stored: "10.0.0.2 1060") == ReconnectAddress(host: "10.0.0.2", port: 1060))
        #expect(ReconnectAddress(host: "10.0.0.2", port: 1060)?.stored == "10.0.0.2 1060")
        for bad in ["", "host", "host:", ":1060", "host:0", "host:70000", "host:x", "2001:db8::1:1060", "a b:1060"] {
            #expect(ReconnectAddress(configured: bad) == nil, "\(bad.debugDescription)")
        }
        for bad in ["", "host", "host 0", "a b 1", ":x 1060"] {
            #expect(ReconnectAddress(stored: bad) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func eachRegisteredUserIsPointedAtTheNodesInTurn() throws {
        var core = CoreHarness()
        for name in ["alice", "bob", "carol"] { core.connect(name) }
        core.open("unregistered")
        let nodes = try [
            #require(ReconnectAddress(host: "b.example", port: 1060)),
            #require(ReconnectAddress(host: "c.example", port: 6697)),
        ]
        core.outbox.removeAll()
        core.state.pointUsersElsewhere(nodes, into: &core.outbox)
        core.collect()
        let told = ["alice", "bob", "carol"].map { core.take($0) }
        #expect(told.map { $0.map(\.command) } == Array(repeating: [IRCCommand(.rplBounce)], count: 3))
        #expect(told[0].first?.parameters.prefix(3) == ["alice", "b.example", "1060"])
        #expect(told[1].first?.parameters.prefix(3) == ["bob", "c.example", "6697"])
        #expect(told[2].first?.parameters.prefix(3) == ["carol", "b.example", "1060"])
        #expect(told[0].first?.parameters.count == 4, "with a text saying why")
        #expect(core.take("unregistered").isEmpty, "a connection not yet registered has no nick to be told with")

        core.outbox.removeAll()
        core.state.pointUsersElsewhere([], into: &core.outbox)
        core.collect()
        #expect(core.take("alice").isEmpty, "nowhere to go: nothing said")
    }
}
