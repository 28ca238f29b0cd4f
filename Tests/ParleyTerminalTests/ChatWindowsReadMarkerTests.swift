import ParleyClient
import Testing

@testable import ParleyTerminal

@Suite struct ChatWindowsReadMarkerTests {
    @Test func aMarkerLeavesOnlyLaterLinesUnreadAndTheirMention() {
        var windows = ChatWindows()
        windows.open("#here")
        windows.open("#there")
        for (time, text) in [(10, "old"), (20, "older mention of me"), (30, "new")] {
            let line = ChatLine(
                window: "#there",
                time: Int64(time),
                kind: .message,
                nick: "bob",
                text: text,
                mentionsMe: text.contains("me")
            )
            _ = windows.add(line, openMissing: false)
        }
        #expect(windows.windows[1].unread == 3 && windows.windows[1].highlighted)
        windows.markRead("#THERE", through: 20)
        #expect(windows.windows[1].unread == 1)
        #expect(!windows.windows[1].highlighted)
        windows.markRead("#there", through: 30)
        #expect(windows.windows[1].unread == 0)
        #expect(windows.newestTime(in: 1) == 30)
    }
}
