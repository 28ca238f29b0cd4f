import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ParleyStore
import PostgresNIO

/// The store on PostgreSQL (`--database postgres://…`): the same protocols as ``SQLiteStore``, for a network that
/// keeps its data in a database server it already runs, and for several nodes sharing one network.
///
/// Queries go through postgres-nio's `PostgresClient` (a connection pool), whose `run()` this store keeps going from
/// `open` until `close`.
public final class PostgresStore: ParleyStorage {
    let client: PostgresClient
    let logger: Logger
    public let url: PostgresURL
    private let runner: Task<Void, Never>
    /// Whether a commit of messages notifies the other nodes (cluster mode). Off for a single node: NOTIFY takes a
    /// lock at commit that every committing transaction shares.
    private let notifying = NIOLockedValueBox(false)

    public var notifiesOtherNodes: Bool {
        get { self.notifying.withLockedValue { $0 } }
        set { self.notifying.withLockedValue { $0 = newValue } }
    }

    private let deadline = NIOLockedValueBox(Duration.seconds(10))

    /// How long one attempt at storing a batch may take before it is given up for lost and tried again. A query
    /// whose backend was terminated sometimes never completes in postgres-nio (6 hangs in about 38 runs of
    /// `ClusterStoreTests`); without a deadline that commit, and every message held behind it, would wait for ever.
    public var attemptDeadline: Duration {
        get { self.deadline.withLockedValue { $0 } }
        set { self.deadline.withLockedValue { $0 = newValue } }
    }

    private init(client: PostgresClient, url: PostgresURL, logger: Logger) {
        self.client = client
        self.url = url
        self.logger = logger
        // Started at once, so the first query finds the pool running.
        self.runner = Task.immediate { await client.run() }
    }

    /// Connects to the database at `url` (checking that it answers and takes the credentials) and brings its schema
    /// up to date.
    /// - Throws: ``StoreError`` naming the database (without its password) and what went wrong.
    public static func open(
        url text: String,
        logger: Logger = Logger(label: "parley.store")
    ) async throws -> PostgresStore {
        try await self.open(url: try PostgresURL(text), logger: logger)
    }

    public static func open(
        url: PostgresURL,
        logger: Logger = Logger(label: "parley.store")
    ) async throws
        -> PostgresStore
    {
        try await Self.probe(url, logger: logger)
        var configuration = url.clientConfiguration
        configuration.options.maximumConnections = 8
        let store = PostgresStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger),
            url: url,
            logger: logger
        )
        do {
            try await store.migrate()
        } catch {
            await store.shutDown()
            throw error
        }
        return store
    }

    /// One direct connection first: the pool would retry a refused connection or a wrong password quietly, and
    /// the operator should hear at once what is wrong.
    private static func probe(_ url: PostgresURL, logger: Logger) async throws {
        do {
            let connection = try await url.connect(id: 0, logger: logger)
            try? await connection.close()
        } catch {
            throw StoreError("cannot connect to the database \(url.redacted): \(Self.describe(error))")
        }
    }

    public func close() async throws {
        await self.shutDown()
    }

    private func shutDown() async {
        self.runner.cancel()
        await self.runner.value
    }

    /// The server's own words for a failure (postgres-nio's description hides them).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            // The transaction's own failure first; a failed rollback after it matters less.
            if let cause = error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError {
                return Self.describe(cause)
            }
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Whether `error` says the connection broke rather than that the database refused the work: the server closed
    /// it, shut down or restarted (SQLSTATE class 08 and 57P01–57P03).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if let cause = Self.cause(of: error) { return Self.isConnectionLoss(cause) }
        if error is DeadlineExceeded { return true }
        guard let error = error as? PSQLError else { return false }
        if let state = error.serverInfo?[.sqlState] {
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        }
        return [.connectionError, .serverClosedConnection, .uncleanShutdown].contains(error.code)
    }

    /// The error inside a failed transaction (postgres-nio wraps what its begin, body or commit threw).
    static func cause(of error: any Error) -> (any Error)? {
        guard let error = error as? PostgresTransactionError else { return nil }
        return error.beginError ?? error.closureError ?? error.commitError
    }

    /// The SQLSTATE the server answered with, inside a failed transaction too.
    static func sqlState(of error: any Error) -> String? {
        if let cause = Self.cause(of: error) { return Self.sqlState(of: cause) }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The first of `rows`, reading the others too, so that the query ends as it should and its connection goes
    /// back to the pool without leaning on the row sequence's cancellation.
    static func first<Rows: AsyncSequence>(_ rows: Rows) async throws -> Rows.Element? {
        var first: Rows.Element?
        for try await row in rows where first == nil { first = row }
        return first
    }

    /// Runs `body`, turning a database failure into a ``StoreError`` that says what the server said.
    @discardableResult
    func run<Result: Sendable>(_ what: String, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(what) failed: \(Self.describe(error))")
        }
    }

    // MARK: Schema

    /// The schema version the database is at (after `open`, which makes the table that records it).
    public func schemaVersion() async throws -> Int {
        try await self.run("reading the schema version") {
            let rows = try await self.client.query(
                "SELECT version FROM parley_schema",
                logger: self.logger
            )
            return try await Self.first(rows.decode(Int.self)) ?? 0
        }
    }

    func migrate(to target: Int = PostgresSchema.latestVersion) async throws {
        try await self.run("preparing the schema") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))",
                    logger: self.logger
                )
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS parley_schema (version integer NOT NULL)",
                    logger: self.logger
                )
                try await connection.query(
                    "INSERT INTO parley_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM parley_schema)",
                    logger: self.logger
                )
            }
        }
        let current = try await self.schemaVersion()
        if current > PostgresSchema.latestVersion {
            throw StoreError(
                "the database has schema version \(current), newer than this Parley knows "
                    + "(\(PostgresSchema.latestVersion)); use a newer parley-server or another database"
            )
        }
        guard current < target else { return }
        for version in (current + 1)...target {
            try await self.run("migration to schema version \(version)") {
                try await self.client.withTransaction(logger: self.logger) { connection in
                    try await connection.query(
                        "SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))",
                        logger: self.logger
                    )
                    // Another node may have migrated while this one waited for the lock.
                    var now = 0
                    for try await value in try await connection.query(
                        "SELECT version FROM parley_schema",
                        logger: self.logger
                    ).decode(Int.self) {
                        now = value
                    }
                    guard now == version - 1 else { return }
                    for statement in PostgresSchema.migrations[version - 1] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    }
                    try await connection.query("UPDATE parley_schema SET version = \(version)", logger: self.logger)
                }
            }
        }
    }

    /// Opens the database and migrates it only up to `version`: for tests of later migrations.
    public static func open(url: PostgresURL, upToVersion version: Int) async throws -> PostgresStore {
        let store = PostgresStore(
            client: PostgresClient(configuration: url.clientConfiguration),
            url: url,
            logger: Logger(label: "parley.store")
        )
        do {
            try await store.migrate(to: version)
        } catch {
            await store.shutDown()
            throw error
        }
        return store
    }

    // MARK: Health

    public func check() async throws {
        // A database that does not answer must not hold /healthz forever.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await self.schemaVersion() }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                throw StoreError("the database \(self.url.redacted) did not answer within 5 s")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// How many messages the database holds.
    public func countMessages() async throws -> Int {
        try await self.run("counting messages") {
            let rows = try await self.client.query("SELECT count(*) FROM messages", logger: self.logger)
            return try await Self.first(rows.decode(Int.self)) ?? 0
        }
    }
}
