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

    /// Ten messages to #lobby, two per millisecond (ties broken by insertion order), ids m0…m9.
    private func lobby() -> [StoredMessage] {
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

    private func ids(_ messages: [StoredMessage]) -> [String] { messages.map(\.msgid) }

    @Test func migratesAnEmptyDatabaseAndKeepsDataAcrossReopen() async throws {
        try await self.withStore { store, path in
            #expect(try await store.schemaVersion() == 4)
            try await store.append(self.lobby())
            try await store.close()
            let reopened = try await SQLiteStore.open(path: path)
            #expect(try await reopened.schemaVersion() == 4)
            #expect(self.ids(try await reopened.latest("#lobby", after: nil, limit: 3)) == ["m7", "m8", "m9"])
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
            try await old.append(self.lobby())
            try await old.close()

            let current = try await SQLiteStore.open(path: path)
            #expect(try await current.schemaVersion() == 4)
            #expect(self.ids(try await current.latest("#lobby", after: nil, limit: 2)) == ["m8", "m9"])
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

    @Test func certificateFingerprintsBelongToOneAccountAndGoWithIt() async throws {
        try await self.withStore { store, _ in
            let credentials = Account.Credentials(salt: [1], iterations: 4096, storedKey: [2], serverKey: [3])
            for name in ["ann", "ben"] {
                let created = try await store.create(
                    Account(name: name, displayName: name, createdAt: 1, credentials: credentials)
                )
                #expect(created)
            }
            let first = try await store.addCertificate("aa11", to: "ann")
            let second = try await store.addCertificate("bb22", to: "ann")
            let taken = try await store.addCertificate("aa11", to: "ben")
            #expect(first && second)
            #expect(!taken, "a fingerprint logs in to one account only")
            let listed = try await store.certificates(of: "ann")
            #expect(listed == ["aa11", "bb22"])
            let owner = try await store.account(withCertificate: "aa11")
            #expect(owner?.name == "ann")
            let nobody = try await store.account(withCertificate: "cc33")
            #expect(nobody == nil)
            let wrongOwner = try await store.removeCertificate("aa11", from: "ben")
            let removed = try await store.removeCertificate("aa11", from: "ann")
            #expect(!wrongOwner && removed)
            let afterRemoval = try await store.account(withCertificate: "aa11")
            #expect(afterRemoval == nil)
            let dropped = try await store.drop("ann")
            #expect(dropped)
            let afterDrop = try await store.account(withCertificate: "bb22")
            #expect(afterDrop == nil, "dropping an account drops its certificates")
            let reused = try await store.addCertificate("bb22", to: "ben")
            #expect(reused)
        }
    }

    @Test func accountsRoundTripAndNamesAreUnique() async throws {
        try await self.withStore { store, _ in
            let credentials = Account.Credentials(
                salt: Array("salt-bytes".utf8),
                iterations: 4096,
                storedKey: Array(repeating: 7, count: 32),
                serverKey: Array(repeating: 9, count: 32)
            )
            let alice = Account(
                name: "alice",
                displayName: "Alice",
                email: "alice@example.org",
                createdAt: 1_795_615_041_123,
                credentials: credentials
            )
            let created = try await store.create(alice)
            #expect(created)
            let createdAgain = try await store.create(alice)
            #expect(createdAgain == false)
            let found = try await store.account(named: "alice")
            #expect(found == alice)
            let missing = try await store.account(named: "bob")
            #expect(missing == nil)
            var changed = credentials
            changed.storedKey = Array(repeating: 1, count: 32)
            let updated = try await store.setCredentials(changed, for: "alice")
            #expect(updated)
            let readBack = try await store.account(named: "alice")?.credentials
            #expect(readBack == changed)
            let updatedMissing = try await store.setCredentials(changed, for: "bob")
            #expect(updatedMissing == false)
            let dropped = try await store.drop("alice")
            #expect(dropped)
            let droppedAgain = try await store.drop("alice")
            #expect(droppedAgain == false)
            let gone = try await store.account(named: "alice")
            #expect(gone == nil)
        }
    }

    @Test func historyQueriesFollowChathistorySemantics() async throws {
        try await self.withStore { store, _ in
            try await store.append(self.lobby())
            try await store.append([
                StoredMessage(
                    msgid: "other",
                    target: "#dev",
                    time: 1002,
                    sender: "bob!b@h",
                    command: "PRIVMSG",
                    recipient: "#dev",
                    text: "elsewhere"
                )
            ])
            #expect(self.ids(try await store.latest("#lobby", after: nil, limit: 4)) == ["m6", "m7", "m8", "m9"])
            #expect(self.ids(try await store.latest("#lobby", after: .msgid("m7"), limit: 10)) == ["m8", "m9"])
            #expect(self.ids(try await store.before("#lobby", .msgid("m5"), limit: 3)) == ["m2", "m3", "m4"])
            #expect(
                self.ids(try await store.before("#lobby", .timestamp(1002), limit: 10)) == ["m0", "m1", "m2", "m3"]
            )
            #expect(self.ids(try await store.after("#lobby", .msgid("m5"), limit: 2)) == ["m6", "m7"])
            #expect(self.ids(try await store.after("#lobby", .timestamp(1003), limit: 10)) == ["m8", "m9"])
            #expect(self.ids(try await store.around("#lobby", .msgid("m5"), limit: 4)) == ["m3", "m4", "m5", "m6"])
            #expect(
                self.ids(try await store.between("#lobby", .msgid("m1"), .msgid("m6"), limit: 10))
                    == ["m2", "m3", "m4", "m5"]
            )
            #expect(self.ids(try await store.between("#lobby", .msgid("m1"), .msgid("m6"), limit: 2)) == ["m2", "m3"])
            // Backwards: the two closest to the start, still oldest first.
            #expect(self.ids(try await store.between("#lobby", .msgid("m6"), .msgid("m1"), limit: 2)) == ["m4", "m5"])
            #expect(try await store.before("#lobby", .msgid("missing"), limit: 5).isEmpty)
            #expect(try await store.latest("#lobby", after: nil, limit: 0).isEmpty)
            #expect(self.ids(try await store.latest("#dev", after: nil, limit: 5)) == ["other"])
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

    @Test func aDuplicateMessageIDRollsBackTheWholeBatch() async throws {
        try await self.withStore { store, _ in
            try await store.append(Array(self.lobby().prefix(2)))
            await #expect(throws: (any Error).self) { try await store.append(Array(self.lobby().suffix(9))) }
            #expect(self.ids(try await store.latest("#lobby", after: nil, limit: 20)) == ["m0", "m1"])
        }
    }
}

@Suite struct SQLiteDeliveryTests {
    @Test func pendingDeliveriesAreTakenOnceAndSearchQuotesUserText() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-delivery-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("parley.sqlite").path)
        let key = StoredMessage.directTarget("bob", "zed")
        try await store.append([
            StoredMessage(
                msgid: "a",
                target: key,
                time: 1,
                sender: "zed!z@h",
                command: "PRIVMSG",
                recipient: "bob",
                text: "AND OR NOT \"quoted\" near(x)",
                deliverTo: "bob"
            ),
            StoredMessage(
                msgid: "b",
                target: "#c",
                time: 2,
                sender: "Zed!z@h",
                command: "PRIVMSG",
                recipient: "#c",
                text: "plain words"
            ),
        ])
        #expect(try await store.takePendingDeliveries(for: "bob").map(\.msgid) == ["a"])
        #expect(try await store.takePendingDeliveries(for: "bob").isEmpty)
        // FTS5 operators in user text are words, not syntax.
        let hits = try await store.search(SearchQuery(targets: [], directFor: "bob", text: "NOT \"quoted", limit: 10))
        #expect(hits.map(\.msgid) == ["a"])
        let bySender = try await store.search(SearchQuery(targets: ["#c"], sender: "zed", limit: 10))
        #expect(bySender.map(\.msgid) == ["b"])
        let outside = try await store.search(SearchQuery(targets: ["#other"], text: "plain", limit: 10))
        #expect(outside.isEmpty)
        try await store.close()
    }
}
