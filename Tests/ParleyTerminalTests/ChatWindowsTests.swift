import ParleyClient
import Testing

@testable import ParleyTerminal

/// Unread counts of the terminal client's windows.
@Suite struct ChatWindowsTests {
    @Test func ownLinesInAnotherWindowAreNotUnreadButOthersAre() {
        var windows = ChatWindows()
        windows.open("#lobby")
        windows.open("bob")
        // What this user sent to bob (from another device, echoed here) while #lobby is on screen.
        let own = ChatLine(window: "bob", time: 1, kind: .message, nick: "me", text: "hi bob", isOwn: true)
        let ownShown = windows.add(own, openMissing: true)
        #expect(!ownShown)
        #expect(windows.windows[1].unread == 0)
        let theirs = ChatLine(window: "bob", time: 2, kind: .message, nick: "bob", text: "hi", mentionsMe: true)
        let theirsShown = windows.add(theirs, openMissing: true)
        #expect(!theirsShown)
        #expect(windows.windows[1].unread == 1 && windows.windows[1].highlighted)
    }
}
