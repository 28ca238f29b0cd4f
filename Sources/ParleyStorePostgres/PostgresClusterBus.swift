import Logging
import ParleyStore

/// ``ClusterBus`` on PostgreSQL: the numbered message log and leases of ``PostgresStore``, woken by ``ClusterFeed``.
public struct PostgresClusterBus: ClusterBus {
    public let nodeID: String
    /// Where this node's users may reconnect (`HOST PORT`), told to the other nodes; empty when unknown.
    public let address: String
    let store: PostgresStore
    let feed: ClusterFeed
    let logger: Logger

    /// Joins the cluster as `nodeID` (with a first lease of `lease`) and makes `store` notify the other nodes;
    /// `address` (`HOST PORT`) is where its users may reconnect.
    public static func join(
        store: PostgresStore,
        nodeID: String,
        lease: Duration,
        address: String = "",
        logger: Logger = Logger(label: "parley.cluster")
    ) async throws -> PostgresClusterBus {
        try await store.joinCluster(node: nodeID, lease: lease)
        store.notifiesOtherNodes = true
        return PostgresClusterBus(
            nodeID: nodeID,
            address: address,
            store: store,
            feed: ClusterFeed(url: store.url),
            logger: logger
        )
    }

    public func listen(_ handle: @escaping @Sendable (ClusterEvent) async -> Void) async {
        await self.feed.run(logger: self.logger, handle)
    }

    public func heads() async throws -> [String: Int64] {
        try await self.store.allHeads()
    }

    public func messages(
        after numbers: [String: Int64],
        limit: Int
    ) async throws
        -> [(number: Int64, message: StoredMessage)]
    {
        try await self.store.messages(after: numbers, limit: limit)
    }

    public func renewLease(_ lease: Duration) async throws -> Bool {
        try await self.store.renewLease(node: self.nodeID, lease: lease)
    }

    public func liveNodes() async throws -> [String: String] {
        try await self.store.liveNodeAddresses()
    }

    public func leave() async throws {
        try await self.store.leaveCluster(node: self.nodeID)
    }

    public func announce(run: String) async throws {
        try await self.store.announceRun(node: self.nodeID, run: run, address: self.address)
    }

    public func liveRuns() async throws -> Set<String> {
        try await self.store.liveRuns()
    }

    public func channelEvents(upTo heads: [String: Int64]) async throws -> [StoredMessage] {
        try await self.store.channelEvents(upTo: heads)
    }

    public func nicks() async throws -> [ClusterNick] {
        try await self.store.clusterNicks()
    }

    public func claimNick(_ folded: String, display: String, respectingHolds: Bool) async throws -> Bool {
        try await self.store.claimNick(folded, display: display, node: self.nodeID, respectingHolds: respectingHolds)
    }

    public func holdNick(_ folded: String, forSeconds seconds: Int64) async throws {
        try await self.store.holdNick(folded, forSeconds: seconds)
    }

    public func releaseNick(_ folded: String) async throws {
        try await self.store.releaseNick(folded, node: self.nodeID)
    }

    public func signal(_ line: String) async throws {
        try await self.store.signal("t \(self.nodeID) \(line)")
    }

    public func removeLostNodes() async throws -> [String] {
        try await self.store.removeExpiredNodes()
    }

    public func rejoin(lease: Duration, run: String, nicks: [String: String]) async throws -> [String] {
        try await self.store.joinCluster(node: self.nodeID, lease: lease)
        try await self.store.announceRun(node: self.nodeID, run: run, address: self.address)
        var lost: [String] = []
        for (folded, display) in nicks.sorted(by: { $0.key < $1.key }) {
            if try await !self.store.claimNick(folded, display: display, node: self.nodeID) { lost.append(folded) }
        }
        return lost
    }
}
