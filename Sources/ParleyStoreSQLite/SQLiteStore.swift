import Foundation
import Logging
import NIOCore
import NIOPosix
import ParleyCore
import ParleyStore
import SQLiteNIO

/// The embedded store: one SQLite database file in WAL mode (`data-dir/parley.sqlite`), nothing to install.
///
/// Every call runs on NIO's thread pool (sqlite-nio), never on an event loop.
public final class SQLiteStore: ParleyStorage {
    let connection: SQLiteConnection
    /// One operation at a time on the connection (see ``SerialGate``).
    let gate = SerialGate()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// - Throws: ``StoreError`` when the file cannot be opened or its schema is newer than this binary knows.
    public static func open(path: String, logger: Logger = Logger(label: "parley.store")) async throws -> SQLiteStore {
        // Private messages live here: only the server's user may read the file. SQLite gives its -wal and -shm
        // files the database file's permissions.
        let files = FileManager.default
        if !files.fileExists(atPath: path) {
            _ = files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        } else {
            try? files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError("cannot open the database \(path): \(error)")
        }
        let store = SQLiteStore(connection: connection)
        do {
            // WAL: readers do not block the writer; NORMAL sync is durable at each commit in WAL mode except on
            // power loss, and survives a killed process (what the crash test checks).
            _ = try await connection.query("PRAGMA journal_mode = WAL")
            _ = try await connection.query("PRAGMA synchronous = NORMAL")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            try await store.migrate()
        } catch {
            try? await connection.close()
            throw error
        }
        return store
    }

    public func close() async throws {
        try await self.gate.run {
            try await self.connection.close()
        }
    }

    /// How many messages the database holds.
    public func countMessages() async throws -> Int {
        try await self.gate.run {
            let rows = try await self.connection.query("SELECT count(*) AS n FROM messages")
            return Int(rows.first?.column("n")?.integer ?? 0)
        }
    }

    public func check() async throws {
        _ = try await self.schemaVersion()
    }

    /// The schema version the database is at.
    public func schemaVersion() async throws -> Int {
        try await self.gate.run {
            let rows = try await self.connection.query("PRAGMA user_version")
            return Int(rows.first?.column("user_version")?.integer ?? 0)
        }
    }

    /// Opens the database at `path` and migrates it only up to `version`: for tests that build a database as an
    /// older binary left it.
    public static func open(path: String, upToVersion version: Int) async throws -> SQLiteStore {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        let store = SQLiteStore(connection: connection)
        do {
            try await store.migrate(to: version)
        } catch {
            try? await connection.close()
            throw error
        }
        return store
    }

    func migrate(to target: Int = SQLiteSchema.latestVersion) async throws {
        let current = try await self.schemaVersion()
        if current > SQLiteSchema.latestVersion {
            throw StoreError(
                "the database has schema version \(current), newer than this Parley knows "
                    + "(\(SQLiteSchema.latestVersion)); use a newer parley-server or another --data-dir"
            )
        }
        guard current < target else { return }
        // A migration that rebuilds a table drops the old one: with foreign keys on, that would delete the rows
        // that refer to it (offline deliveries). The setting cannot change inside a transaction, so it is off for
        // the migrations and on again after them.
        _ = try await self.connection.query("PRAGMA foreign_keys = OFF")
        do {
            for version in (current + 1)...target { try await self.apply(migration: version) }
        } catch {
            _ = try? await self.connection.query("PRAGMA foreign_keys = ON")
            throw error
        }
        _ = try await self.connection.query("PRAGMA foreign_keys = ON")
    }

    private func apply(migration version: Int) async throws {
        _ = try await self.connection.query("BEGIN IMMEDIATE")
        do {
            for statement in SQLiteSchema.migrations[version - 1] {
                _ = try await self.connection.query(statement)
            }
            // What the migration left must still hold together (PRAGMA foreign_key_check reports what does not).
            let broken = try await self.connection.query("PRAGMA foreign_key_check")
            if !broken.isEmpty { throw StoreError("\(broken.count) rows refer to rows that are gone") }
            _ = try await self.connection.query("PRAGMA user_version = \(version)")
            _ = try await self.connection.query("COMMIT")
        } catch {
            _ = try? await self.connection.query("ROLLBACK")
            throw StoreError("migration to schema version \(version) failed: \(error)")
        }
    }

