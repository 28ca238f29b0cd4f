import Foundation
import Logging
import NIOConcurrencyHelpers
import ParleyStore
import ParleyStorePostgres
import ParleyTestSupport
import PostgresNIO
import Testing

/// What nodes sharing one PostgreSQL database rely on, with two stores on one database standing for two nodes.
@Suite(.enabled(if: StoreKind.postgresURL != nil, "PARLEY_TEST_POSTGRES is not set"), .timeLimit(.minutes(1)))
struct ClusterStoreTests {
    /// Two nodes on a fresh database.
    private func withTwoNodes(_ body: (PostgresStore, PostgresStore, PostgresURL) async throws -> Void) async throws {
        try await withPostgresDatabase { url in
            let a = try await PostgresStore.open(url: url)
            let b = try await PostgresStore.open(url: url)
            do {
                try await body(a, b, url)
            } catch {
                try? await a.close()
                try? await b.close()
                throw error
            }
            try await a.close()
            try await b.close()
        }
    }

    private func message(_ id: String, _ target: String) -> StoredMessage {
        StoredMessage(
            msgid: id,
            target: target,
            time: 1,
            sender: "a!a@h",
            command: "PRIVMSG",
            recipient: target,
            text: id
        )
    }

    @Test func aNickIsGivenOutOnceAcrossNodes() async throws {
        try await self.withTwoNodes { a, b, _ in
            try await a.joinCluster(node: "a", lease: .seconds(30))
            try await b.joinCluster(node: "b", lease: .seconds(30))
            let first = try await a.claimNick("alice", display: "Alice", node: "a")
            let second = try await b.claimNick("alice", display: "ALICE", node: "b")
            #expect(first && !second)
            let again = try await a.claimNick("alice", display: "ALICE", node: "a")
            #expect(again, "the holder may claim its own nick again")
            #expect(try await b.nickHolder("alice") == "a")
            try await b.releaseNick("alice", node: "b")
            #expect(try await a.nickHolder("alice") == "a", "only the holder gives a nick back")
            try await a.releaseNick("alice", node: "a")
            let afterRelease = try await b.claimNick("alice", display: "alice", node: "b")
            #expect(afterRelease)
        }
    }

