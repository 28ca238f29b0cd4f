import Foundation
import ParleyCore
import ParleyStore
import Testing

/// What every store must do, run against each store (``StoreKind``): the server relies on nothing else.
@Suite struct StoreContractTests {
    @Test func theTestDatabaseIsThereInCI() {
        // CI sets CI=true and starts PostgreSQL; without it the PostgreSQL half of this suite would not run at all.
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(StoreKind.postgresURL != nil, "CI must provide PARLEY_TEST_POSTGRES")
        }
    }

    @Test(arguments: StoreKind.available) func certificateFingerprintsBelongToOneAccountAndGoWithIt(
        kind: StoreKind
    )
        async throws
    {
        try await kind.withStore { store in
            for name in ["ann", "ben"] {
                let created = try await store.create(
                    Account(name: name, displayName: name, createdAt: 1, credentials: someCredentials)
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

    @Test(arguments: StoreKind.available) func accountsRoundTripAndNamesAreUnique(kind: StoreKind) async throws {
        try await kind.withStore { store in
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
            let names = try await store.accountNames()
            #expect(names == ["alice"])
            let dropped = try await store.drop("alice")
            #expect(dropped)
            let droppedAgain = try await store.drop("alice")
            #expect(droppedAgain == false)
            let gone = try await store.account(named: "alice")
            #expect(gone == nil)
        }
    }

    @Test(arguments: StoreKind.available) func historyQueriesFollowChathistorySemantics(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.append(lobbyMessages())
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
            #expect(ids(try await store.latest("#lobby", after: nil, limit: 4)) == ["m6", "m7", "m8", "m9"])
            #expect(ids(try await store.latest("#lobby", after: .msgid("m7"), limit: 10)) == ["m8", "m9"])
            #expect(ids(try await store.before("#lobby", .msgid("m5"), limit: 3)) == ["m2", "m3", "m4"])
            #expect(ids(try await store.before("#lobby", .timestamp(1002), limit: 10)) == ["m0", "m1", "m2", "m3"])
            #expect(ids(try await store.after("#lobby", .msgid("m5"), limit: 2)) == ["m6", "m7"])
            #expect(ids(try await store.after("#lobby", .timestamp(1003), limit: 10)) == ["m8", "m9"])
            #expect(ids(try await store.around("#lobby", .msgid("m5"), limit: 4)) == ["m3", "m4", "m5", "m6"])
            #expect(
                ids(try await store.between("#lobby", .msgid("m1"), .msgid("m6"), limit: 10))
                    == ["m2", "m3", "m4", "m5"]
            )
            #expect(ids(try await store.between("#lobby", .msgid("m1"), .msgid("m6"), limit: 2)) == ["m2", "m3"])
            // Backwards: the two closest to the start, still oldest first.
            #expect(ids(try await store.between("#lobby", .msgid("m6"), .msgid("m1"), limit: 2)) == ["m4", "m5"])
            #expect(try await store.before("#lobby", .msgid("missing"), limit: 5).isEmpty)
            #expect(try await store.before("#lobby", .msgid("other"), limit: 5).isEmpty, "a msgid of another target")
            #expect(try await store.latest("#lobby", after: nil, limit: 0).isEmpty)
            #expect(ids(try await store.latest("#dev", after: nil, limit: 5)) == ["other"])
        }
    }

    @Test(arguments: StoreKind.available) func channelEventsAreLeftOutWhenAsked(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let commands = ["JOIN", "PRIVMSG", "PART", "NOTICE", "TAGMSG", "TOPIC", "AWAY"]
            try await store.append(
                commands.enumerated().map { index, command in
                    StoredMessage(
                        msgid: "e\(index)",
                        target: "#c",
                        time: Int64(index),
                        sender: "a!a@h",
                        command: command,
                        recipient: "#c",
                        text: ""
                    )
                }
            )
            #expect(ids(try await store.latest("#c", after: nil, limit: 10, events: false)) == ["e1", "e3", "e4"])
            #expect(ids(try await store.latest("#c", after: nil, limit: 10, events: true)).count == 6)
            // A cluster's AWAY row is never history, and never takes the place of a line in a page.
            #expect(ids(try await store.latest("#c", after: nil, limit: 2, events: true)) == ["e4", "e5"])
            #expect(ids(try await store.before("#c", .msgid("e6"), limit: 2, events: true)) == ["e4", "e5"])
            #expect(ids(try await store.after("#c", .msgid("e0"), limit: 2, events: false)) == ["e1", "e3"])
        }
    }

    @Test(arguments: StoreKind.available) func storesEveryFieldOfAMessage(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let dm = StoredMessage(
                msgid: "dm1",
                target: HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey,
                time: 5,
                sender: "alice!a@h",
                account: "alice",
                command: "NOTICE",
                recipient: "bob",
                text: "the quick brown fox — ünïcode ✓",
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
        }
    }

    /// Where a channel's incarnation ended is an ENDED row: read back at start, never shown as history.
    @Test(arguments: StoreKind.available) func channelEndsAreReadBackAndNeverShown(kind: StoreKind) async throws {
        try await kind.withStore { store in
            func row(_ id: String, _ target: String, _ time: Int64, _ command: String) -> StoredMessage {
                StoredMessage(
                    msgid: id,
                    target: target,
                    time: time,
                    sender: "irc.test",
                    command: command,
                    recipient: "",
                    text: target
                )
            }
            try await store.append([
                row("e1", "#a", 10, "ENDED"), row("p1", "#a", 15, "PRIVMSG"), row("e2", "#a", 20, "ENDED"),
                row("e3", "#b", 5, "ENDED"), row("j1", "#c", 7, "JOIN"),
            ])
            #expect(try await store.channelEnds() == ["#a": 20, "#b": 5])
            #expect(try await store.latest("#a", after: nil, limit: 10, events: true).map(\.msgid) == ["p1"])
        }
    }

    @Test(arguments: StoreKind.available) func aDuplicateMessageIDRollsBackTheWholeBatch(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.append(Array(lobbyMessages().prefix(2)))
            await #expect(throws: (any Error).self) { try await store.append(Array(lobbyMessages().suffix(9))) }
            #expect(ids(try await store.latest("#lobby", after: nil, limit: 20)) == ["m0", "m1"])
        }
    }

    @Test(arguments: StoreKind.available) func aLargeBatchKeepsItsOrder(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let batch = (0..<2_000).map { index in
                StoredMessage(
                    msgid: "b\(index)",
                    target: "#big",
                    time: 7,
                    sender: "a!a@h",
                    command: "PRIVMSG",
                    recipient: "#big",
                    text: "\(index)"
                )
            }
            try await store.append(batch)
            let newest = try await store.latest("#big", after: nil, limit: 3)
            #expect(ids(newest) == ["b1997", "b1998", "b1999"], "same time: insertion order decides")
            #expect(newest.map(\.sequence) == newest.map(\.sequence).sorted())
        }
    }

    @Test(arguments: StoreKind.available) func pendingDeliveriesAreTakenOnceAndSearchQuotesUserText(
        kind: StoreKind
    )
        async throws
    {
        try await kind.withStore { store in
            let key = HistoryTarget.conversation(owner: "a:bob", correspondent: "zed").storageKey
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
                StoredMessage(
                    msgid: "c",
                    target: HistoryTarget.conversation(owner: "a:bobby", correspondent: "zed").storageKey,
                    time: 3,
                    sender: "zed!z@h",
                    command: "PRIVMSG",
                    recipient: "bobby",
                    text: "not for bob, quoted"
                ),
            ])
            // They wait until acknowledged: a session that drops before it has them gets them next time.
            let waiting = try await store.pendingDeliveries(for: "bob")
            #expect(waiting.map(\.msgid) == ["a"])
            #expect(try await store.pendingDeliveries(for: "bob").map(\.msgid) == ["a"])
            try await store.acknowledgeDeliveries(for: "bob", through: waiting[0].sequence)
            #expect(try await store.pendingDeliveries(for: "bob").isEmpty)
            // Query operators in user text are words, not syntax; bobby's conversation is not bob's.
            let hits = try await store.search(
                SearchQuery(targets: [], directFor: "a:bob", text: "NOT \"quoted", limit: 10)
            )
            #expect(hits.map(\.msgid) == ["a"])
            let bySender = try await store.search(SearchQuery(targets: ["#c"], sender: "zed", limit: 10))
            #expect(bySender.map(\.msgid) == ["b"])
            let outside = try await store.search(SearchQuery(targets: ["#other"], text: "plain", limit: 10))
            #expect(outside.isEmpty)
            let words = try await store.search(SearchQuery(targets: ["#c"], text: "WORDS plain", limit: 10))
            #expect(words.map(\.msgid) == ["b"], "every word, any order, any case")
            let missingWord = try await store.search(SearchQuery(targets: ["#c"], text: "plain zebra", limit: 10))
            #expect(missingWord.isEmpty)
            let timed = try await store.search(SearchQuery(targets: ["#c"], after: 2, limit: 10))
            #expect(timed.isEmpty, "bounds are exclusive")
        }
    }

    @Test(arguments: StoreKind.available) func aDeletedMessageLeavesEveryCopyItsSearchEntryAndItsDelivery(
        kind: StoreKind
    ) async throws {
        try await kind.withStore { store in
            let mine = HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey
            let theirs = HistoryTarget.conversation(owner: "a:bob", correspondent: "alice").storageKey
            func copy(_ target: String, _ msgid: String, _ text: String, deliverTo: String? = nil) -> StoredMessage {
                var message = StoredMessage(
                    msgid: msgid,
                    target: target,
                    time: 5,
                    sender: "alice!a@h",
                    account: "Alice",
                    command: "PRIVMSG",
                    recipient: "bob",
                    text: text
                )
                message.deliverTo = deliverTo
                return message
            }
            try await store.append([
                copy(mine, "dm1", "regrettable words"), copy(theirs, "dm1", "regrettable words", deliverTo: "bob"),
                copy(mine, "dm2", "kept words"),
            ])
            let found = try await store.sender(of: "dm1", in: mine)
            #expect(found?.account == "Alice" && found?.sender == "alice!a@h")
            #expect(try await store.sender(of: "dm1", in: "#elsewhere") == nil)
            #expect(try await store.delete("dm1", in: [mine, theirs]) == 2)
            #expect(try await store.sender(of: "dm1", in: theirs) == nil)
            #expect(try await store.latest(mine, after: nil, limit: 10).map(\.msgid) == ["dm2"])
            #expect(try await store.pendingDeliveries(for: "bob").isEmpty)
            let hits = try await store.search(SearchQuery(targets: [], directFor: "a:alice", text: "words", limit: 10))
            #expect(hits.map(\.msgid) == ["dm2"])
            #expect(try await store.delete("dm1", in: [mine]) == 0)
        }
    }

    /// A rename order moves what was written before it in the same batch (and before), read markers too, deletes
    /// what an ended channel of the new name left, and what follows it goes under the new key.
    @Test(arguments: StoreKind.available) func aRenameOrderMovesHistoryAndReadMarkersInBatchOrder(
        kind: StoreKind
    ) async throws {
        try await kind.withStore { store in
            func row(_ target: String, _ msgid: String, _ time: Int64) -> StoredMessage {
                StoredMessage(
                    msgid: msgid,
                    target: target,
                    time: time,
                    sender: "ann!a@h",
                    account: nil,
                    command: "PRIVMSG",
                    recipient: target,
                    text: "said \(msgid)"
                )
            }
            try await store.append([row("#old", "o1", 1), row("#new", "stale", 2)])
            _ = try await store.setReadMarker(account: "ann", target: "#old", time: 1)
            var order = row("#old", "r", 4)
            order.command = StoredMessage.renameCommand
            order.text = "#new"
            try await store.append([row("#old", "o2", 3), order, row("#new", "n1", 5)])
            #expect(try await store.latest("#new", after: nil, limit: 10).map(\.msgid) == ["o1", "o2", "n1"])
            #expect(try await store.latest("#old", after: nil, limit: 10).isEmpty)
            #expect(try await store.readMarker(account: "ann", target: "#new") == 1)
            #expect(try await store.readMarker(account: "ann", target: "#old") == nil)
            let hits = try await store.search(SearchQuery(targets: ["#new"], directFor: nil, text: "said", limit: 10))
            #expect(Set(hits.map(\.msgid)) == ["o1", "o2", "n1"], "the search index follows")
            try await store.append([row("#new", "n2", 6)])
            #expect(try await store.latest("#new", after: nil, limit: 10).map(\.msgid) == ["o1", "o2", "n1", "n2"])
        }
    }

    @Test(arguments: StoreKind.available) func readMarkersOnlyMoveForward(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let none = try await store.readMarker(account: "ann", target: "#c")
            #expect(none == nil)
            let first = try await store.setReadMarker(account: "ann", target: "#c", time: 50)
            let back = try await store.setReadMarker(account: "ann", target: "#c", time: 20)
            let forward = try await store.setReadMarker(account: "ann", target: "#c", time: 80)
            #expect([first, back, forward] == [50, 50, 80])
            let other = try await store.readMarker(account: "ben", target: "#c")
            #expect(other == nil)
        }
    }

    @Test(arguments: StoreKind.available) func channelRecordsAreSavedReplacedAndDropped(kind: StoreKind) async throws {
        try await kind.withStore { store in
            var record = ChannelRecord(
                name: "#c",
                displayName: "#C",
                founder: "ann",
                createdAt: 10,
                topic: "hello",
                topicSetter: "ann!a@h",
                topicTime: 11,
                modes: "nt",
                key: "secret",
                limit: 20,
                bans: ["*!*@bad", "evil!*@*"]
            )
            try await store.saveChannel(record)
            try await store.saveChannel(ChannelRecord(name: "#d", displayName: "#d", founder: "ben", createdAt: 1))
            #expect(try await store.channelRecords().sorted { $0.name < $1.name }.first == record)
            record.topic = nil
            record.bans = []
            record.limit = nil
            try await store.saveChannel(record)
            let records = try await store.channelRecords().sorted { $0.name < $1.name }
            #expect(records.count == 2)
            #expect(records.first == record)
            try await store.dropChannel("#c")
            #expect(try await store.channelRecords().map(\.name) == ["#d"])
        }
    }

    @Test(arguments: StoreKind.available) func pruningByAgeAndByCountPerTarget(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.append(lobbyMessages())
            try await store.append(
                (0..<3).map {
                    StoredMessage(
                        msgid: "d\($0)",
                        target: "#dev",
                        time: 2000 + Int64($0),
                        sender: "a!a@h",
                        command: "PRIVMSG",
                        recipient: "#dev",
                        text: "x"
                    )
                }
            )
            let byAge = try await store.prune(olderThan: 1002, keepPerTarget: nil)
            #expect(byAge == 4)
            let byCount = try await store.prune(olderThan: nil, keepPerTarget: 2)
            #expect(byCount == 5)
            #expect(ids(try await store.latest("#lobby", after: nil, limit: 10)) == ["m8", "m9"])
            #expect(ids(try await store.latest("#dev", after: nil, limit: 10)) == ["d1", "d2"])
        }
    }

    /// More rows than one pruning step (SQLite deletes 500 at a time), in two targets whose rows interleave.
    @Test(arguments: StoreKind.available) func pruningManyRowsTakesThemAllAndKeepsTheRest(kind: StoreKind) async throws
    {
        try await kind.withStore { store in
            let old = (0..<1_234).map { (index: Int) -> StoredMessage in
                let target = index % 2 == 0 ? "#a" : "#b"
                return StoredMessage(
                    msgid: "o\(index)",
                    target: target,
                    time: 1_000 + Int64(index),
                    sender: "a!a@h",
                    command: "PRIVMSG",
                    recipient: target,
                    text: "old \(index)"
                )
            }
            let new = (0..<1_100).map { (index: Int) -> StoredMessage in
                StoredMessage(
                    msgid: "n\(index)",
                    target: "#a",
                    time: 10_000 + Int64(index),
                    sender: "a!a@h",
                    command: "PRIVMSG",
                    recipient: "#a",
                    text: "new \(index)"
                )
            }
            try await store.append(old)
            try await store.append(new)
            #expect(try await store.prune(olderThan: 10_000, keepPerTarget: nil) == 1_234)
            #expect(try await store.latest("#b", after: nil, limit: 10).isEmpty)
            #expect(try await store.prune(olderThan: nil, keepPerTarget: 3) == 1_097)
            #expect(ids(try await store.latest("#a", after: nil, limit: 10)) == ["n1097", "n1098", "n1099"])
        }
    }

    @Test(arguments: StoreKind.available) func conversationsWithNewsBetweenTwoTimes(kind: StoreKind) async throws {
        try await kind.withStore { store in
            func message(_ id: String, _ target: String, _ time: Int64, _ command: String = "PRIVMSG") -> StoredMessage
            {
                StoredMessage(
                    msgid: id,
                    target: target,
                    time: time,
                    sender: "a!a@h",
                    command: command,
                    recipient: target,
                    text: "x"
                )
            }
            try await store.append([
                message("1", "#a", 10), message("2", "#a", 30), message("3", "#b", 20),
                message("4", HistoryTarget.conversation(owner: "a:ann", correspondent: "zed").storageKey, 25),
                message("5", HistoryTarget.conversation(owner: "a:anne", correspondent: "zed").storageKey, 26),
                message("6", "#c", 40, "JOIN"),
                message("7", HistoryTarget.conversation(owner: "a:ann", correspondent: "aaa").storageKey, 27),
                // The other party's copy of a conversation with ann is not ann's.
                message("8", HistoryTarget.conversation(owner: "a:zed", correspondent: "ann").storageKey, 28),
                // A DM has one msgid and a copy per party: the same msgid under another key is no duplicate.
                message("7", HistoryTarget.conversation(owner: "c:x.1", correspondent: "ann").storageKey, 27),
            ])
            let found = try await store.targets(
                channels: ["#a", "#b", "#c"],
                directFor: "a:ann",
                from: 0,
                to: 100,
                limit: 10
            )
            let (zed, aaa) = (
                HistoryTarget.conversation(owner: "a:ann", correspondent: "zed").storageKey,
                HistoryTarget.conversation(owner: "a:ann", correspondent: "aaa").storageKey
            )
            #expect(found.map(\.target) == ["#b", zed, aaa, "#a"])
            #expect(found.map(\.time) == [20, 25, 27, 30])
            let window = try await store.targets(
                channels: ["#a", "#b"],
                directFor: "a:ann",
                from: 20,
                to: 30,
                limit: 10
            )
            #expect(window.map(\.target) == [zed, aaa])
        }
    }
}
