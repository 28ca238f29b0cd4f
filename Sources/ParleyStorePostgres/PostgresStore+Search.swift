import ParleyCore
import ParleyStore
import PostgresNIO

/// Offline deliveries, search, retention and the conversation list.
extension PostgresStore {
    public func pendingDeliveries(for account: String) async throws -> [StoredMessage] {
        try await self.run("reading offline deliveries") {
            try await self.messages(
                """
                SELECT msgid, target, time, sender, account, command, recipient, text, tags, sequence FROM messages
                WHERE sequence IN (SELECT sequence FROM pending_deliveries WHERE account = \(account))
                ORDER BY time ASC, sequence ASC LIMIT 10000
                """
            )
        }
    }

    public func acknowledgeDeliveries(for account: String, through sequence: Int64) async throws {
        try await self.run("acknowledging offline deliveries") {
            try await self.client.query(
                "DELETE FROM pending_deliveries WHERE account = \(account) AND sequence <= \(sequence)",
                logger: self.logger
            )
        }
    }

    /// The condition matching `owner`'s copies of direct conversations: one range of the (target, time, sequence)
    /// index.
    static func directConversations(of owner: String, _ statement: inout Statement) -> String {
        let range = HistoryTarget.conversations(of: owner)
        let low = statement.bind(range.from)
        let high = statement.bind(range.upTo)
        return "(target >= \(low) AND target < \(high))"
    }

    public func channelEnds() async throws -> [String: Int64] {
        try await self.run("reading where channels ended") {
            var ends: [String: Int64] = [:]
            let rows = try await self.client.query(
                "SELECT target, max(time) FROM messages WHERE command = 'ENDED' GROUP BY target",
                logger: self.logger
            )
            for try await (target, time) in rows.decode((String, Int64).self) { ends[target] = time }
            return ends
        }
    }

    public func search(_ query: SearchQuery) async throws -> [StoredMessage] {
        var statement = Statement()
        var places: [String] = []
        if !query.targets.isEmpty {
            places.append("target = ANY(\(try statement.bindArray(query.targets)))")
        }
        if let owner = query.directFor {
            places.append(Self.directConversations(of: owner, &statement))
        }
        guard !places.isEmpty else { return [] }
        var conditions = ["(" + places.joined(separator: " OR ") + ")", "command IN ('PRIVMSG', 'NOTICE')"]
        if let sender = query.sender {
            // The sender is stored as nick!user@host; the nick is compared folded, as the server folds it.
            conditions.append("lower(split_part(sender, '!', 1)) = \(statement.bind(sender))")
        }
        if let text = query.text, !text.split(whereSeparator: { $0 == " " || $0 == "\t" }).isEmpty {
            // plainto_tsquery reads user text as words joined by AND, never as query syntax.
            conditions.append("words @@ plainto_tsquery('simple', \(statement.bind(text)))")
        }
        if let after = query.after {
            conditions.append("time > \(statement.bind(after))")
        }
        if let before = query.before {
            conditions.append("time < \(statement.bind(before))")
        }
        return try await self.select(
            conditions.joined(separator: " AND "),
            statement,
            order: "time DESC, sequence DESC",
            limit: query.limit
        ).reversed()
    }

    public func prune(olderThan cutoff: Int64?, keepPerTarget: Int?) async throws -> Int {
        try await self.run("pruning history") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                var deleted = 0
                if let cutoff {
                    let rows = try await connection.query(
                        "DELETE FROM messages WHERE time < \(cutoff) RETURNING 1",
                        logger: self.logger
                    )
                    deleted += try await rows.collect().count
                }
                if let keepPerTarget {
                    let rows = try await connection.query(
                        """
                        DELETE FROM messages WHERE sequence IN (
                            SELECT sequence FROM (
                                SELECT sequence, row_number() OVER (
                                    PARTITION BY target ORDER BY time DESC, sequence DESC) AS position
                                FROM messages
                            ) AS ranked WHERE position > \(keepPerTarget)
                        ) RETURNING 1
                        """,
                        logger: self.logger
                    )
                    deleted += try await rows.collect().count
                }
                return deleted
            }
        }
    }

    public func targets(
        channels: [String],
        directFor owner: String,
        from: Int64,
        to: Int64,
        limit: Int
    ) async throws -> [(target: String, time: Int64)] {
        var statement = Statement()
        var conditions = [Self.directConversations(of: owner, &statement)]
        if !channels.isEmpty {
            conditions.append("target = ANY(\(try statement.bindArray(channels)))")
        }
        let sql =
            "SELECT target, max(time) AS latest FROM messages WHERE time > \(statement.bind(from)) AND time < "
            + statement.bind(to) + Self.filter(false) + " AND (" + conditions.joined(separator: " OR ")
            + ") GROUP BY target ORDER BY latest ASC LIMIT " + statement.bind(Int64(max(limit, 0)))
        return try await self.run("listing conversations") {
            var found: [(target: String, time: Int64)] = []
            let rows = try await self.client.query(statement.query(sql), logger: self.logger)
            for try await (target, time) in rows.decode((String, Int64).self) {
                found.append((target, time))
            }
            return found
        }
    }
}
