import NIOConcurrencyHelpers
import ParleyStore
import Testing

/// What each CHATHISTORY query means, worked out once in ParleyStore, checked here on a store that only records
/// the ranges it is asked to read (no database): the stores only render ranges.
@Suite struct HistoryRangeTests {
    /// Knows one message (`m5` at time 50, sequence 5) and records each read.
    final class RangeRecorder: MessageStore {
        private let reads = NIOLockedValueBox<[HistoryRange]>([])
        var ranges: [HistoryRange] { self.reads.withLockedValue { $0 } }

        func check() async throws {}
        func append(_ messages: [StoredMessage]) async throws {}
        func position(of msgid: String, in target: String) async throws -> HistoryPosition? {
            msgid == "m5" && target == "#t" ? HistoryPosition(time: 50, sequence: 5) : nil
        }
        func sender(of msgid: String, in target: String) async throws -> (account: String?, sender: String)? { nil }
        func delete(_ msgid: String, in targets: [String]) async throws -> Int { 0 }
        func read(_ range: HistoryRange) async throws -> [StoredMessage] {
            self.reads.withLockedValue { $0.append(range) }
            // Two rows whatever was asked, so `around` has a count to subtract.
            let row = StoredMessage(msgid: "x", target: "#t", time: 0, sender: "", command: "", recipient: "", text: "")
            return Array(repeating: row, count: min(2, range.limit))
        }
        func pendingDeliveries(for account: String) async throws -> [StoredMessage] { [] }
        func acknowledgeDeliveries(for account: String, through sequence: Int64) async throws {}
        func channelEnds() async throws -> [String: Int64] { [:] }
        func search(_ query: SearchQuery) async throws -> [StoredMessage] { [] }
        func prune(olderThan cutoff: Int64?, keepPerTarget: Int?) async throws -> Int { 0 }
        func targets(
            channels: [String],
            directFor owner: String,
            from: Int64,
            to: Int64,
            limit: Int
        ) async throws -> [(target: String, time: Int64)] { [] }
    }

    let m5 = HistoryPosition(time: 50, sequence: 5)

    @Test func latestReadsTheNewestEndAfterItsBound() async throws {
        let store = RangeRecorder()
        _ = try await store.latest("#t", after: nil, limit: 10, events: false)
        _ = try await store.latest("#t", after: .msgid("m5"), limit: 10, events: true)
        _ = try await store.latest("#t", after: .timestamp(70), limit: 10, events: true)
        #expect(
            store.ranges == [
                HistoryRange(target: "#t", nearest: .before, limit: 10, events: false),
                HistoryRange(target: "#t", after: self.m5, nearest: .before, limit: 10, events: true),
                // After a time: after every message of that millisecond.
                HistoryRange(
                    target: "#t",
                    after: HistoryPosition(time: 70, sequence: .max),
                    nearest: .before,
                    limit: 10,
                    events: true
                ),
            ]
        )
    }

    @Test func beforeAndAfterCountFromTheirPoint() async throws {
        let store = RangeRecorder()
        _ = try await store.before("#t", .timestamp(70), limit: 3, events: true)
        _ = try await store.after("#t", .msgid("m5"), limit: 4, events: true)
        #expect(
            store.ranges == [
                HistoryRange(
                    target: "#t",
                    before: HistoryPosition(time: 70, sequence: .min),
                    nearest: .before,
                    limit: 3,
                    events: true
                ),
                HistoryRange(target: "#t", after: self.m5, nearest: .after, limit: 4, events: true),
            ]
        )
    }

    @Test func aroundTakesHalfBeforeAndTheRestFromTheMessageOn() async throws {
        let store = RangeRecorder()
        _ = try await store.around("#t", .msgid("m5"), limit: 9, events: true)
        #expect(
            store.ranges == [
                HistoryRange(target: "#t", before: self.m5, nearest: .before, limit: 4, events: true),
                // The recorder returned 2 earlier rows, so 7 remain; the bound is one step back, so m5 is included.
                HistoryRange(
                    target: "#t",
                    after: HistoryPosition(time: 50, sequence: 4),
                    nearest: .after,
                    limit: 7,
                    events: true
                ),
            ]
        )
    }

    @Test func betweenReadsFromWhicheverEndItStartsAt() async throws {
        let store = RangeRecorder()
        _ = try await store.between("#t", .msgid("m5"), .timestamp(90), limit: 5, events: true)
        _ = try await store.between("#t", .timestamp(90), .msgid("m5"), limit: 5, events: true)
        #expect(
            store.ranges == [
                HistoryRange(
                    target: "#t",
                    after: self.m5,
                    before: HistoryPosition(time: 90, sequence: .min),
                    nearest: .after,
                    limit: 5,
                    events: true
                ),
                // Backwards: the same messages, the 5 nearest to the later start.
                HistoryRange(
                    target: "#t",
                    after: self.m5,
                    before: HistoryPosition(time: 90, sequence: .min),
                    nearest: .before,
                    limit: 5,
                    events: true
                ),
            ]
        )
    }

    @Test func anUnknownMessageIdReadsNothing() async throws {
        let store = RangeRecorder()
        #expect(try await store.before("#t", .msgid("nope"), limit: 5, events: true).isEmpty)
        #expect(try await store.around("#t", .msgid("m5"), limit: 0, events: true).isEmpty)
        #expect(try await store.between("#t", .msgid("nope"), .timestamp(1), limit: 5, events: true).isEmpty)
        #expect(try await store.latest("#u", after: .msgid("m5"), limit: 5, events: true).isEmpty)
        #expect(store.ranges.isEmpty)
    }
}
