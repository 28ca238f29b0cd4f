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

    /// A commit's messages ride in its notification and come back exactly, whatever their text; one too large to
    /// ride is named by its target's head instead, for the nodes to read.
    @Test func aCommitsMessagesAreCarriedExactlyAndOnesTooLargeAreNamedForReading() throws {
        let odd = StoredMessage(
            msgid: "n1.abc-1",
            target: "#c",
            time: 1_795_615_041_000,
            sender: "ä!u@h",
            account: "acct",
            command: "PRIVMSG",
            recipient: "#C",
            text: "line one\nline 2: \u{1}ACTION 12:34 \u{1F}ü\u{1}",
            tags: "+x=1;+y"
        )
        let plain = StoredMessage(
            msgid: "n1.abc-2",
            target: "\u{1}alice\u{1}bob",
            time: 2,
            sender: "a!u@h",
            command: "TAGMSG",
            recipient: "bob",
            text: ""
        )
        let large = StoredMessage(
            msgid: "n1.abc-3",
            target: "#big",
            time: 3,
            sender: "a!u@h",
            command: "PRIVMSG",
            recipient: "#big",
            text: String(repeating: "x", count: signalLimit)
        )
        let payloads = ClusterFeed.payloads(
            messages: [odd, plain, large],
            numbers: [7, 1, 4],
            heads: ["#c": 7, "\u{1}alice\u{1}bob": 1, "#big": 4]
        )
        #expect(payloads.count == 2)
        #expect(payloads.allSatisfy { $0.utf8.count <= signalLimit })
        #expect(
            ClusterFeed.event(payloads[0])
                == .carried([NumberedMessage(number: 7, message: odd), NumberedMessage(number: 1, message: plain)])
        )
        #expect(ClusterFeed.event(payloads[1]) == .newMessages(["#big": 4]))

        // Many messages go in as few payloads as fit, none lost.
        let many = (1...200).map {
            StoredMessage(
                msgid: "m\($0)",
                target: "#c",
                time: 1,
                sender: "a!u@h",
                command: "PRIVMSG",
                recipient: "#c",
                text: String(repeating: "y", count: 100)
            )
        }
        let packed = ClusterFeed.payloads(messages: many, numbers: Array(1...200), heads: ["#c": 200])
        #expect(packed.count > 1 && packed.count < 10)
        var numbers: [Int64] = []
        for payload in packed {
            guard case .carried(let part) = ClusterFeed.event(payload) else {
                Issue.record("not read back: \(payload.prefix(40))")
                continue
            }
            numbers += part.map(\.number)
        }
        #expect(numbers == Array(1...200))
    }

    @Test func malformedCarriedPayloadsAreIgnored() {
        let one = ClusterFeed.encode(
            StoredMessage(
                msgid: "a",
                target: "#c",
                time: 1,
                sender: "s",
                command: "PRIVMSG",
                recipient: "#c",
                text: "hi"
            ),
            number: 1
        )
        #expect(ClusterFeed.event("m " + one) != nil)
        for payload in ["m ", "m x", "m 3:ab", "m " + one.dropLast(), "m " + one + "1:", "m 99:" + one, "m -1:x"] {
            #expect(ClusterFeed.event(payload) == nil, "\(payload.debugDescription)")
        }
    }
}
