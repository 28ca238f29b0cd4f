import ParleyIRC
import ParleyServer
import ParleyStorePostgres
import ParleyTestSupport
import Testing

/// A node of a cluster that shuts down points its users at another node (RPL_BOUNCE) before it closes their
/// connections. Needs `PARLEY_TEST_POSTGRES`.
@Suite(.enabled(if: testPostgresURL != nil, "PARLEY_TEST_POSTGRES is not set"), .timeLimit(.minutes(2)))
struct ClusterShutdownTests {
    @Test func aNodeShuttingDownTellsItsUsersWhereToReconnect() async throws {
        try await withPostgresDatabase { url in
            let storeA = try await PostgresStore.open(url: url)
            let storeB = try await PostgresStore.open(url: url)
            let busA = try await PostgresClusterBus.join(store: storeA, nodeID: "node-a", lease: .seconds(30))
            let a = try await TestServer.start(store: storeA, cluster: busA)
            // Node b joins after node a started: a learns of it when it looks, at shutdown.
            let busB = try await PostgresClusterBus.join(
                store: storeB,
                nodeID: "node-b",
                lease: .seconds(30),
                address: "b.example.net 6697"
            )
            let b = try await TestServer.start(store: storeB, cluster: busB)
            let alice = try await a.register("alice")
            await a.stop()
            let bounce = try await alice.expect(.rplBounce)
            #expect(bounce.parameters.prefix(3) == ["alice", "b.example.net", "6697"])
            #expect(try await alice.expect(.error).parameters.first?.contains("node-a shutting down") == true)

            // The node that stays has nowhere to send its users when it goes: it says nothing of the kind.
            let bob = try await b.register("bob")
            await b.stop()
            let last = try await bob.drainUntilClosed()
            #expect(!last.contains { $0.command == IRCCommand(.rplBounce) })
            #expect(last.contains { $0.command == .error })
            try await storeA.close()
            try await storeB.close()
        }
    }
}
