import ParleyStore
import PostgresNIO

/// A statement whose placeholders are numbered as values are bound.
struct Statement {
    var binds = PostgresBindings()

    /// Binds `value` and returns its placeholder.
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        self.binds.append(value)
        return "$\(self.binds.count)"
    }

    mutating func bindArray<Element: PostgresArrayEncodable>(_ values: [Element]) throws -> String {
        try self.binds.append(values)
        return "$\(self.binds.count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: self.binds)
    }
}

extension PostgresStore {
    public func append(_ messages: [StoredMessage]) async throws {
        // A rename order (``StoredMessage/renameCommand``) splits the batch: what came before it is stored and moved,
        // what came after is stored under the new key.
        var start = messages.startIndex
        for (index, order) in messages.enumerated() {
            guard let newTarget = order.renamedTo else { continue }
            _ = try await self.appendNumbered(Array(messages[start..<index]))
            try await self.moveHistory(from: order.target, to: newTarget)
            start = index + 1
        }
        _ = try await self.appendNumbered(Array(messages[start...]))
    }

    /// A channel renamed: its rows, their numbering (the head) and the read markers take the new key; what an
    /// ended channel of the new name left is deleted.
    private func moveHistory(from oldTarget: String, to newTarget: String) async throws {
        try await self.run("moving a renamed channel's history") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                for (table, column) in [("messages", "target"), ("target_heads", "target"), ("read_markers", "target")]
                {
                    var gone = Statement()
                    let delete = "DELETE FROM \(table) WHERE \(column) = \(gone.bind(newTarget))"
                    _ = try await connection.query(gone.query(delete), logger: self.logger)
                    var moved = Statement()
                    let update =
                        "UPDATE \(table) SET \(column) = \(moved.bind(newTarget)) WHERE \(column) = \(moved.bind(oldTarget))"
                    _ = try await connection.query(moved.query(update), logger: self.logger)
                }
            }
        }
    }

    /// Stores `messages` in one transaction, numbering each within its target (see ``PostgresSchema``); in cluster
    /// mode the commit notifies the other nodes of each target's new head.
    /// - Returns: Each target's head after the commit.
    @discardableResult
    public func appendNumbered(_ messages: [StoredMessage]) async throws -> [String: Int64] {
        guard !messages.isEmpty else { return [:] }
        var counts: [String: Int64] = [:]
        for message in messages { counts[message.target, default: 0] += 1 }
        // Sorted, so concurrent batches lock their targets' rows in the same order and cannot deadlock.
        let targets = counts.keys.sorted()
        var heads = Statement()
        let headSQL =
            "INSERT INTO target_heads (target, sequence) SELECT * FROM unnest("
            + "\(try heads.bindArray(targets)), \(try heads.bindArray(targets.map { counts[$0]! }))) "
            + "ON CONFLICT (target) DO UPDATE SET sequence = target_heads.sequence + excluded.sequence "
            + "RETURNING target, sequence"
        let waiting = messages.filter { $0.deliverTo != nil }
        var deliveries = Statement()
        // A DM is stored once per party, under the same msgid: the row is the one of the copy to hand over.
        let deliverySQL =
            "INSERT INTO pending_deliveries (account, sequence) SELECT d.account, m.sequence FROM unnest("
            + "\(try deliveries.bindArray(waiting.map { $0.deliverTo ?? "" })), "
            + "\(try deliveries.bindArray(waiting.map(\.msgid))), \(try deliveries.bindArray(waiting.map(\.target)))) "
            + "AS d (account, msgid, target) JOIN messages m ON m.msgid = d.msgid AND m.target = d.target"
        let notify = self.notifiesOtherNodes
        let transaction: @Sendable () async throws -> [String: Int64] = { [heads, deliveries, counts] in
            try await self.client.withTransaction(logger: self.logger) { connection in
                var head: [String: Int64] = [:]
                for try await (target, sequence) in try await connection.query(
                    heads.query(headSQL),
                    logger: self.logger
                ).decode((String, Int64).self) {
                    head[target] = sequence
                }
                // Number the batch: each target continues from where its head stood before this batch.
                var next = head
                for (target, count) in counts { next[target, default: count] -= count }
                var numbers: [Int64] = []
                numbers.reserveCapacity(messages.count)
                for message in messages {
                    next[message.target, default: 0] += 1
                    numbers.append(next[message.target]!)
                }
                var insert = Statement()
                let columns = [
                    try insert.bindArray(messages.map(\.msgid)), try insert.bindArray(messages.map(\.target)),
                    try insert.bindArray(messages.map(\.time)), try insert.bindArray(messages.map(\.sender)),
                    try insert.bindArray(messages.map { $0.account ?? "" }),
                    try insert.bindArray(messages.map(\.command)), try insert.bindArray(messages.map(\.recipient)),
                    try insert.bindArray(messages.map(\.text)), try insert.bindArray(messages.map(\.tags)),
                    try insert.bindArray(numbers),
                ]
                let sql =
                    "INSERT INTO messages (msgid, target, time, sender, account, command, recipient, text, tags, "
                    + "target_sequence) SELECT m, t, ti, s, NULLIF(a, ''), c, r, x, g, n FROM unnest("
                    + columns.joined(separator: ", ") + ") AS batch (m, t, ti, s, a, c, r, x, g, n)"
                try await connection.query(insert.query(sql), logger: self.logger)
                if !waiting.isEmpty {
                    try await connection.query(deliveries.query(deliverySQL), logger: self.logger)
                }
                if notify {
                    var notice = Statement()
                    let noticeSQL =
                        "SELECT pg_notify('\(PostgresSchema.messagesChannel)', p) FROM unnest("
                        + "\(try notice.bindArray(ClusterFeed.payloads(messages: messages, numbers: numbers, heads: head)))) "
                        + "AS p"
                    try await connection.query(notice.query(noticeSQL), logger: self.logger)
                }
                return head
            }
        }
        return try await self.run("storing \(messages.count) messages") {
            // A connection that broke (the server shut down or restarted) leaves the commit unknown: once the
            // database answers again, a batch whose messages are there was committed, and one that is not is stored
            // again. The batch's senders wait meanwhile, as for any slow commit.
            var attempt = 1
            var uncertain = false
            while true {
                do {
                    if uncertain, let heads = try await self.headsIfStored(messages) { return heads }
                    return try await withDeadline(self.attemptDeadline, transaction)
                } catch  where uncertain && Self.sqlState(of: error) == "23505" {
                    // An attempt given up for lost committed after all, just before this one.
                    if let heads = try await self.headsIfStored(messages) { return heads }
                    throw error
                } catch  where attempt < Self.storeAttempts && Self.isConnectionLoss(error) {
                    self.logger.warning(
                        "storing \(messages.count) messages: the connection broke (\(Self.describe(error))); trying again"
                    )
                    attempt += 1
                    uncertain = true
                    try await Task.sleep(for: .milliseconds(250 * attempt))
                }
            }
        }
    }

    /// How many times a batch is tried when connections break under it.
    static let storeAttempts = 5

    /// Each target's head after `messages` were committed, or `nil` when they were not (a batch is all or nothing).
    func headsIfStored(_ messages: [StoredMessage]) async throws -> [String: Int64]? {
        var statement = Statement()
        let sql =
            "SELECT target, max(target_sequence) FROM messages WHERE (msgid, target) IN (SELECT * FROM unnest("
            + "\(try statement.bindArray(messages.map(\.msgid))), \(try statement.bindArray(messages.map(\.target)))"
            + ")) GROUP BY target"
        var heads: [String: Int64] = [:]
        for try await (target, head) in try await self.client.query(statement.query(sql), logger: self.logger)
            .decode((String, Int64).self)
        {
            heads[target] = head
        }
        return heads.isEmpty ? nil : heads
    }

    static let columns = "msgid, target, time, sender, account, command, recipient, text, tags, sequence"

    func select(
        _ condition: String,
        _ statement: Statement,
        order: String,
        limit: Int
    ) async throws
        -> [StoredMessage]
    {
        var statement = statement
        let sql =
            "SELECT \(Self.columns) FROM messages WHERE \(condition) ORDER BY \(order) LIMIT "
            + statement.bind(Int64(max(limit, 0)))
        return try await self.messages(statement.query(sql))
    }

    func messages(_ query: PostgresQuery) async throws -> [StoredMessage] {
        try await self.run("reading history") {
            var messages: [StoredMessage] = []
            for try await row in try await self.client.query(query, logger: self.logger) {
                messages.append(try Self.storedMessage(row))
            }
            return messages
        }
    }

    /// A row of ``columns`` as a message.
    static func storedMessage(_ row: PostgresRow) throws -> StoredMessage {
        let columns = row.makeRandomAccess()
        return StoredMessage(
            msgid: try columns["msgid"].decode(String.self),
            target: try columns["target"].decode(String.self),
            time: try columns["time"].decode(Int64.self),
            sender: try columns["sender"].decode(String.self),
            account: try columns["account"].decode(String?.self),
            command: try columns["command"].decode(String.self),
            recipient: try columns["recipient"].decode(String.self),
            text: try columns["text"].decode(String.self),
            tags: try columns["tags"].decode(String.self),
            sequence: try columns["sequence"].decode(Int64.self)
        )
    }

    public func position(of msgid: String, in target: String) async throws -> HistoryPosition? {
        try await self.run("finding a message") {
            let rows = try await self.client.query(
                "SELECT time, sequence FROM messages WHERE target = \(target) AND msgid = \(msgid)",
                logger: self.logger
            )
            guard let (time, sequence) = try await Self.first(rows.decode((Int64, Int64).self)) else { return nil }
            return HistoryPosition(time: time, sequence: sequence)
        }
    }

    public func sender(of msgid: String, in target: String) async throws -> (account: String?, sender: String)? {
        try await self.run("finding a message's sender") {
            let rows = try await self.client.query(
                "SELECT account, sender FROM messages WHERE target = \(target) AND msgid = \(msgid)",
                logger: self.logger
            )
            guard let (account, sender) = try await Self.first(rows.decode((String?, String).self)) else { return nil }
            return (account, sender)
        }
    }

    public func delete(_ msgid: String, in targets: [String]) async throws -> Int {
        guard !targets.isEmpty else { return 0 }
        var statement = Statement()
        let sql =
            "DELETE FROM messages WHERE msgid = \(statement.bind(msgid)) AND target = ANY("
            + (try statement.bindArray(targets)) + ") RETURNING 1"
        return try await self.run("deleting a message") {
            try await self.client.query(statement.query(sql), logger: self.logger).collect().count
        }
    }

    public func read(_ range: HistoryRange) async throws -> [StoredMessage] {
        // Row values keep the scan on the (target, time, sequence) index.
        var statement = Statement()
        var condition = "target = \(statement.bind(range.target))"
        if let after = range.after {
            condition += " AND (time, sequence) > (\(statement.bind(after.time)), \(statement.bind(after.sequence)))"
        }
        if let before = range.before {
            condition += " AND (time, sequence) < (\(statement.bind(before.time)), \(statement.bind(before.sequence)))"
        }
        condition += Self.filter(range.events)
        switch range.nearest {
        case .after:
            return try await self.select(condition, statement, order: "time ASC, sequence ASC", limit: range.limit)
        case .before:
            return try await self.select(condition, statement, order: "time DESC, sequence DESC", limit: range.limit)
                .reversed()
        }
    }

    /// The extra condition that leaves out channel events, or only what is never history: a cluster logs AWAY so
    /// its nodes learn it, and the end of a channel's incarnation is an ENDED row. Filtered here, before the limit,
    /// so a page holds as many lines as were asked for.
    static func filter(_ events: Bool) -> String {
        events ? " AND command NOT IN ('AWAY', 'ENDED')" : " AND command IN ('PRIVMSG', 'NOTICE', 'TAGMSG')"
    }
}
