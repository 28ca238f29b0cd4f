import ParleyStore
import Testing

@testable import ParleyStorePostgres

/// The NOTIFY payloads the nodes of a cluster send each other, read as plain values: what the SQL writes must come
/// back as the event it means, and anything else must be ignored, never misread.
struct ClusterFeedPayloadTests {
    @Test func eachPayloadTheNodesSendIsReadAsItsEvent() {
        #expect(ClusterFeed.event("42 #lobby") == .newMessages(target: "#lobby", head: 42))
        #expect(ClusterFeed.event("7 alice bob") == .newMessages(target: "alice bob", head: 7))
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
            "t n1 ", "t  x",
        ] {
            #expect(ClusterFeed.event(payload) == nil, "\(payload.debugDescription)")
        }
    }
}
