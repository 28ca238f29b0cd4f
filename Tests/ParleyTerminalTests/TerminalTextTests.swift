import ParleyClient
import Testing

@testable import ParleyTerminal

@Suite struct TerminalTextTests {
    @Test func widthsOfCharacters() {
        #expect(TerminalWidth.of("hello") == 5)
        #expect(TerminalWidth.of("日本語") == 6)
        #expect(TerminalWidth.of("e\u{301}") == 1)
        #expect(TerminalWidth.of("😀") == 2)
        #expect(TerminalWidth.of("❤\u{FE0F}") == 2)
        #expect(TerminalWidth.of("ｈ") == 2)  // fullwidth
        #expect(TerminalWidth.of("\u{200B}") == 0)
        #expect(TerminalWidth.prefix("日本語", fitting: 5) == "日本")
    }

    @Test func stylesAreOffWithoutColour() {
        let plain = TerminalStyle(colors: false)
        #expect(plain.nick("bob") == "bob")
        #expect(plain.dim("x") == "x")
        let colored = TerminalStyle(colors: true)
        #expect(colored.dim("x") == "\u{1B}[2mx\u{1B}[0m")
        #expect(TerminalStyle.colorIndex(for: "Bob") == TerminalStyle.colorIndex(for: "bob"))
        #expect(Set(["alice", "bob", "carol", "dave", "erin", "frank"].map(TerminalStyle.colorIndex)).count > 1)
        #expect(!TerminalStyle.detect(noColorFlag: false, environment: ["NO_COLOR": "1"]).colors)
        #expect(TerminalStyle.detect(noColorFlag: false, environment: ["NO_COLOR": ""]).colors)
        #expect(!TerminalStyle.detect(noColorFlag: true, environment: [:]).colors)
    }

    @Test func formatsLinesAndStripsControlCodes() {
        let formatter = LineFormatter(style: TerminalStyle(colors: false))
        let time = Int64(0)
        let clock = LineFormatter.clock(time)
        #expect(clock.count == 5)
        #expect(formatter.format(ChatLine(time: time, kind: .message, nick: "bob", text: "hi")) == "\(clock) <bob> hi")
        #expect(
            formatter.format(ChatLine(time: time, kind: .action, nick: "bob", text: "waves")) == "\(clock) * bob waves"
        )
        #expect(
            formatter.format(ChatLine(time: time, kind: .event, text: "bob joined"), windowLabel: "#dev")
                == "\(clock) [#dev] -!- bob joined"
        )
        #expect(LineFormatter.stripControls("\u{02}bold\u{02} \u{03}4,12red\u{03} \u{1B}[2Jx\ty") == "bold red [2Jx y")
    }

    @Test func splitsLongTextBetweenCharactersPreferringSpaces() {
        #expect(ChatApp.split("short", maxBytes: 10) == ["short"])
        #expect(ChatApp.split("aaaa bbbb cccc", maxBytes: 10) == ["aaaa bbbb ", "cccc"])
        let pieces = ChatApp.split(String(repeating: "日", count: 10), maxBytes: 7)
        #expect(pieces.allSatisfy { $0.utf8.count <= 7 })
        #expect(pieces.joined() == String(repeating: "日", count: 10))
    }

    @Test func windowsCountUnreadAndHighlights() {
        var windows = ChatWindows()
        windows.open("#lobby")
        windows.open("#dev")
        #expect(windows.currentName == "#lobby")
        let shown = [
            windows.add(ChatLine(window: "#lobby", time: 0, kind: .message, text: "a"), openMissing: true),
            windows.add(ChatLine(window: "#dev", time: 0, kind: .message, text: "b"), openMissing: true),
            windows.add(ChatLine(window: "#dev", time: 0, kind: .event, text: "joined"), openMissing: true),
            windows.add(
                ChatLine(window: "bob", time: 0, kind: .message, text: "dm", mentionsMe: true),
                openMissing: true
            ),
        ]
        #expect(shown == [true, false, false, false])
        #expect(windows.windows.map(\.name) == ["#lobby", "#dev", "bob"])
        #expect(windows.windows[1].unread == 1)
        #expect(windows.windows[2].highlighted)
        windows.select(2)
        #expect(windows.windows[2].unread == 0 && !windows.windows[2].highlighted)
        windows.close("bob")
        #expect(windows.currentName == "#dev")
    }
}