    @Test func aNodeWhoseLeaseRanOutIsRemovedWithItsNicks() async throws {
        try await self.withTwoNodes { a, b, _ in
            try await a.joinCluster(node: "a", lease: .milliseconds(1))
            try await b.joinCluster(node: "b", lease: .seconds(30))
            let claimed = try await a.claimNick("alice", display: "alice", node: "a")
            #expect(claimed)
            // The lease is a millisecond by the database's clock; wait well past it.
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await b.removeExpiredNodes() == ["a"])
            #expect(try await b.clusterNodes().map(\.id) == ["b"])
            #expect(try await b.nickHolder("alice") == nil, "the lost node's nicks are free")
            let renewed = try await a.renewLease(node: "a", lease: .seconds(30))
            #expect(!renewed, "a removed node learns it must join again")
            let taken = try await b.claimNick("alice", display: "alice", node: "b")
            #expect(taken)
            #expect(try await b.removeExpiredNodes().isEmpty)
        }
    }

    @Test func messagesAreNumberedPerTargetWithoutGapsWhateverTheNode() async throws {
        try await self.withTwoNodes { a, b, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, store) in [("a", a), ("b", b)] {
                    group.addTask {
                        for batch in 0..<20 {
                            try await store.append(
                                (0..<5).map { self.message("\(name)\(batch)-\($0)", $0 % 2 == 0 ? "#even" : "#odd") }
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            let even = try await a.messages(in: "#even", after: 0, limit: 1000)
            let odd = try await b.messages(in: "#odd", after: 0, limit: 1000)
            #expect(even.map(\.number) == Array(1...120))
            #expect(odd.map(\.number) == Array(1...80))
            #expect(try await b.heads(of: ["#even", "#odd", "#none"]) == ["#even": 120, "#odd": 80])
            // Within one node's batches the order is kept.
            let fromA = even.map(\.message.msgid).filter { $0.hasPrefix("a") }
            #expect(fromA == (0..<20).flatMap { batch in [0, 2, 4].map { "a\(batch)-\($0)" } })
            #expect(try await a.messages(in: "#odd", after: 78, limit: 10).map(\.number) == [79, 80])
            // Several targets in one read: each from its own number, at most the limit each, in stored order.
            let both = try await b.messages(after: ["#even": 117, "#odd": 0, "#none": 0], limit: 2)
            #expect(both.filter { $0.message.target == "#even" }.map(\.number) == [118, 119])
            #expect(both.filter { $0.message.target == "#odd" }.map(\.number) == [1, 2])
            #expect(both.map(\.message.sequence) == both.map(\.message.sequence).sorted())
        }
    }

    @Test func aCommitWakesTheOtherNodeAndAReconnectSaysCatchUp() async throws {
        try await self.withTwoNodes { a, b, url in
            a.notifiesOtherNodes = true
            let events = NIOLockedValueBox<[ClusterEvent]>([])
            let (stream, continuation) = AsyncStream.makeStream(of: ClusterEvent.self)
            let feed = ClusterFeed(url: url, retryDelay: .milliseconds(100))
            let listening = Task {
                await feed.run { event in
                    events.withLockedValue { $0.append(event) }
                    continuation.yield(event)
                }
            }
            var iterator = stream.makeAsyncIterator()
            #expect(await iterator.next() == .connected)
            try await a.append([self.message("m1", "#c"), self.message("m2", "#c"), self.message("m3", "#d")])
            // One notification for the commit, carrying its messages with their numbers.
            #expect(
                await iterator.next()
                    == .carried(
                        [
                            NumberedMessage(number: 1, message: self.message("m1", "#c")),
                            NumberedMessage(number: 2, message: self.message("m2", "#c")),
                            NumberedMessage(number: 1, message: self.message("m3", "#d")),
                        ]
                    )
            )
            #expect(try await b.messages(in: "#c", after: 0, limit: 10).map(\.message.msgid) == ["m1", "m2"])

            // Cut the feed's connection from the database side, as a database restart would.
            try await PostgresAdmin.run(
                [
                    "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity "
                        + "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                ],
                on: url
            )
            #expect(await iterator.next() == .disconnected, "told the connection was lost")
            #expect(await iterator.next() == .connected, "listening again, and told to catch up")
            b.notifiesOtherNodes = true
            try await b.append([self.message("m4", "#c")])
            #expect(await iterator.next() == .carried([NumberedMessage(number: 3, message: self.message("m4", "#c"))]))
            listening.cancel()
            await listening.value
            #expect(events.withLockedValue { $0.count } == 5, "one notification per commit")
        }
    }

    /// The database cuts a node's connection in the middle of a batch (as a restart does): the batch is stored
    /// once, not failed. The batch is held at its first statement by a lock, its backend is terminated, the lock
    /// released.
    @Test func aBatchWhoseConnectionBrokeIsStoredOnceNotFailed() async throws {
        try await self.withTwoNodes { a, b, url in
            let logger = Logger(label: "parley.test.locker")
            let locker = try await url.connect(id: 99, logger: logger)
            try await locker.query("BEGIN", logger: logger)
            try await locker.query("LOCK TABLE target_heads IN EXCLUSIVE MODE", logger: logger)
            let appending = Task { try await a.append([self.message("m1", "#c"), self.message("m2", "#c")]) }
            let batches =
                "pg_stat_activity WHERE datname = current_database() AND query LIKE 'INSERT INTO target_heads%'"
            #expect(
                try await self.waitUntil(
                    "SELECT count(*)::text FROM \(batches) AND wait_event_type = 'Lock'",
                    is: "1",
                    url
                ),
                "the batch waits for the lock"
            )
            // The backend holding the batch, by pid: the store's retry may be waiting on the lock again (under
            // another pid) before the first is seen gone, so counting waiting inserts would race with it.
            let pids = try await PostgresAdmin.run(["SELECT string_agg(pid::text, ',') FROM \(batches)"], on: url)
            let held = try #require(pids.first)
            try await PostgresAdmin.run(
                ["SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE pid IN (\(held))"],
                on: url
            )
            // The backend ends a moment after it is told to: release the lock only once it has.
            #expect(
                try await self.waitUntil(
                    "SELECT count(*)::text FROM pg_stat_activity WHERE pid IN (\(held))",
                    is: "0",
                    url
                ),
                "the backend ended"
            )
            try await locker.query("COMMIT", logger: logger)
            try await locker.close()
            try await appending.value
            let stored = try await b.messages(in: "#c", after: 0, limit: 10)
            #expect(stored.map(\.message.msgid) == ["m1", "m2"])
            #expect(stored.map(\.number) == [1, 2], "numbered once")
        }
    }

    /// An attempt given up at its deadline (it waited on a lock) may still commit once the lock goes; the attempt
    /// after it, queued behind the same lock, then finds its message ids taken (SQLSTATE 23505): the batch was
    /// stored, once, by the first. Neither an error nor a second copy.
    @Test func anAttemptGivenUpThatCommittedAfterAllIsStoredOnce() async throws {
        try await self.withTwoNodes { a, b, url in
            a.attemptDeadline = .seconds(1)
            let logger = Logger(label: "parley.test.locker")
            let locker = try await url.connect(id: 98, logger: logger)
            try await locker.query("BEGIN", logger: logger)
            try await locker.query("LOCK TABLE target_heads IN EXCLUSIVE MODE", logger: logger)
            let appending = Task { try await a.append([self.message("late1", "#c"), self.message("late2", "#c")]) }
            let waiting =
                "SELECT (count(*) >= 2)::text FROM pg_stat_activity WHERE datname = current_database() "
                + "AND query LIKE 'INSERT INTO target_heads%' AND wait_event_type = 'Lock'"
            #expect(
                try await self.waitUntil(waiting, is: "true", url),
                "the attempt given up still waits on the lock, and the next one behind it"
            )
            try await locker.query("COMMIT", logger: logger)
            try await locker.close()
            try await appending.value
            let stored = try await b.messages(in: "#c", after: 0, limit: 10)
            #expect(stored.map(\.message.msgid) == ["late1", "late2"])
            #expect(stored.map(\.number) == [1, 2], "numbered once")
        }
    }

    /// Whether `sql` answers `answer` within about five seconds.
    private func waitUntil(_ sql: String, is answer: String, _ url: PostgresURL) async throws -> Bool {
        for _ in 0..<200 {
            if try await PostgresAdmin.run([sql], on: url) == [answer] { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    /// A registered nick held for its owner is refused, on every node, to claims that respect holds (anyone not
    /// logged in to its account) until the hold ends; its owner's claim passes.
    @Test func aNickHeldForItsOwnerIsRefusedToOthersOnEveryNode() async throws {
        try await self.withTwoNodes { a, b, _ in
            try await a.joinCluster(node: "a", lease: .seconds(30))
            try await b.joinCluster(node: "b", lease: .seconds(30))
            try await a.holdNick("carol", forSeconds: 300)
            let stranger = try await b.claimNick("carol", display: "carol", node: "b", respectingHolds: true)
            #expect(!stranger, "held for the owner")
            let owner = try await b.claimNick("carol", display: "carol", node: "b", respectingHolds: false)
            #expect(owner)
            try await b.releaseNick("carol", node: "b")
            try await a.holdNick("dave", forSeconds: 0)
            let afterHold = try await b.claimNick("dave", display: "dave", node: "b", respectingHolds: true)
            #expect(afterHold, "a hold that ended refuses nothing")
        }
    }

    /// Every node cloaks hosts with the same key: the first node's becomes the cluster's.
    @Test func theCloakKeyIsSharedByEveryNode() async throws {
        try await self.withTwoNodes { a, b, _ in
            let first = try await a.sharedSecret("cloak-key", candidate: "key-of-a")
            let second = try await b.sharedSecret("cloak-key", candidate: "key-of-b")
            let again = try await a.sharedSecret("cloak-key", candidate: "another")
            #expect([first, second, again] == ["key-of-a", "key-of-a", "key-of-a"])
        }
    }

    @Test func aSingleNodeSendsNoNotifications() async throws {
        try await self.withTwoNodes { a, _, url in
            let (stream, continuation) = AsyncStream.makeStream(of: ClusterEvent.self)
            let listening = Task { await ClusterFeed(url: url).run { continuation.yield($0) } }
            var iterator = stream.makeAsyncIterator()
            #expect(await iterator.next() == .connected)
            try await a.append([self.message("quiet", "#c")])
            // A marker from a notifying store: if the first append had notified, its event would come first.
            a.notifiesOtherNodes = true
            try await a.append([self.message("loud", "#marker")])
            #expect(
                await iterator.next()
                    == .carried([NumberedMessage(number: 1, message: self.message("loud", "#marker"))])
            )
            listening.cancel()
            await listening.value
        }
    }
}
