import ParleyCore
import ParleyIRC
import Testing

/// draft/channel-rename as plain values: who may rename, what members with and without the capability see, and
/// what moves with the channel.
@Suite struct RenameTests {
    private static func harness() -> CoreHarness {
        var h = CoreHarness.withAccounts([])
        h.connect("ann", caps: ["draft/channel-rename"])
        h.connect("ben", caps: ["extended-join"])
        h.send("ann", "JOIN #old")
        h.send("ben", "JOIN #old")
        h.send("ann", "TOPIC #old :the topic")
        for name in ["ann", "ben"] { _ = h.take(name) }
        h.persisted.removeAll()
        return h
    }

    @Test func anOperatorRenamesAndEveryoneFollows() throws {
        var h = Self.harness()
        h.send("ann", "RENAME #old #New :better name")
        #expect(h.take("ann").map(\.parameters) == [["#old", "#New", "better name"]])
        let fallback = h.take("ben")
        #expect(fallback.map(\.command.rawValue) == ["PART", "JOIN", "332", "333", "353", "366"])
        #expect(fallback[0].parameters == ["#old", "better name"] && fallback[1].parameters.first == "#New")
        #expect(fallback[1].parameters.count == 3, "extended-join's account and realname")
        #expect(h.state.channels[ChannelKey("#new")]?.name == "#New" && h.state.channels[ChannelKey("#old")] == nil)
        let order = try #require(h.persisted.last)
        #expect(order.0.command.rawValue == "RENAMED" && order.1 == "#old" && order.0.parameters == ["#new"])

        h.send("ben", "PRIVMSG #new :still here")
        #expect(h.take("ann").map(\.parameters) == [["#new", "still here"]])
        h.send("ben", "JOIN #old")
        #expect(h.take("ben").contains { $0.command == .join && $0.parameters.first == "#old" }, "the old name is free")
    }

    @Test func onlyAnOperatorMayAndNotOntoATakenName() {
        var h = Self.harness()
        h.send("ben", "RENAME #old #mine")
        #expect(h.take("ben").map(\.command.rawValue) == ["482"])
        h.send("ben", "JOIN #taken")
        _ = h.take("ben")
        h.persisted.removeAll()
        h.send("ann", "RENAME #old #TAKEN")
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["RENAME", "CHANNEL_NAME_IN_USE"]])
        h.send("ann", "RENAME #old &local")
        #expect(h.take("ann").map { Array($0.parameters.prefix(2)) } == [["RENAME", "CANNOT_RENAME"]])
        h.send("ann", "RENAME #nowhere #x")
        #expect(h.take("ann").map(\.command.rawValue) == ["403"])
        #expect(h.persisted.isEmpty && h.state.channels[ChannelKey("#old")] != nil)
    }

    @Test func aChangeOfCaseIsARenameWithoutTheFallback() {
        var h = Self.harness()
        h.send("ann", "RENAME #old #OLD")
        #expect(h.take("ann").map(\.command) == [.rename])
        #expect(h.take("ben").isEmpty, "no PART and JOIN for a change of case")
        #expect(h.persisted.isEmpty, "the history's key is the same")
        #expect(h.state.channels[ChannelKey("#old")]?.name == "#OLD")
    }
}
