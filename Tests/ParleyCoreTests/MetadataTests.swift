import ParleyCore
import ParleyIRC
import Testing

/// IRCv3 metadata as plain values: who may set what, who hears of a change, and what a joiner learns.
@Suite struct MetadataTests {
    private static let caps = ["draft/metadata-3", "batch"]

    @Test func aUsersKeysReachSubscribersWhoShareAChannel() {
        var h = CoreHarness()
        h.connect("ann", caps: Self.caps)
        h.connect("ben", caps: Self.caps)
        h.connect("cat", caps: Self.caps)
        h.send("ben", "METADATA * SUB display-name avatar")
        #expect(h.take("ben").map(\.parameters) == [["ben", "display-name", "avatar"]])
        h.send("cat", "METADATA * SUB display-name")
        _ = h.take("cat")
        for name in ["ann", "ben"] { h.send(name, "JOIN #room") }
        for name in ["ann", "ben"] { _ = h.take(name) }

        h.send("ann", "METADATA * SET display-name :Ann Example")
        #expect(h.take("ann").map(\.parameters) == [["ann", "ann", "display-name", "*", "Ann Example"]])
        #expect(h.take("ben").map(\.parameters) == [["ben", "ann", "display-name", "*", "Ann Example"]])
        #expect(h.take("cat").isEmpty, "cat shares no channel with ann")

        // Joining, cat learns ann's value; ann (not subscribed) learns nothing of cat.
        h.send("cat", "JOIN #room")
        #expect(
            h.take("cat").filter { $0.command.rawValue == "761" }.map(\.parameters) == [
                ["cat", "ann", "display-name", "*", "Ann Example"]
            ]
        )
        _ = h.take("ann")
        _ = h.take("ben")
        h.send("ann", "METADATA * SET display-name")
        #expect(h.take("ann").map(\.command.rawValue) == ["766"])
        #expect(h.take("ben").map(\.command.rawValue) == ["766"] && h.take("cat").map(\.command.rawValue) == ["766"])

        h.send("ben", "WHOIS ann")
        #expect(!h.take("ben").contains { $0.command.rawValue == "760" }, "no key left to show")
    }

    @Test func onlyOperatorsSetAChannelsKeysAndNobodySetsAnothersOwn() {
        var h = CoreHarness()
        h.connect("ann", caps: Self.caps)
        h.connect("ben", caps: Self.caps)
        for name in ["ann", "ben"] { h.send(name, "JOIN #room") }
        for name in ["ann", "ben"] { _ = h.take(name) }
        h.send("ben", "METADATA #room SET avatar :https://example.com/a.png")
        #expect(
            h.take("ben").map { Array($0.parameters.prefix(4)) } == [
                ["METADATA", "KEY_NO_PERMISSION", "#room", "avatar"]
            ]
        )
        h.send("ben", "METADATA ann CLEAR")
        #expect(
            h.take("ben").map { Array($0.parameters.prefix(4)) } == [["METADATA", "KEY_NO_PERMISSION", "ann", "*"]]
        )
        h.send("ann", "METADATA #room SET avatar :https://example.com/a.png")
        #expect(h.take("ann").map(\.command.rawValue) == ["761"])
        h.send("ben", "METADATA #room LIST")
        let list = h.take("ben")
        #expect(
            list.map(\.command.rawValue) == ["BATCH", "761", "BATCH"]
                && list[1].parameters.last == "https://example.com/a.png"
        )
        h.send("ann", "METADATA * SET " + "x" + " :" + String(repeating: "v", count: 401))
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["METADATA", "INVALID_VALUE"]])
        h.send("ann", "METADATA * SET $bad :x")
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["METADATA", "INVALID_KEY"]])
    }

    @Test func keysSetBeforeRegisteringComeBackInTheWelcome() {
        var h = CoreHarness()
        h.open("ann")
        h.send("ann", "CAP LS 302")
        h.send("ann", "CAP REQ :draft/metadata-3 batch")
        h.send("ann", "METADATA * SET display-name :Early")
        #expect(h.take("ann").last?.parameters == ["*", "*", "display-name", "*", "Early"])
        h.send("ann", "NICK ann")
        h.send("ann", "USER ann 0 * :Ann")
        h.send("ann", "CAP END")
        let burst = h.take("ann")
        #expect(
            burst.contains {
                $0.command.rawValue == "761" && $0.parameters == ["ann", "ann", "display-name", "*", "Early"]
            }
        )
        h.open("plain")
        h.send("plain", "METADATA * SET display-name :x")
        #expect(h.take("plain").map(\.command.rawValue) == ["451"])
    }
}
