import ParleyCore
import ParleyIRC
import Testing

/// draft/multiline as plain values: a client's batch becomes one message, sent as a batch to members with the
/// capability and as separate lines to the rest, stored once with its lines joined.
@Suite struct MultilineTests {
    private static let caps = ["batch", "message-tags", "echo-message", "server-time", "labeled-response"]

    private static func harness() -> CoreHarness {
        var h = CoreHarness.withAccounts([])
        h.connect("ann", caps: Self.caps + ["draft/multiline"])
        h.connect("ben", caps: Self.caps + ["draft/multiline"])
        h.connect("cat", caps: Self.caps)
        for name in ["ann", "ben", "cat"] {
            h.send(name, "JOIN #room")
        }
        for name in ["ann", "ben", "cat"] { _ = h.take(name) }
        h.persisted.removeAll()
        return h
    }

    private static func send(_ h: inout CoreHarness, _ lines: [String], label: String? = nil) {
        h.send("ann", (label.map { "@label=\($0) " } ?? "") + "BATCH +b1 draft/multiline #room")
        for line in lines { h.send("ann", line) }
        h.send("ann", "BATCH -b1")
    }

    @Test func theTextSplitsAndJoinsByItsLines() throws {
        let text = MultilineText(lines: [.init("hello"), .init("how is "), .init("everyone?", concat: true)])
        #expect(text.combined == "hello\nhow is everyone?")
        #expect(text.byteCount == 5 + 1 + 7 + 9)
        let long = String(repeating: "word ", count: 100) + "end"
        let back = MultilineText(combined: "first\n" + long)
        #expect(back.combined == "first\n" + long)
        #expect(back.lines.count > 2 && back.lines.allSatisfy { $0.text.utf8.count <= MultilineText.lineBytes })
        #expect(!back.lines[1].concat && back.lines[2].concat && back.lines[1].text.hasSuffix(" "))
        let wide = MultilineText(combined: String(repeating: "é", count: 300), lineBytes: 401)
        #expect(wide.lines.map { $0.text.utf8.count } == [400, 200], "never cut inside a character")
        #expect(MultilineText.needsLines("a\nb") && !MultilineText.needsLines("one line"))

        // What a client sends: within the server's limits, in as many messages as needed, none starting mid-line.
        let limits = try #require(MultilineText.Limits(capabilityValue: "max-bytes=20,max-lines=3"))
        #expect(limits == .init(maximumBytes: 20, maximumLines: 3))
        #expect(MultilineText.Limits(capabilityValue: "max-lines=3") == nil, "max-bytes is required")
        let messages = MultilineText.messages(
            "a\nb\nc\nd\n\n" + String(repeating: "x", count: 30),
            lineBytes: 12,
            limits: limits
        )
        #expect(
            messages.map(\.combined) == [
                "a\nb\nc", "d\n\n" + String(repeating: "x", count: 12), String(repeating: "x", count: 18),
            ]
        )
        #expect(messages.allSatisfy { $0.lines.count <= 3 && $0.byteCount <= 20 && $0.lines.first?.concat == false })
    }

    @Test func membersWithTheCapabilityGetOneBatchOthersTheLines() throws {
        var h = Self.harness()
        Self.send(
            &h,
            [
                "@batch=b1 PRIVMSG #room hello", "@batch=b1 PRIVMSG #room :", "@batch=b1 PRIVMSG #room :how is ",
                "@batch=b1;draft/multiline-concat PRIVMSG #room :everyone?",
            ],
            label: "xyz"
        )
        let echo = h.take("ann")
        let open = try #require(echo.first)
        #expect(open.command == .batch && open.parameters.dropFirst().elementsEqual(["draft/multiline", "#room"]))
        #expect(open.tag("label") == "xyz", "the label goes on the opening BATCH, not on a batch around it")
        let msgid = try #require(open.tag("msgid"))
        #expect(echo.count == 6 && echo.last?.parameters == ["-" + open.parameters[0].dropFirst()])

        let relay = h.take("ben")
        #expect(relay.count == 6 && relay[0].tag("msgid") == msgid && relay[0].tag("label") == nil)
        #expect(relay[1...4].map { $0.parameters[1] } == ["hello", "", "how is ", "everyone?"])
        #expect(
            relay[1...4].allSatisfy {
                $0.tag("msgid") == nil && $0.tag("batch") == relay[0].parameters[0].dropFirst().description
            }
        )
        #expect(relay[4].tags.contains { $0.key == "draft/multiline-concat" })

        let fallback = h.take("cat")
        #expect(fallback.map { $0.parameters[1] } == ["hello", "how is ", "everyone?"], "blank lines are left out")
        #expect(fallback.map { $0.tag("msgid") } == [msgid, nil, nil])
        #expect(fallback.allSatisfy { $0.command == .privmsg && $0.tag("time") == open.tag("time") })

        #expect(h.persisted.count == 1)
        #expect(h.persisted.first?.0.parameters == ["#room", "hello\n\nhow is everyone?"])
    }

    @Test func theLimitsAndTheRulesAreEnforcedWithFails() {
        var h = Self.harness()
        h.send("ann", "BATCH +b2 draft/multiline #room")
        h.send("ann", "@batch=b2 PRIVMSG #other hi")
        #expect(
            h.take("ann").map(\.parameters) == [
                ["BATCH", "MULTILINE_INVALID_TARGET", "#room", "#other", "Invalid multiline target"]
            ]
        )
        h.send("ann", "@batch=b2 PRIVMSG #room more")
        h.send("ann", "BATCH -b2")
        #expect(h.take("ann").isEmpty, "a refused batch's other lines and end go without another FAIL")
        #expect(h.take("ben").isEmpty && h.persisted.isEmpty)

        h.send("ann", "BATCH +b3 draft/multiline #room")
        h.send("ann", "@batch=b3 PRIVMSG #room :hi")
        h.send("ann", "@batch=b3;draft/multiline-concat PRIVMSG #room :")
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["BATCH", "MULTILINE_INVALID"]])
        h.send("ann", "BATCH -b3")

        h.send("ann", "BATCH +b4 draft/multiline #room")
        for _ in 0..<101 { h.send("ann", "@batch=b4 PRIVMSG #room hi") }
        #expect(h.take("ann").map { Array($0.parameters.prefix(3)) } == [["BATCH", "MULTILINE_MAX_LINES", "100"]])
        h.send("ann", "BATCH -b4")

        h.send("ann", "BATCH +b5 draft/multiline #room")
        for _ in 0..<11 { h.send("ann", "@batch=b5 PRIVMSG #room " + String(repeating: "x", count: 400)) }
        #expect(h.take("ann").map { Array($0.parameters.prefix(3)) } == [["BATCH", "MULTILINE_MAX_BYTES", "4096"]])
        h.send("ann", "BATCH -b5")

        h.send("ann", "BATCH +b6 draft/multiline #room")
        h.send("ann", "@batch=b6 PRIVMSG #room :")
        h.send("ann", "BATCH -b6")
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["BATCH", "MULTILINE_INVALID"]], "all blank")

        h.send("ann", "@batch=nope PRIVMSG #room hi")
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["BATCH", "MULTILINE_INVALID"]])
        h.send("cat", "BATCH +c draft/multiline #room")
        #expect(
            h.take("cat").map { Array($0.parameters.prefix(2)) } == [["BATCH", "MULTILINE_INVALID"]],
            "no capability"
        )
        #expect(h.take("ben").isEmpty && h.persisted.isEmpty)
    }

    @Test func otherCommandsGoOnWhileABatchIsOpen() {
        var h = Self.harness()
        h.send("ann", "BATCH +b7 draft/multiline ben")
        h.send("ann", "@batch=b7 PRIVMSG ben :one")
        h.send("ann", "PING x")
        #expect(h.take("ann").map(\.command) == [.pong])
        h.send("ann", "@batch=b7 PRIVMSG BEN :two")
        h.send("ann", "BATCH -b7")
        let relay = h.take("ben")
        #expect(relay.count == 4 && relay[1...2].map { $0.parameters } == [["ben", "one"], ["ben", "two"]])
        #expect(h.persisted.map(\.0.parameters.last) == ["one\ntwo", "one\ntwo"], "both parties' copies")
    }

    @Test func aStoredMultilineMessageIsReplayedAsANestedBatchOrAsLines() throws {
        var h = Self.harness()
        h.send("ben", "CAP REQ draft/chathistory")
        h.send("cat", "CAP REQ draft/chathistory")
        _ = h.take("ben")
        _ = h.take("cat")
        let stored = IRCMessage(
            tags: [IRCTag("time", "2026-12-07T10:00:00.000Z"), IRCTag("msgid", "m1")],
            source: "ann!ann@host",
            command: .privmsg,
            parameters: ["#room", "a\nb"]
        )
        for name in ["ben", "cat"] {
            h.send(name, "CHATHISTORY LATEST #room * 10")
            let query = try #require(h.historyQueries.last)
            h.outbox.removeAll()
            h.state.historyLoaded(query, messages: [stored], into: &h.outbox)
            h.collect()
        }
        let batched = h.take("ben")
        #expect(batched.map(\.command) == [.batch, .batch, .privmsg, .privmsg, .batch, .batch])
        let outer = batched[0].parameters[0].dropFirst().description
        let inner = batched[1].parameters[0].dropFirst().description
        #expect(batched[1].tag("batch") == outer && batched[1].tag("msgid") == "m1")
        #expect(batched[2].tag("batch") == inner && batched[4].tag("batch") == outer)
        let lines = h.take("cat")
        #expect(lines.filter { $0.command == .privmsg }.map { $0.parameters[1] } == ["a", "b"])
        #expect(lines.filter { $0.command == .privmsg }.allSatisfy { $0.tag("batch") != nil })
    }
}