    public func append(_ messages: [StoredMessage]) async throws {
        try await self.gate.run {
            guard !messages.isEmpty else { return }
            // One statement is its own transaction (its search-index triggers included): a batch that fits one
            // INSERT and has no offline deliveries needs no BEGIN and COMMIT, two fewer trips to SQLite's thread.
            let hasOrders = messages.contains { $0.renamedTo != nil }
            if !hasOrders && messages.count <= 500 && !messages.contains(where: { $0.deliverTo != nil }) {
                try await self.insert(messages[...])
                return
            }
            _ = try await self.connection.query("BEGIN IMMEDIATE")
            do {
                var start = messages.startIndex
                for (index, order) in messages.enumerated() {
                    guard let newTarget = order.renamedTo else { continue }
                    try await self.insertChunked(messages[start..<index])
                    try await self.moveHistory(from: order.target, to: newTarget)
                    start = index + 1
                }
                try await self.insertChunked(messages[start...])
                for message in messages {
                    guard let account = message.deliverTo else { continue }
                    _ = try await self.connection.query(
                        "INSERT INTO pending_deliveries (account, sequence) "
                            + "SELECT ?, sequence FROM messages WHERE msgid = ? AND target = ?",
                        [.text(account), .text(message.msgid), .text(message.target)]
                    )
                }
                _ = try await self.connection.query("COMMIT")
            } catch {
                _ = try? await self.connection.query("ROLLBACK")
                throw error
            }
        }
    }

    private func insertChunked(_ rows: ArraySlice<StoredMessage>) async throws {
        for chunk in stride(from: rows.startIndex, to: rows.endIndex, by: 500) {
            try await self.insert(rows[chunk..<min(chunk + 500, rows.endIndex)])
        }
    }

    /// A channel renamed (``StoredMessage/renameCommand``): its history and read markers take the new key.
    private func moveHistory(from oldTarget: String, to newTarget: String) async throws {
        for (sql, binds) in [
            ("DELETE FROM messages WHERE target = ?", [newTarget]),
            ("UPDATE messages SET target = ? WHERE target = ?", [newTarget, oldTarget]),
            ("DELETE FROM read_markers WHERE target = ?", [newTarget]),
            ("UPDATE read_markers SET target = ? WHERE target = ?", [newTarget, oldTarget]),
        ] {
            _ = try await self.connection.query(sql, binds.map { .text($0) })
        }
    }

