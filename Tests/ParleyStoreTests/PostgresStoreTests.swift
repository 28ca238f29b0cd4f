import Foundation
import ParleyCore
import ParleyStore
import ParleyStorePostgres
import ParleyTestSupport
import PostgresNIO
import Testing

/// What is PostgreSQL's own: URLs, connection errors, migrations. The contract tests cover the rest.
@Suite struct PostgresURLTests {
    @Test func readsTheParts() throws {
        let url = try PostgresURL("postgres://ann:p%40ss@db.example.org:6543/parley?sslmode=require")
        #expect(url.username == "ann")
        #expect(url.password == "p@ss")
        #expect(url.host == "db.example.org")
        #expect(url.port == 6543)
        #expect(url.database == "parley")
        #expect(url.sslMode == .require)
        #expect(url.redacted == "postgres://ann@db.example.org:6543/parley")
        let plain = try PostgresURL("postgresql://parley@localhost/chat")
        #expect(plain.port == 5432)
        #expect(plain.sslMode == .prefer)
        let socket = try PostgresURL("postgres://parley@localhost/chat?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")
    }

    @Test(arguments: [
        ("mysql://a@b/c", "must look like postgres://"),
        ("postgres://host/db", "names no user"),
        ("postgres://a@host", "names no database"),
        ("postgres://a@host/db?sslmode=sometimes", "unknown sslmode 'sometimes'"),
        ("postgres://a@host/db?timeout=3", "unknown database URL parameter 'timeout'"),
    ])
    func badURLsAreRefusedNamingTheProblem(url: String, problem: String) {
        #expect {
            _ = try PostgresURL(url)
        } throws: { error in
            "\(error)".contains(problem)
        }
    }

    @Test func anUnreachableServerIsReportedAtOnceWithoutThePassword() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let port = try freePort()
        await #expect {
            _ = try await PostgresStore.open(url: "postgres://ann:hunter2@127.0.0.1:\(port)/parley?sslmode=disable")
        } throws: { error in
            let text = "\(error)"
            return text.contains("cannot connect to the database postgres://ann@127.0.0.1:\(port)/parley")
                && !text.contains("hunter2")
        }
    }
}

func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite(.enabled(if: StoreKind.postgresURL != nil, "PARLEY_TEST_POSTGRES is not set"))
struct PostgresStoreTests {
    @Test func migratesAnEmptyDatabaseAndKeepsDataAcrossReopen() async throws {
        try await withPostgresDatabase { url in
            let store = try await PostgresStore.open(url: url)
            #expect(try await store.schemaVersion() == 5)
            try await store.append(lobbyMessages())
            try await store.close()
            let reopened = try await PostgresStore.open(url: url)
            #expect(try await reopened.schemaVersion() == 5)
            #expect(ids(try await reopened.latest("#lobby", after: nil, limit: 3)) == ["m7", "m8", "m9"])
            #expect(try await reopened.countMessages() == 10)
            try await reopened.close()
        }
    }

    @Test func migrationTwoNumbersTheMessagesAlreadyThere() async throws {
        try await withPostgresDatabase { url in
            let old = try await PostgresStore.open(url: url, upToVersion: 1)
            #expect(try await old.schemaVersion() == 1)
            try await old.close()
            try await PostgresAdmin.run(
                [
                    "INSERT INTO messages (msgid, target, time, sender, command, recipient, text) VALUES "
                        + "('x2', '#a', 20, 's', 'PRIVMSG', '#a', 'two'), ('x1', '#a', 10, 's', 'PRIVMSG', '#a', 'one'), "
                        + "('y1', '#b', 5, 's', 'PRIVMSG', '#b', 'b')"
                ],
                on: url
            )
            let current = try await PostgresStore.open(url: url)
            #expect(try await current.schemaVersion() == 5)
            let numbered = try await current.messages(in: "#a", after: 0, limit: 10)
            #expect(numbered.map(\.number) == [1, 2])
            #expect(numbered.map(\.message.msgid) == ["x1", "x2"], "numbered in time order")
            try await current.append([
                StoredMessage(
                    msgid: "x3",
                    target: "#a",
                    time: 30,
                    sender: "s",
                    command: "PRIVMSG",
                    recipient: "#a",
                    text: "3"
                )
            ])
            #expect(try await current.heads(of: ["#a", "#b"]) == ["#a": 3, "#b": 1])
            try await current.close()
        }
    }

