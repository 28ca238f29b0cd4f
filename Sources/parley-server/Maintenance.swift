import ArgumentParser
import Foundation
import ParleyServer
import ParleyStore
import ParleyStoreSQLite

/// The options that say where the database is, as `serve` reads them (flags, `PARLEY_*`, the YAML file).
struct DatabaseLocation: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./parley-data).") var dataDir: String?
    @Option(help: "YAML configuration file (for its data-dir and database).") var config: String?

    /// The SQLite file in use, or a usage error when the configuration keeps the data in PostgreSQL.
    func sqlitePath(for command: String) async throws -> String {
        let flags = self.dataDir.map { ["data-dir": $0] } ?? [:]
        let configuration = try await Serve.load(flags: flags, file: self.config)
        if let url = configuration.databaseURL {
            throw ValidationError(
                "the database is PostgreSQL (\(Serve.redacted(url))): `\(command)` is for the SQLite database; "
                    + "use pg_dump and PostgreSQL's own tools"
            )
        }
        return configuration.dataDirectory + "/parley.sqlite"
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database to a new file, consistently, while the server runs.",
        discussion: """
            The copy is one snapshot: every message stored before it began is in it. It is checked after it is \
            written. To restore, stop the server and put the copy in place of data-dir/parley.sqlite (removing \
            parley.sqlite-wal and parley.sqlite-shm).
            """
    )

    @Argument(help: "The new file to write (must not exist).") var destination: String
    @OptionGroup var location: DatabaseLocation

    func run() async throws {
        let source = try await self.location.sqlitePath(for: "backup")
        do {
            try await SQLiteStore.backup(databaseAt: source, to: self.destination)
            let health = try await SQLiteStore.health(ofDatabaseAt: self.destination)
            guard health.isUsable else {
                throw StoreError("the copy in \(self.destination) does not pass check: \(health.problems)")
            }
            print(
                "Backed up \(source) to \(self.destination): \(health.messages) messages, \(health.accounts) accounts, "
                    + "schema version \(health.schemaVersion); check passed."
            )
        } catch let error as StoreError {
            throw Serve.stop(StartupError(kind: .database, description: error.description))
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a SQLite database (the server's, or a backup): integrity and schema version.",
        discussion: "Exits 0 when the file is sound and this parley-server can open it, 65 when not, 74 when it "
            + "cannot be read at all."
    )

    @Argument(help: "A database file (default: the server's data-dir/parley.sqlite).") var file: String?
    @OptionGroup var location: DatabaseLocation

    func run() async throws {
        let path: String
        if let file = self.file { path = file } else { path = try await self.location.sqlitePath(for: "check") }
        let health: SQLiteStore.Health
        do {
            health = try await SQLiteStore.health(ofDatabaseAt: path)
        } catch let error as StoreError {
            throw Serve.stop(StartupError(kind: .database, description: error.description))
        }
        let latest = SQLiteStore.latestSchemaVersion
        for problem in health.problems.prefix(20) { print("\(path): \(problem)") }
        if !health.problems.isEmpty {
            print("\(path): damaged (\(health.problems.count) problems found by PRAGMA integrity_check)")
            throw ExitCode(65)
        }
        if health.schemaVersion > latest {
            print("\(path): schema version \(health.schemaVersion) is newer than this parley-server (\(latest))")
            throw ExitCode(65)
        }
        print(
            "\(path): ok — schema version \(health.schemaVersion) (this parley-server writes \(latest)), "
                + "\(health.messages) messages, \(health.accounts) accounts"
        )
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the configuration reference: every key, its flag, environment variable, values and default."
    )

    @Flag(help: "Print the reference as the Markdown table README holds.") var reference = false

    func run() throws {
        guard self.reference else { throw ValidationError("say what to print: --reference") }
        print(ServerConfiguration.referenceTable(), terminator: "")
    }
}
