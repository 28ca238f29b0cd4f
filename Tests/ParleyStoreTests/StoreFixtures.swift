import Foundation
import ParleyStore
import ParleyStorePostgres
import ParleyStoreSQLite
import ParleyTestSupport
import Testing

/// The stores every contract test runs against: SQLite always, PostgreSQL when `PARLEY_TEST_POSTGRES` holds a
/// connection URL (a role that may create databases; `.ci/run` starts such a server).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }

    static var postgresURL: PostgresURL? { testPostgresURL }

    static var available: [StoreKind] { Self.postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A fresh, empty store of this kind for `body`, removed afterwards.
    func withStore(_ body: (any ParleyStorage) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            try await withTemporaryDirectory { directory in
                let store = try await SQLiteStore.open(path: directory + "/parley.sqlite")
                try await Self.closing(store, { try await store.close() }, body)
            }
        case .postgres:
            try await withPostgresDatabase { url in
                let store = try await PostgresStore.open(url: url)
                try await Self.closing(store, { try await store.close() }, body)
            }
        }
    }

    private static func closing(
        _ store: any ParleyStorage,
        _ close: () async throws -> Void,
        _ body: (any ParleyStorage) async throws -> Void
    ) async throws {
        do {
            try await body(store)
        } catch {
            try? await close()
            throw error
        }
        try await close()
    }
}

func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-store-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await body(directory.path)
}

/// Ten messages to #lobby, two per millisecond (ties broken by insertion order), ids m0…m9.
func lobbyMessages() -> [StoredMessage] {
    (0..<10).map { index in
        StoredMessage(
            msgid: "m\(index)",
            target: "#lobby",
            time: 1000 + Int64(index / 2),
            sender: "alice!a@h",
            command: "PRIVMSG",
            recipient: "#lobby",
            text: "line \(index)"
        )
    }
}

func ids(_ messages: [StoredMessage]) -> [String] { messages.map(\.msgid) }

let someCredentials = Account.Credentials(salt: [1], iterations: 4096, storedKey: [2], serverKey: [3])