    @Test func severalNodesStartingAtOnceMigrateOnce() async throws {
        try await withPostgresDatabase { url in
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 { group.addTask { try await PostgresStore.open(url: url) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for store in stores {
                #expect(try await store.schemaVersion() == 5)
                try await store.close()
            }
        }
    }

    /// Version 4 keys DMs by their owner: an old DM whose sender was logged in to the account of its nick becomes
    /// that account's copy (readable and numbered for the cluster's relay); any other is read by nobody.
    @Test func migrationFourGivesOldDirectMessagesToTheAccountThatSentThemOrToNobody() async throws {
        try await withPostgresDatabase { url in
            let old = try await PostgresStore.open(url: url, upToVersion: 3)
            try await old.close()
            try await PostgresAdmin.run(
                [
                    "INSERT INTO messages (msgid, target, time, sender, account, command, recipient, text, "
                        + "target_sequence) VALUES "
                        + "('d1', chr(1) || 'alice' || chr(1) || 'bob', 10, 'Alice!u@h', 'alice', 'PRIVMSG', 'bob', "
                        + "'secret from alice', 1), "
                        + "('d2', chr(1) || 'alice' || chr(1) || 'bob', 11, 'bob!u@h', NULL, 'PRIVMSG', 'alice', "
                        + "'secret from bob', 2), "
                        + "('d3', chr(1) || 'bob' || chr(1) || 'mallory', 12, 'mallory!u@h', 'eve', 'PRIVMSG', 'bob', "
                        + "'secret from eve', 1)"
                ],
                on: url
            )
            let current = try await PostgresStore.open(url: url)
            #expect(try await current.schemaVersion() == 5)
            let key = HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey
            #expect(try await current.latest(key, after: nil, limit: 10).map(\.msgid) == ["d1"])
            #expect(try await current.messages(in: key, after: 0, limit: 10).map(\.number) == [1])
            for owner in ["a:bob", "a:eve", "a:mallory"] {
                let found = try await current.targets(channels: [], directFor: owner, from: 0, to: 100, limit: 10)
                #expect(found.isEmpty, "\(owner) reads nothing of the old conversations: \(found)")
            }
            // One msgid, a copy per party.
            try await current.append([
                StoredMessage(
                    msgid: "d1",
                    target: HistoryTarget.conversation(owner: "c:x.1", correspondent: "alice").storageKey,
                    time: 10,
                    sender: "Alice!u@h",
                    command: "PRIVMSG",
                    recipient: "bob",
                    text: "secret from alice"
                )
            ])
            try await current.close()
        }
    }

    @Test func refusesADatabaseNewerThanTheBinary() async throws {
        try await withPostgresDatabase { url in
            let store = try await PostgresStore.open(url: url)
            try await store.close()
            try await PostgresAdmin.run(["UPDATE parley_schema SET version = 99"], on: url)
            await #expect {
                _ = try await PostgresStore.open(url: url)
            } throws: { error in
                "\(error)".contains("schema version 99, newer than this Parley knows (5)")
            }
        }
    }

    @Test func aMissingDatabaseIsNamedInTheError() async throws {
        let server = try #require(StoreKind.postgresURL)
        await #expect {
            _ = try await PostgresStore.open(url: server.database("parley_no_such_database"))
        } throws: { error in
            "\(error)".contains("parley_no_such_database") && "\(error)".contains("does not exist")
        }
    }

    @Test func searchUsesTheFullTextIndex() async throws {
        try await withPostgresDatabase { url in
            let store = try await PostgresStore.open(url: url)
            try await store.append(lobbyMessages())
            // Ten rows would be scanned whatever the indexes: forbid that, and see which index the plan takes.
            let plan = try await PostgresAdmin.run(
                [
                    "SET enable_seqscan = off",
                    "EXPLAIN SELECT sequence FROM messages WHERE words @@ plainto_tsquery('simple', 'line')",
                ],
                on: url
            )
            #expect(plan.contains { $0.contains("messages_words") }, "\(plan)")
            try await store.close()
        }
    }
}

@Suite(.enabled(if: StoreKind.postgresURL != nil, "PARLEY_TEST_POSTGRES is not set"))
struct PostgresErrorTests {
    @Test func aFailedTransactionIsReportedInTheServersWords() async throws {
        try await withPostgresDatabase { url in
            let store = try await PostgresStore.open(url: url)
            let message = StoredMessage(
                msgid: "same",
                target: "#c",
                time: 1,
                sender: "a!a@h",
                command: "PRIVMSG",
                recipient: "#c",
                text: "x"
            )
            try await store.append([message])
            await #expect {
                try await store.append([message])
            } throws: { error in
                "\(error)".hasPrefix("storing 1 messages failed: duplicate key value violates unique constraint")
                    && "\(error)".contains("SQLSTATE 23505")
            }
            try await store.close()
        }
    }
}
