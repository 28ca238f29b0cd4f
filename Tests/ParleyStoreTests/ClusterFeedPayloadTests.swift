import ParleyStore
import Testing

@testable import ParleyStorePostgres

/// The NOTIFY payloads the nodes of a cluster send each other, read as plain values: what the SQL writes must come
/// back as the event it means, and anything else must be ignored, never misread.
struct ClusterFeedPayloadTests {
    @Test func eachPayloadTheNodesSendIsReadAsItsEvent() {
        #expect(ClusterFeed.event("42 #lobby") == .newMessages(["#lobby": 42]))
        #expect(ClusterFeed.event("7 #a 3 \u{1}alice\u{1}bob") == .newMessages(["#a": 7, "\u{1}alice\u{1}bob": 3]))
        #expect(ClusterFeed.event("+ n1 alice Alice") == .nickClaimed(node: "n1", nick: "alice", display: "Alice"))
        #expect(ClusterFeed.event("- n2 bob") == .nickReleased(node: "n2", nick: "bob"))
        #expect(ClusterFeed.event("x n3") == .nodeGone("n3", lost: true))
        #expect(ClusterFeed.event("l n3") == .nodeGone("n3", lost: false))
        #expect(
            ClusterFeed.event("t n1 @+typing=active :a!u@h TAGMSG #c")
                == .signal(node: "n1", line: "@+typing=active :a!u@h TAGMSG #c")
        )
    }

    @Test func malformedPayloadsAreIgnored() {
        for payload in [
            "", "42", "x", "+ n1 alice", "+ n1 alice Alice extra", "- n2", "x n3 more", "? n1", " 5 #a", "t", "t n1",
            "t n1 ", "t  x", "7 #a 3", "7 #a x #b", "7  #a", "7 #a ",
        ] {
            #expect(ClusterFeed.event(payload) == nil, "\(payload.debugDescription)")
        }
    }

    /// One commit's heads go in as few notifications as fit PostgreSQL's limit, and read back as the same heads.
    @Test func aCommitsHeadsFitInAsFewPayloadsAsTheLimitAllows() {
        #expect(ClusterFeed.payloads(heads: ["#b": 2, "#a": 10]) == ["10 #a 2 #b"])
        var heads: [String: Int64] = [:]
        for index in 0..<1_000 { heads["#channel-with-a-long-name-\(index)"] = Int64(index + 1) }
        let payloads = ClusterFeed.payloads(heads: heads)
        #expect(payloads.count > 1)
        #expect(payloads.allSatisfy { $0.utf8.count <= signalLimit })
        #expect(payloads.count <= heads.count * 40 / signalLimit + 1)
        var read: [String: Int64] = [:]
        for payload in payloads {
            guard case .newMessages(let part) = ClusterFeed.event(payload) else {
                Issue.record("not read back: \(payload.prefix(40))")
                continue
            }
            read.merge(part) { _, _ in -1 }
        }
        #expect(read == heads)
    }
}
