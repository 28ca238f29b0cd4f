import Foundation
public import ParleyStorePostgres

/// The PostgreSQL server tests may use: `PARLEY_TEST_POSTGRES`, a connection URL for a role that may create
/// databases (`.ci/run` starts such a server with `scripts/postgres-temp`). `nil` when unset.
public var testPostgresURL: PostgresURL? {
    guard let text = ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES"], !text.isEmpty else { return nil }
    return try? PostgresURL(text)
}

/// A database of its own on the test PostgreSQL server for `body`, dropped afterwards.
public func withPostgresDatabase(_ body: (PostgresURL) async throws -> Void) async throws {
    guard let server = testPostgresURL else { throw StoreSetupError("PARLEY_TEST_POSTGRES is not set") }
    let name = "parley_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let url = try await PostgresAdmin.createDatabase(name, on: server)
    do {
        try await body(url)
    } catch {
        try? await PostgresAdmin.dropDatabase(name, on: server)
        throw error
    }
    try await PostgresAdmin.dropDatabase(name, on: server)
}

struct StoreSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
