import SQLiteNIO

/// Offline deliveries, read markers and search.
extension SQLiteStore {
    public func pendingDeliveries(for account: String) async throws -> [StoredMessage] {
        try await self.gate.run {
            try await self.select(
                "sequence IN (SELECT sequence FROM pending_deliveries WHERE account = ?)",
                [.text(account)],
                order: "time ASC, sequence ASC",
                limit: 10_000
            )
        }
    }

    public func acknowledgeDeliveries(for account: String, through sequence: Int64) async throws {
        try await self.gate.run {
            _ = try await self.connection.query(
                "DELETE FROM pending_deliveries WHERE account = ? AND sequence <= ?",
                [.text(account), .integer(Int(sequence))]
            )
        }
    }

    public func channelEnds() async throws -> [String: Int64] {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT target, max(time) AS ended FROM messages WHERE command = 'ENDED' GROUP BY target"
            )
            var ends: [String: Int64] = [:]
            for row in rows {
                guard let target = row.column("target")?.string, let time = row.column("ended")?.integer else {
                    continue
                }
                ends[target] = Int64(time)
            }
            return ends
        }
    }

    public func search(_ query: SearchQuery) async throws -> [StoredMessage] {
        try await self.gate.run {
            var places: [String] = []
            var binds: [SQLiteData] = []
            if !query.targets.isEmpty {
                places.append(
                    "target IN (\(Array(repeating: "?", count: query.targets.count).joined(separator: ", ")))"
                )
                binds += query.targets.map { .text($0) }
            }
            if let owner = query.directFor {
                let (condition, directBinds) = Self.directConversations(of: owner)
                places.append(condition)
                binds += directBinds
            }
            guard !places.isEmpty else { return [] }
            var conditions = ["(" + places.joined(separator: " OR ") + ")", "command IN ('PRIVMSG', 'NOTICE')"]
            if let sender = query.sender {
                // The sender is stored as nick!user@host; ASCII case folding is what lower() does.
                conditions.append("lower(substr(sender, 1, instr(sender, '!') - 1)) = ?")
                binds.append(.text(sender))
            }
            if let text = query.text, let match = Self.ftsQuery(text) {
                conditions.append("sequence IN (SELECT rowid FROM messages_text WHERE messages_text MATCH ?)")
                binds.append(.text(match))
            }
            if let after = query.after {
                conditions.append("time > ?")
                binds.append(.integer(Int(after)))
            }
            if let before = query.before {
                conditions.append("time < ?")
                binds.append(.integer(Int(before)))
            }
            return try await self.select(
                conditions.joined(separator: " AND "),
                binds,
                order: "time DESC, sequence DESC",
                limit: query.limit
            ).reversed()
        }
    }

    /// Every word as a quoted FTS5 string, so user text can never be read as query syntax.
    static func ftsQuery(_ text: String) -> String? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard !words.isEmpty else { return nil }
        return words.map { word in
            var quoted = "\""
            for character in word {
                if character == "\"" { quoted.append("\"") }
                quoted.append(character)
            }
            return quoted + "\""
        }.joined(separator: " ")
    }

    /// The read marker of `account` for `target` (milliseconds since 1970), if any.
    public func readMarker(account: String, target: String) async throws -> Int64? {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT time FROM read_markers WHERE account = ? AND target = ?",
                [.text(account), .text(target)]
            )
            return rows.first?.column("time")?.integer.map(Int64.init)
        }
    }

    /// Moves the marker forward (never back); returns the marker as stored afterwards.
    public func setReadMarker(account: String, target: String, time: Int64) async throws -> Int64 {
        try await self.gate.run {
            _ = try await self.connection.query(
                "INSERT INTO read_markers (account, target, time) VALUES (?, ?, ?) "
                    + "ON CONFLICT (account, target) DO UPDATE SET time = max(time, excluded.time)",
                [.text(account), .text(target), .integer(Int(time))]
            )
            return try await self.readMarker(account: account, target: target) ?? time
        }
    }
}

extension SQLiteStore {
    /// Deletes messages older than `cutoff` (ms since 1970) and, per target, all but the newest `keepPerTarget`.
    /// - Returns: How many messages were deleted.
    public func prune(olderThan cutoff: Int64?, keepPerTarget: Int?) async throws -> Int {
        try await self.gate.run {
            let before = try await self.countMessages()
            if let cutoff {
                _ = try await self.connection.query("DELETE FROM messages WHERE time < ?", [.integer(Int(cutoff))])
            }
            if let keepPerTarget {
                _ = try await self.connection.query(
                    """
                    DELETE FROM messages WHERE sequence IN (
                        SELECT sequence FROM (
                            SELECT sequence,
                                row_number() OVER (PARTITION BY target ORDER BY time DESC, sequence DESC) AS position
                            FROM messages
                        ) WHERE position > ?
                    )
                    """,
                    [.integer(keepPerTarget)]
                )
            }
            return before - (try await self.countMessages())
        }
    }
}