    /// One INSERT for up to 500 rows: SQLite allows 32766 variables, 9 per row.
    private func insert(_ rows: ArraySlice<StoredMessage>) async throws {
        let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows.count)
        var binds: [SQLiteData] = []
        binds.reserveCapacity(rows.count * 9)
        for message in rows {
            binds += [
                .text(message.msgid), .text(message.target), .integer(Int(message.time)),
                .text(message.sender), message.account.map { .text($0) } ?? .null, .text(message.command),
                .text(message.recipient), .text(message.text), .text(message.tags),
            ]
        }
        _ = try await self.connection.query(
            "INSERT INTO messages (msgid, target, time, sender, account, command, recipient, text, tags) "
                + "VALUES \(placeholders.joined(separator: ", "))",
            binds
        )
    }

    static let columns = "msgid, target, time, sender, account, command, recipient, text, tags, sequence"

    func select(
        _ condition: String,
        _ binds: [SQLiteData],
        order: String,
        limit: Int
    ) async throws
        -> [StoredMessage]
    {
        let rows = try await self.connection.query(
            "SELECT \(Self.columns) FROM messages WHERE \(condition) ORDER BY \(order) LIMIT ?",
            binds + [.integer(max(limit, 0))]
        )
        return rows.map { row in
            StoredMessage(
                msgid: row.column("msgid")?.string ?? "",
                target: row.column("target")?.string ?? "",
                time: Int64(row.column("time")?.integer ?? 0),
                sender: row.column("sender")?.string ?? "",
                account: row.column("account")?.string,
                command: row.column("command")?.string ?? "",
                recipient: row.column("recipient")?.string ?? "",
                text: row.column("text")?.string ?? "",
                tags: row.column("tags")?.string ?? "",
                sequence: Int64(row.column("sequence")?.integer ?? 0)
            )
        }
    }

    public func position(of msgid: String, in target: String) async throws -> HistoryPosition? {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT time, sequence FROM messages WHERE target = ? AND msgid = ?",
                [.text(target), .text(msgid)]
            )
            guard let row = rows.first, let time = row.column("time")?.integer,
                let sequence = row.column("sequence")?.integer
            else { return nil }
            return HistoryPosition(time: Int64(time), sequence: Int64(sequence))
        }
    }

    public func sender(of msgid: String, in target: String) async throws -> (account: String?, sender: String)? {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT account, sender FROM messages WHERE target = ? AND msgid = ?",
                [.text(target), .text(msgid)]
            )
            guard let row = rows.first, let sender = row.column("sender")?.string else { return nil }
            return (row.column("account")?.string, sender)
        }
    }

    public func delete(_ msgid: String, in targets: [String]) async throws -> Int {
        guard !targets.isEmpty else { return 0 }
        return try await self.gate.run {
            // One statement: its own transaction, the search-index trigger and the pending deliveries' cascade in it.
            let placeholders = Array(repeating: "?", count: targets.count).joined(separator: ", ")
            _ = try await self.connection.query(
                "DELETE FROM messages WHERE msgid = ? AND target IN (\(placeholders))",
                [.text(msgid)] + targets.map { .text($0) }
            )
            return try await self.changes()
        }
    }

    public func read(_ range: HistoryRange) async throws -> [StoredMessage] {
        // Row values keep the comparison on the (target, time, sequence) index (an OR of two conditions does not).
        var condition = "target = ?"
        var binds: [SQLiteData] = [.text(range.target)]
        if let after = range.after {
            condition += " AND (time, sequence) > (?, ?)"
            binds += [.integer(Int(after.time)), .integer(Int(after.sequence))]
        }
        if let before = range.before {
            condition += " AND (time, sequence) < (?, ?)"
            binds += [.integer(Int(before.time)), .integer(Int(before.sequence))]
        }
        condition += Self.filter(range.events)
        return try await self.gate.run {
            switch range.nearest {
            case .after:
                return try await self.select(condition, binds, order: "time ASC, sequence ASC", limit: range.limit)
            case .before:
                return try await self.select(condition, binds, order: "time DESC, sequence DESC", limit: range.limit)
                    .reversed()
            }
        }
    }

    /// The extra condition that leaves out channel events, or only what is never history: a cluster logs AWAY so
    /// its nodes learn it, and the end of a channel's incarnation is an ENDED row. Filtered here, before the limit,
    /// so a page holds as many lines as were asked for.
    static func filter(_ events: Bool) -> String {
        events ? " AND command NOT IN ('AWAY', 'ENDED')" : " AND command IN ('PRIVMSG', 'NOTICE', 'TAGMSG')"
    }

    public func targets(
        channels: [String],
        directFor owner: String,
        from: Int64,
        to: Int64,
        limit: Int
    ) async throws -> [(target: String, time: Int64)] {
        try await self.gate.run {
            let (direct, directBinds) = Self.directConversations(of: owner)
            var conditions = [direct]
            var binds = directBinds
            if !channels.isEmpty {
                conditions.append("target IN (\(Array(repeating: "?", count: channels.count).joined(separator: ", ")))")
                binds += channels.map { .text($0) }
            }
            let rows = try await self.connection.query(
                "SELECT target, max(time) AS latest FROM messages WHERE time > ? AND time < ?" + Self.filter(false)
                    + " AND ("
                    + conditions.joined(separator: " OR ") + ") GROUP BY target ORDER BY latest ASC LIMIT ?",
                [.integer(Int(from)), .integer(Int(to))] + binds + [.integer(max(limit, 0))]
            )
            return rows.compactMap { row in
                guard let target = row.column("target")?.string, let time = row.column("latest")?.integer else {
                    return nil
                }
                return (target, Int64(time))
            }
        }
    }

    /// The condition matching `owner`'s copies of direct conversations: one range of the (target, time, sequence)
    /// index.
    static func directConversations(of owner: String) -> (String, [SQLiteData]) {
        let range = HistoryTarget.conversations(of: owner)
        return ("(target >= ? AND target < ?)", [.text(range.from), .text(range.upTo)])
    }
}
