import ParleyCore
import Testing

@Suite struct HistoryTargetTests {
    @Test(arguments: [
        HistoryTarget.channel("#room"),
        .conversation(owner: "a:alice", correspondent: "bob"),
        .conversation(owner: "c:run7.42", correspondent: "b[o]b"),
        .awayLog("carol"),
    ])
    func aStorageKeyReadsBackAsTheTargetItWasMadeFrom(target: HistoryTarget) {
        #expect(HistoryTarget(storageKey: target.storageKey) == target)
    }

    @Test func keysAreTheOnesEveryStoreAlreadyHolds() {
        // Existing databases hold these strings: the format must not change.
        #expect(HistoryTarget.channel("#room").storageKey == "#room")
        #expect(HistoryTarget.conversation(owner: "a:alice", correspondent: "bob").storageKey == "\u{1}a:alice\u{1}bob")
        #expect(HistoryTarget.awayLog("carol").storageKey == "\u{2}carol")
    }

    @Test func onlyChannelsAreChannels() {
        #expect(HistoryTarget(storageKey: "#room").isChannel)
        #expect(!HistoryTarget(storageKey: "\u{1}a:alice\u{1}bob").isChannel)
        #expect(!HistoryTarget(storageKey: "\u{2}carol").isChannel)
    }

    @Test func theRangeOfAnOwnersConversationsHoldsTheirsAndNoOneElses() {
        let range = HistoryTarget.conversations(of: "a:ann")
        func inRange(_ target: HistoryTarget) -> Bool {
            let key = target.storageKey
            return range.from <= key && key < range.upTo
        }
        #expect(inRange(.conversation(owner: "a:ann", correspondent: "zed")))
        #expect(inRange(.conversation(owner: "a:ann", correspondent: "")))
        #expect(inRange(.conversation(owner: "a:ann", correspondent: "~{}|^")))
        // An owner whose name starts with this one's must not fall in (the range ends at the owner's closing mark).
        #expect(!inRange(.conversation(owner: "a:anne", correspondent: "zed")))
        #expect(!inRange(.conversation(owner: "a:an", correspondent: "n")))
        #expect(!inRange(.channel("#ann")))
        #expect(!inRange(.awayLog("ann")))
    }

    @Test func anOldNickPairKeyIsNoOnesConversation() {
        // Before schema 5 a DM was kept under its two nicks; owners always hold a ":", so no one reads these.
        guard case .conversation(let owner, let correspondent) = HistoryTarget(storageKey: "\u{1}alice\u{1}bob") else {
            Issue.record("not read as a conversation")
            return
        }
        #expect(owner == "alice" && correspondent == "bob")
        #expect(owner != HistoryQuery.owner(account: "alice", connection: "x"))
    }
}
