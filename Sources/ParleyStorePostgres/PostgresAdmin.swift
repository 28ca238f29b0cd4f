import Logging
import NIOPosix
import ParleyStore
import PostgresNIO

/// Making and removing whole databases, for tests (one database per case) and demos (one per cluster).
public enum PostgresAdmin {
    /// Creates the database `name` on the server of `url` (connecting to `url`'s own database to do it) and returns
    /// its URL. `name` must be a plain identifier: letters, digits and `_`.
    public static func createDatabase(_ name: String, on url: PostgresURL) async throws -> PostgresURL {
        try self.checkIdentifier(name)
        try await self.run(["CREATE DATABASE \(name)"], on: url)
        return url.database(name)
    }

    /// Drops the database `name`, closing whatever connections it still has.
    public static func dropDatabase(_ name: String, on url: PostgresURL) async throws {
        try self.checkIdentifier(name)
        try await self.run(["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], on: url)
    }

    private static func checkIdentifier(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count < 64,
            name.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || ("a"..."z").contains($0) || $0 == "_" })
        else { throw StoreError("'\(name)' is not a plain database name (a-z, 0-9, _)") }
    }

    /// Runs `statements` in order on one connection and returns the first column of the last one's rows as text:
    /// for tests and scripts that look at the database directly.
    @discardableResult
    public static func run(_ statements: [String], on url: PostgresURL) async throws -> [String] {
        let logger = Logger(label: "parley.store.admin")
        do {
            let connection = try await url.connect(id: 0, logger: logger)
            var lines: [String] = []
            do {
                for statement in statements {
                    lines = []
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    for try await row in rows {
                        lines.append(try row.makeRandomAccess()[0].decode(String?.self) ?? "")
                    }
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
            return lines
        } catch {
            throw StoreError("\(statements.last ?? "") on \(url.redacted) failed: \(PostgresStore.describe(error))")
        }
    }
}
