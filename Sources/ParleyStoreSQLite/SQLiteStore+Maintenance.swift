import Foundation
import Logging
import ParleyStore
import SQLiteNIO

/// Backups and checks of a database file, for `parley-server backup` and `check`: both work beside a running
/// server, on their own connection, without taking the server's lock.
extension SQLiteStore {
    /// What `check` found in a database file.
    public struct Health: Sendable {
        /// `PRAGMA integrity_check`'s findings; empty when the file is sound.
        public var problems: [String]
        public var schemaVersion: Int
        public var messages: Int
        public var accounts: Int

        /// Sound, and at a schema this binary can open.
        public var isUsable: Bool { self.problems.isEmpty && self.schemaVersion <= SQLiteSchema.latestVersion }
    }

    /// The schema version this binary writes.
    public static var latestSchemaVersion: Int { SQLiteSchema.latestVersion }

    /// Copies the database at `path` to a new file `destination` as one consistent snapshot (`VACUUM INTO`, one read
    /// transaction): a server writing meanwhile neither waits for it nor tears it. Everything committed before the
    /// copy began is in it.
    /// - Throws: ``StoreError`` naming the file when either cannot be used.
    public static func backup(databaseAt path: String, to destination: String) async throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("there is no database at \(path)")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw StoreError("\(destination) already exists; give the name of a new file")
        }
        try await Self.withConnection(path) { connection in
            do {
                _ = try await connection.query("VACUUM INTO ?", [.text(destination)])
            } catch {
                throw StoreError("cannot write the backup \(destination): \(error)")
            }
        }
        // The copy holds private messages: only its owner may read it, as the database itself.
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination)
    }

    /// Reads the whole database at `path` and reports what is wrong with it, if anything.
    /// - Throws: ``StoreError`` when the file is missing or not a database at all.
    public static func health(ofDatabaseAt path: String) async throws -> Health {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("there is no database at \(path)")
        }
        return try await Self.withConnection(path) { connection in
            try await Self.health(connection, path)
        }
    }

    private static func health(_ connection: SQLiteConnection, _ path: String) async throws -> Health {
        let findings: [String]
        do {
            findings = try await connection.query("PRAGMA integrity_check").compactMap { $0.columns.first?.data.string }
        } catch {
            // A file so damaged that SQLite cannot even walk it (a page of its search index overwritten, not a
            // database at all) is damaged, not unreadable: that is check's answer, not a failure to give one.
            return Health(problems: ["\(error)"], schemaVersion: 0, messages: 0, accounts: 0)
        }
        do {
            let version = try await connection.query("PRAGMA user_version").first?.column("user_version")?.integer
            var health = Health(
                problems: findings == ["ok"] ? [] : findings,
                schemaVersion: version ?? 0,
                messages: 0,
                accounts: 0
            )
            if health.problems.isEmpty && health.schemaVersion > 0 {
                health.messages = try await Self.count("messages", connection)
                health.accounts = try await Self.count("accounts", connection)
            }
            return health
        } catch {
            throw StoreError("cannot read the database \(path): \(error)")
        }
    }

    /// Runs `body` on a connection of its own to `path`, closed afterwards whatever happens.
    private static func withConnection<T>(
        _ path: String,
        _ body: (SQLiteConnection) async throws -> T
    ) async throws -> T {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: path),
                logger: Logger(label: "parley.store")
            )
        } catch {
            throw StoreError("cannot open the database \(path): \(error)")
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func count(_ table: String, _ connection: SQLiteConnection) async throws -> Int {
        Int(try await connection.query("SELECT count(*) AS n FROM \(table)").first?.column("n")?.integer ?? 0)
    }
}
