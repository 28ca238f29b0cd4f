import Foundation
import ParleyCore
import ParleyStore
import ParleyStoreSQLite
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
            #expect(try await store.schemaVersion() == 5)
            try await store.append(lobbyMessages())
            try await store.close()
            let reopened = try await SQLiteStore.open(path: path)
            #expect(try await reopened.schemaVersion() == 5)
            #expect(ids(try await reopened.latest("#lobby", after: nil, limit: 3)) == ["m7", "m8", "m9"])
            try await reopened.close()
        }
    }

    @Test func onlyTheServersUserMayReadTheDatabase() async throws {
        try await self.withStore { store, path in
            try await store.append(lobbyMessages())
            for file in [path, path + "-wal"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
                #expect(mode == 0o600, "\(file): \(String(mode, radix: 8))")
            }
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
                #expect("\(error)".contains("schema version 99, newer than this Parley knows (5)"))
            }
        }
    }

    @Test func migratesEachEarlierSchemaKeepingItsData() async throws {
        for version in 1..<5 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-migrate-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("parley.sqlite").path
            let old = try await SQLiteStore.open(path: path, upToVersion: version)
            #expect(try await old.schemaVersion() == version)
            try await old.append(lobbyMessages())
            try await old.close()

            let current = try await SQLiteStore.open(path: path)
            #expect(try await current.schemaVersion() == 5)
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

    /// Version 5 keys DMs by their owner. An old DM whose sender was logged in to the account of its nick becomes
    /// that account's; any other is read by nobody. Offline deliveries and the full-text index survive the rebuild.
    @Test func migrationFiveGivesOldDirectMessagesToTheAccountThatSentThemOrToNobody() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-migrate-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("parley.sqlite").path
        let old = try await SQLiteStore.open(path: path, upToVersion: 4)
        func dm(_ id: String, from sender: String, account: String?, to recipient: String) -> StoredMessage {
            let pair = [sender.lowercased(), recipient.lowercased()].sorted()
            return StoredMessage(
                msgid: id,
                target: "\u{1}\(pair[0])\u{1}\(pair[1])",
                time: 10,
                sender: "\(sender)!u@h",
                account: account,
                command: "PRIVMSG",
                recipient: recipient,
                text: "words from \(sender)",
                deliverTo: id == "d3" ? "carol" : nil
            )
        }
        try await old.append([
            dm("d1", from: "Alice", account: "alice", to: "bob"),
            dm("d2", from: "bob", account: nil, to: "Alice"),
            dm("d3", from: "bob", account: nil, to: "carol"),
            // Logged in, but to an account that is not the nick's: the nick's later owner must not get it.
            dm("d4", from: "mallory", account: "eve", to: "bob"),
        ])
        try await old.close()

        let current = try await SQLiteStore.open(path: path)
        #expect(try await current.schemaVersion() == 5)
        let alices = try await current.latest(
            HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey,
            after: nil,
            limit: 10
        )
        #expect(alices.map(\.msgid) == ["d1"])
        for owner in ["a:bob", "a:carol", "a:eve", "a:mallory"] {
            let found = try await current.targets(channels: [], directFor: owner, from: 0, to: 100, limit: 10)
            #expect(found.isEmpty, "\(owner) reads nothing of the old conversations: \(found)")
        }
        #expect(try await current.pendingDeliveries(for: "carol").map(\.msgid) == ["d3"])
        let hits = try await current.search(SearchQuery(targets: [], directFor: "a:alice", text: "alice", limit: 5))
        #expect(hits.map(\.msgid) == ["d1"], "the full-text index still points at the rebuilt rows")
        try await current.close()
    }

    @Test func storesEveryFieldAndIndexesTextForSearch() async throws {
        try await self.withStore { store, path in
            let dm = StoredMessage(
                msgid: "dm1",
                target: HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey,
                time: 5,
                sender: "alice!a@h",
                account: "alice",
                command: "NOTICE",
                recipient: "bob",
                text: "the quick brown fox",
                tags: "+draft/react=👍"
            )
            try await store.append([dm])
            let stored = try await store.latest(
                HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey,
                after: nil,
                limit: 1
            )
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
