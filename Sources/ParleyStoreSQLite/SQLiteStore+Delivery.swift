import ParleyStore
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
    /// Rows looked at or deleted per transaction while pruning. The history writer waits for the same connection, so
    /// each step must be short: a few hundred rows with their search-index entries is a few milliseconds, and the
    /// writer's batches go in between.
    static let pruneStep = 500

    /// Deletes messages older than `cutoff` (ms since 1970) and, per target, all but the newest `keepPerTarget`, in
    /// small steps so that retention never holds up new messages for long.
    /// - Returns: How many messages were deleted.
    public func prune(olderThan cutoff: Int64?, keepPerTarget: Int?) async throws -> Int {
        var deleted = 0
        if let cutoff { deleted += try await self.prune(olderThan: cutoff) }
        if let keepPerTarget {
            let targets = try await self.gate.run {
                try await self.connection.query("SELECT DISTINCT target FROM messages").compactMap {
                    $0.column("target")?.string
                }
            }
            for target in targets { deleted += try await self.prune(target, keeping: keepPerTarget) }
        }
        return deleted
    }

    /// Walks the table from its oldest rows in windows of ``pruneStep`` sequences, deleting what is older than
    /// `cutoff`, and stops at the first window with nothing that old (times grow with sequences, give or take a
    /// clock's skew between cluster nodes; a straggler goes in a later run).
    private func prune(olderThan cutoff: Int64) async throws -> Int {
        var deleted = 0
        var after = 0
        while true {
            let (window, count) = try await self.gate.run { () async throws -> (Int?, Int) in
                let rows = try await self.connection.query(
                    "SELECT max(sequence) AS last, min(time) AS oldest FROM "
                        + "(SELECT sequence, time FROM messages WHERE sequence > ? ORDER BY sequence LIMIT ?)",
                    [.integer(after), .integer(Self.pruneStep)]
                )
                guard let last = rows.first?.column("last")?.integer,
                    let oldest = rows.first?.column("oldest")?.integer, Int64(oldest) < cutoff
                else { return (nil, 0) }
                _ = try await self.connection.query(
                    "DELETE FROM messages WHERE sequence > ? AND sequence <= ? AND time < ?",
                    [.integer(after), .integer(last), .integer(Int(cutoff))]
                )
                return (last, try await self.changes())
            }
            guard let window else { return deleted }
            deleted += count
            after = window
        }
    }

    /// Deletes all but the newest `keep` messages of `target`, ``pruneStep`` at a time (through the target's index).
    private func prune(_ target: String, keeping keep: Int) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await self.gate.run {
                _ = try await self.connection.query(
                    """
                    DELETE FROM messages WHERE sequence IN (
                        SELECT sequence FROM messages WHERE target = ?
                        ORDER BY time DESC, sequence DESC LIMIT ? OFFSET ?
                    )
                    """,
                    [.text(target), .integer(Self.pruneStep), .integer(keep)]
                )
                return try await self.changes()
            }
            deleted += count
            if count < Self.pruneStep { return deleted }
        }
    }

    /// Rows changed by the last statement on the connection (call inside the gate, right after it).
    func changes() async throws -> Int {
        let rows = try await self.connection.query("SELECT changes() AS n")
        return Int(rows.first?.column("n")?.integer ?? 0)
    }
}
