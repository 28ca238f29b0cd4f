import ParleyStore
import PostgresNIO

/// A node of a cluster as the database knows it. Times are the database's clock (milliseconds since 1970), so nodes
/// whose clocks disagree still agree on whose lease has run out.
public struct ClusterNode: Sendable, Equatable {
    public var id: String
    public var startedAt: Int64
    public var leaseUntil: Int64
}

/// Leases, nick claims and the numbered message log that nodes sharing one database rely on.
extension PostgresStore {
    /// The secret `name` every node of the cluster uses: the first node to ask stores `candidate`, and every node
    /// (that one included) gets what is stored.
    public func sharedSecret(_ name: String, candidate: String) async throws -> String {
        try await self.run("reading the shared \(name)") {
            try await self.client.query(
                "INSERT INTO cluster_secrets (name, value) VALUES (\(name), \(candidate)) ON CONFLICT (name) DO NOTHING",
                logger: self.logger
            )
            let rows = try await self.client.query(
                "SELECT value FROM cluster_secrets WHERE name = \(name)",
                logger: self.logger
            )
            for try await value in rows.decode(String.self) { return value }
            throw StoreError("the shared \(name) is missing")
        }
    }

    /// The database's clock, in milliseconds since 1970.
    private static let now = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

    /// Records node `id` as alive for `lease` from now.
    public func joinCluster(node id: String, lease: Duration) async throws {
        let milliseconds = Self.milliseconds(lease)
        try await self.run("registering node \(id)") {
            // A node that restarts under the same name before its lease ran out: its earlier run is lost (its users
            // quit on the other nodes, its nicks are free) before the new run joins.
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH previous AS (DELETE FROM cluster_nodes WHERE node_id = $1 RETURNING node_id)
                        SELECT pg_notify('\(PostgresSchema.messagesChannel)', 'x ' || node_id) FROM previous
                        """,
                    binds: Self.binds(id)
                ),
                logger: self.logger
            )
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO cluster_nodes (node_id, started_at, lease_until) VALUES ($1, \(Self.now), \(Self.now) + $2)
                        ON CONFLICT (node_id) DO UPDATE SET started_at = excluded.started_at,
                            lease_until = excluded.lease_until
                        """,
                    binds: Self.binds(id, milliseconds)
                ),
                logger: self.logger
            )
        }
    }

    /// Extends the lease of node `id` to `lease` from now.
    /// - Returns: `false` when the node is no longer in the cluster: its lease ran out and another node removed it
    ///   (with its nicks). The node must then drop its users and join again.
    public func renewLease(node id: String, lease: Duration) async throws -> Bool {
        try await self.run("renewing the lease of node \(id)") {
            let rows = try await self.client.query(
                PostgresQuery(
                    unsafeSQL:
                        "UPDATE cluster_nodes SET lease_until = \(Self.now) + $2 WHERE node_id = $1 RETURNING node_id",
                    binds: Self.binds(id, Self.milliseconds(lease))
                ),
                logger: self.logger
            )
            return try await rows.collect().count == 1
        }
    }

    /// Removes every node whose lease has run out, and with it its nick claims.
    /// - Returns: The ids of the nodes removed, for the caller to quit their users.
    public func removeExpiredNodes() async throws -> [String] {
        try await self.strings(
            "removing lost nodes",
            PostgresQuery(
                unsafeSQL: """
                    WITH lost AS (DELETE FROM cluster_nodes WHERE lease_until < \(Self.now) RETURNING node_id)
                    SELECT node_id FROM lost
                    CROSS JOIN LATERAL pg_notify('\(PostgresSchema.messagesChannel)', 'x ' || lost.node_id) AS told
                    """
            )
        ).sorted()
    }

    /// Leaves the cluster at once (a clean shutdown): its nicks become free.
    public func leaveCluster(node id: String) async throws {
        try await self.run("removing node \(id)") {
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH gone AS (DELETE FROM cluster_nodes WHERE node_id = $1 RETURNING node_id)
                        SELECT pg_notify('\(PostgresSchema.messagesChannel)', 'l ' || node_id) FROM gone
                        """,
                    binds: Self.binds(id)
                ),
                logger: self.logger
            )
        }
    }

    public func clusterNodes() async throws -> [ClusterNode] {
        try await self.run("listing nodes") {
            var nodes: [ClusterNode] = []
            let rows = try await self.client.query(
                "SELECT node_id, started_at, lease_until FROM cluster_nodes ORDER BY node_id",
                logger: self.logger
            )
            for try await (id, startedAt, leaseUntil) in rows.decode((String, Int64, Int64).self) {
                nodes.append(ClusterNode(id: id, startedAt: startedAt, leaseUntil: leaseUntil))
            }
            return nodes
        }
    }

    /// The nodes whose lease has not run out, each with the address its users may reconnect to (`HOST PORT`, or
    /// empty when it gave none).
    public func liveNodeAddresses() async throws -> [String: String] {
        try await self.run("listing nodes") {
            let rows = try await self.client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT node_id, address FROM cluster_nodes WHERE lease_until >= \(Self.now)"
                ),
                logger: self.logger
            )
            var nodes: [String: String] = [:]
            for try await (node, address) in rows.decode((String, String).self) { nodes[node] = address }
            return nodes
        }
    }

    /// Claims the (case-mapped) nick `folded` for a user on node `node`. The primary key makes this once across the
    /// cluster: two nodes can never give out the same nick.
    /// - Parameter respectingHolds: Whether a hold for the nick's owner (``holdNick(_:forSeconds:)``) refuses the
    ///   claim: true for a client not logged in to the account of that name.
    /// - Returns: `false` when another node holds it (or it is held for its owner); `true` when this node got it or
    ///   already held it (the node keeps one claim per nick, however many of its own sessions use it).
    public func claimNick(
        _ folded: String,
        display: String,
        node: String,
        respectingHolds: Bool = false
    ) async throws -> Bool {
        try await self.run("claiming nick \(display)") {
            let held =
                respectingHolds ? "EXISTS (SELECT 1 FROM nick_holds WHERE nick = $1 AND until > \(Self.now))" : "false"
            let rows = try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH claimed AS (
                            INSERT INTO cluster_nicks (nick, node_id, display, claimed_at)
                            SELECT $1, $2, $3, \(Self.now) WHERE NOT \(held)
                            ON CONFLICT (nick) DO UPDATE SET display = excluded.display
                                WHERE cluster_nicks.node_id = excluded.node_id
                            RETURNING nick
                        )
                        SELECT nick, pg_notify('\(PostgresSchema.messagesChannel)', '+ ' || $2 || ' ' || $1 || ' ' || $3) FROM claimed
                        """,
                    binds: Self.binds(folded, node, display)
                ),
                logger: self.logger
            )
            return try await rows.collect().count == 1
        }
    }

    /// Holds the registered nick `folded` for its owner for `seconds` (in the database's clock): claims that respect
    /// holds are refused meanwhile, on every node.
    public func holdNick(_ folded: String, forSeconds seconds: Int64) async throws {
        try await self.run("holding nick \(folded)") {
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO nick_holds (nick, until) VALUES ($1, \(Self.now) + $2 * 1000)
                        ON CONFLICT (nick) DO UPDATE SET until = greatest(nick_holds.until, excluded.until)
                        """,
                    binds: Self.binds(folded, seconds)
                ),
                logger: self.logger
            )
        }
    }

    /// Gives a nick back (its user left or changed nick). Only the node holding it can.
    public func releaseNick(_ folded: String, node: String) async throws {
        try await self.run("releasing nick \(folded)") {
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH released AS (DELETE FROM cluster_nicks WHERE nick = $1 AND node_id = $2 RETURNING nick)
                        SELECT pg_notify('\(PostgresSchema.messagesChannel)', '- ' || $2 || ' ' || nick) FROM released
                        """,
                    binds: Self.binds(folded, node)
                ),
                logger: self.logger
            )
        }
    }

    /// Wakes every node listening with `payload`, outside any transaction: nothing is stored.
    public func signal(_ payload: String) async throws {
        try await self.run("passing on a signal") {
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT pg_notify('\(PostgresSchema.messagesChannel)', $1)",
                    binds: Self.binds(payload)
                ),
                logger: self.logger
            )
        }
    }

    /// Every nick claimed in the cluster, with the node holding it.
    public func clusterNicks() async throws -> [ClusterNick] {
        try await self.run("listing nicks") {
            var nicks: [ClusterNick] = []
            let rows = try await self.client.query(
                "SELECT nick, display, node_id FROM cluster_nicks ORDER BY nick",
                logger: self.logger
            )
            for try await (nick, display, node) in rows.decode((String, String, String).self) {
                nicks.append(ClusterNick(nick: nick, display: display, node: node))
            }
            return nicks
        }
    }

    /// The node holding nick `folded`, if any.
    public func nickHolder(_ folded: String) async throws -> String? {
        try await self.strings(
            "finding who holds \(folded)",
            "SELECT node_id FROM cluster_nicks WHERE nick = \(folded)"
        )
        .first
    }

    /// Each target's head: the number of its newest message (targets without messages are left out).
    public func heads(of targets: [String]) async throws -> [String: Int64] {
        var statement = Statement()
        let sql = "SELECT target, sequence FROM target_heads WHERE target = ANY(\(try statement.bindArray(targets)))"
        return try await self.run("reading heads") {
            var heads: [String: Int64] = [:]
            let rows = try await self.client.query(statement.query(sql), logger: self.logger)
            for try await (target, sequence) in rows.decode((String, Int64).self) { heads[target] = sequence }
            return heads
        }
    }

    /// Says which run of node `id` is alive: the part of its message ids before the counter (`NODE.RUN`).
    /// With it, where the node's users may reconnect (`HOST PORT`, or empty).
    public func announceRun(node id: String, run: String, address: String = "") async throws {
        try await self.run("announcing the run of node \(id)") {
            try await self.client.query(
                "UPDATE cluster_nodes SET run = \(run), address = \(address) WHERE node_id = \(id)",
                logger: self.logger
            )
        }
    }

    /// The runs (`NODE.RUN`) of the nodes whose lease has not run out.
    public func liveRuns() async throws -> Set<String> {
        Set(
            try await self.strings(
                "listing live runs",
                PostgresQuery(unsafeSQL: "SELECT run FROM cluster_nodes WHERE lease_until >= \(Self.now) AND run <> ''")
            )
        )
    }

    /// The channel events (JOIN, PART, KICK, QUIT, NICK, TOPIC, MODE, AWAY) of `targets` numbered up to their heads,
    /// in order within each target: what a starting node replays to learn who is in each channel, who of them is
    /// away, and the channel's topic and modes.
    public func channelEvents(upTo heads: [String: Int64]) async throws -> [StoredMessage] {
        let targets = heads.keys.sorted()
        guard !targets.isEmpty else { return [] }
        var statement = Statement()
        let sql =
            "SELECT \(Self.columns) FROM messages JOIN unnest(\(try statement.bindArray(targets)), "
            + "\(try statement.bindArray(targets.map { heads[$0]! }))) AS head(target, last) USING (target) "
            + "WHERE target_sequence <= head.last AND command IN ('JOIN', 'PART', 'KICK', 'QUIT', 'NICK', 'TOPIC', "
            + "'MODE', 'AWAY') ORDER BY target, target_sequence"
        return try await self.run("reading channel events") {
            var events: [StoredMessage] = []
            for try await row in try await self.client.query(statement.query(sql), logger: self.logger) {
                events.append(try Self.storedMessage(row))
            }
            return events
        }
    }

    /// Every target's head.
    public func allHeads() async throws -> [String: Int64] {
        try await self.run("reading heads") {
            var heads: [String: Int64] = [:]
            let rows = try await self.client.query("SELECT target, sequence FROM target_heads", logger: self.logger)
            for try await (target, sequence) in rows.decode((String, Int64).self) { heads[target] = sequence }
            return heads
        }
    }

    /// Up to `limit` messages of `target` numbered after `number`, in order, each with its number.
    public func messages(
        in target: String,
        after number: Int64,
        limit: Int
    ) async throws -> [(number: Int64, message: StoredMessage)] {
        try await self.messages(after: [target: number], limit: limit)
    }

    /// Up to `limit` messages of each target numbered after the number given for it, each with its number, in each
    /// target's order and otherwise in the order they were stored: what a node reads when woken, or to catch up after missing notifications. One round
    /// trip however many targets moved.
    public func messages(
        after numbers: [String: Int64],
        limit: Int
    ) async throws -> [(number: Int64, message: StoredMessage)] {
        guard !numbers.isEmpty else { return [] }
        let targets = Array(numbers.keys)
        var statement = Statement()
        let sql =
            "SELECT page.* FROM unnest(\(try statement.bindArray(targets)), "
            + "\(try statement.bindArray(targets.map { numbers[$0]! }))) AS seen (target, last) "
            + "CROSS JOIN LATERAL (SELECT \(Self.columns), target_sequence FROM messages "
            + "WHERE messages.target = seen.target AND target_sequence > seen.last ORDER BY target_sequence LIMIT "
            + "\(statement.bind(Int64(max(limit, 0))))) AS page ORDER BY page.sequence"
        let found = try await self.run("reading new messages of \(targets.count) targets") {
            var found: [(number: Int64, message: StoredMessage)] = []
            for try await row in try await self.client.query(statement.query(sql), logger: self.logger) {
                found.append(
                    (try row.makeRandomAccess()["target_sequence"].decode(Int64.self), try Self.storedMessage(row))
                )
            }
            return found
        }
        // A target's own numbers are its order (rows numbered by migration 2 may have been inserted in another
        // order); among targets, the order they were inserted in.
        let byTarget = Dictionary(grouping: found, by: \.message.target).mapValues {
            $0.sorted { $0.number < $1.number }
        }
        var next: [String: Int] = [:]
        return found.map { row in
            defer { next[row.message.target, default: 0] += 1 }
            return byTarget[row.message.target]![next[row.message.target, default: 0]]
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private static func binds(_ text: String, _ number: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(text)
        binds.append(number)
        return binds
    }

    private static func binds(_ values: String...) -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }
}
