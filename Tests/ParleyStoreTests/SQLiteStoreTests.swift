import Foundation
import ParleyStore
import SQLiteNIO
import Testing

@Suite struct SQLiteStoreTests {
    /// A fresh database file in a temporary directory.
    private func withStore(_ body: (SQLiteStore, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-store-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("parley.sqlite").path
        let store = try await SQLiteStore.open(path: path)
        do {
            try await body(store, path)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    @Test func migratesAnEmptyDatabaseAndKeepsDataAcrossReopen() async throws {
        try await self.withStore { store, path in
            #expect(try await store.schemaVersion() == 4)
            try await store.append(lobbyMessages())
            try await store.close()
            let reopened = try await SQLiteStore.open(path: path)
            #expect(try await reopened.schemaVersion() == 4)
            #expect(ids(try await reopened.latest("#lobby", after: nil, limit: 3)) == ["m7", "m8", "m9"])
            try await reopened.close()
        }
    }

    @Test func refusesADatabaseNewerThanTheBinary() async throws {
        try await self.withStore { store, path in
            try await store.close()
            let raw = try await SQLiteConnection.open(storage: .file(path: path))
            _ = try await raw.query("PRAGMA user_version = 99")
            try await raw.close()
            await #expect(throws: StoreError.self) { _ = try await SQLiteStore.open(path: path) }
            do {
                _ = try await SQLiteStore.open(path: path)
            } catch {
                #expect("\(error)".contains("schema version 99, newer than this Parley knows (4)"))
            }
        }
    }

    @Test func migratesEachEarlierSchemaKeepingItsData() async throws {
        for version in 1..<4 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-migrate-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("parley.sqlite").path
            let old = try await SQLiteStore.open(path: path, upToVersion: version)
            #expect(try await old.schemaVersion() == version)
            try await old.append(lobbyMessages())
            try await old.close()

            let current = try await SQLiteStore.open(path: path)
            #expect(try await current.schemaVersion() == 4)
            #expect(ids(try await current.latest("#lobby", after: nil, limit: 2)) == ["m8", "m9"])
            let credentials = Account.Credentials(salt: [1], iterations: 4096, storedKey: [2], serverKey: [3])
            let created = try await current.create(
                Account(name: "zoe", displayName: "Zoe", createdAt: 1, credentials: credentials)
            )
            #expect(created)
            let marker = try await current.setReadMarker(account: "zoe", target: "#lobby", time: 5)
            #expect(marker == 5)
            let certificate = try await current.addCertificate("ab12", to: "zoe")
            #expect(certificate)
            try await current.close()
        }
    }

    @Test func storesEveryFieldAndIndexesTextForSearch() async throws {
        try await self.withStore { store, path in
            let dm = StoredMessage(
                msgid: "dm1",
                target: StoredMessage.directTarget("bob", "alice"),
                time: 5,
                sender: "alice!a@h",
                account: "alice",
                command: "NOTICE",
                recipient: "bob",
                text: "the quick brown fox",
                tags: "+draft/react=👍"
            )
            try await store.append([dm])
            #expect(StoredMessage.directTarget("alice", "bob") == StoredMessage.directTarget("bob", "alice"))
            let stored = try await store.latest(StoredMessage.directTarget("alice", "bob"), after: nil, limit: 1)
            var expected = dm
            expected.sequence = stored.first?.sequence ?? -1
            #expect(stored == [expected])
            #expect(expected.sequence > 0)
            // A second connection (WAL allows it) reads the full-text index the trigger fills.
            let raw = try await SQLiteConnection.open(storage: .file(path: path))
            let hits = try await raw.query("SELECT rowid FROM messages_text WHERE messages_text MATCH 'brown'")
            #expect(hits.count == 1)
            let misses = try await raw.query("SELECT rowid FROM messages_text WHERE messages_text MATCH 'zebra'")
            #expect(misses.isEmpty)
            try await raw.close()
        }
    }
}
