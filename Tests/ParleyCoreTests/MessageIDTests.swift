import ParleyCore
import Testing

/// The msgid format, read and written by one type.
@Suite struct MessageIDTests {
    @Test func aClusterMsgidReadsBackAsItsNodeRunAndCounter() throws {
        let id = try #require(MessageID("host-1060.mhx3k2-1z"))
        #expect(id.node == "host-1060", "a node name may hold dashes: the counter is after the last one")
        #expect(id.run == "mhx3k2")
        #expect(id.counter == 71)
        #expect(id.origin == "host-1060.mhx3k2")
        #expect(id.description == "host-1060.mhx3k2-1z")
    }

    @Test func aSingleServerMsgidHasNoNode() throws {
        let id = try #require(MessageID("mhx3k2-a"))
        #expect(id.node == nil)
        #expect(id.origin == "mhx3k2")
        #expect(MessageID(node: nil, run: "mhx3k2", counter: 10) == id)
    }

    @Test func whatThisServerWritesItReadsBack() {
        for node in [nil, "a", "node-b-17"] {
            for counter: UInt64 in [0, 1, 35, 36, .max] {
                let origin = MessageID.origin(node: node, run: "r0")
                let text = MessageID.text(origin: origin, counter: counter)
                #expect(MessageID(text) == MessageID(node: node, run: "r0", counter: counter), "\(text)")
                #expect(MessageID.isFrom(origin, text) && !MessageID.isFrom(origin + "x", text))
            }
        }
    }

    @Test func anotherRunsOrNodesMsgidIsNotThisOnes() {
        #expect(MessageID.isFrom("a.r0", "a.r0-z"))
        #expect(!MessageID.isFrom("a.r0", "a.r01-z"), "a run whose name starts with this one's")
        #expect(!MessageID.isFrom("a.r0", "a.r0-"), "no counter")
        #expect(!MessageID.isFrom("a", "a-b.r0-1"), "a node whose name starts with this run's")
        #expect(!MessageID.isFrom("b.r0", "a.r0-1"))
    }

    @Test(arguments: ["", "abc", "abc-", "-5", ".run-5", "node.-5", "a.b.c-5", "run-!"])
    func othersMsgidsAreNotTakenForThisServers(text: String) {
        #expect(MessageID(text) == nil)
    }
}
