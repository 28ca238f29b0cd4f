import Testing

@testable import ParleyTerminal

@Suite struct LineEditorTests {
    private func type(_ text: String, into editor: inout LineEditor) {
        for character in text { _ = editor.handle(.character(character)) }
    }

    @Test func editsWithCursorKeysAndEmacsBindings() {
        var editor = LineEditor()
        self.type("hello world", into: &editor)
        #expect(editor.handle(.home) == .changed)
        self.type(">", into: &editor)
        #expect(editor.handle(.end) == .changed)
        #expect(editor.handle(.backspace) == .changed)
        #expect(editor.text == ">hello worl")
        _ = editor.handle(.control("w"))
        #expect(editor.text == ">hello ")
        _ = editor.handle(.left)
        _ = editor.handle(.left)
        _ = editor.handle(.control("k"))
        #expect(editor.text == ">hell")
        _ = editor.handle(.control("a"))
        _ = editor.handle(.delete)
        #expect(editor.text == "hell")
        _ = editor.handle(.right)
        _ = editor.handle(.control("u"))
        #expect(editor.text == "ell")
        #expect(editor.cursor == 0)
        #expect(editor.handle(.left) == .none)
    }

    @Test func enterSubmitsAndHistoryRecallsWithTheDraftKept() {
        var editor = LineEditor()
        self.type("first", into: &editor)
        #expect(editor.handle(.enter) == .submit("first"))
        self.type("second", into: &editor)
        #expect(editor.handle(.enter) == .submit("second"))
        self.type("draft", into: &editor)
        _ = editor.handle(.up)
        #expect(editor.text == "second")
        _ = editor.handle(.up)
        _ = editor.handle(.up)
        #expect(editor.text == "first")
        _ = editor.handle(.down)
        #expect(editor.text == "second")
        _ = editor.handle(.down)
        #expect(editor.text == "draft")
        #expect(editor.history == ["first", "second"])
    }

    @Test func controlDEndsInputOnlyOnAnEmptyLine() {
        var editor = LineEditor()
        #expect(editor.handle(.control("d")) == .endOfInput)
        self.type("ab", into: &editor)
        _ = editor.handle(.home)
        #expect(editor.handle(.control("d")) == .changed)
        #expect(editor.text == "b")
        #expect(editor.handle(.control("c")) == .interrupt)
        #expect(editor.handle(.alt("2")) == .switchWindow(2))
        #expect(editor.handle(.alt("0")) == .switchWindow(10))
    }

    @Test func tabCompletesAndCycles() {
        var editor = LineEditor()
        let nicks = ["bob", "bobby", "carol"]
        let complete: (String, Bool) -> [String] = { word, _ in nicks.filter { $0.hasPrefix(word) } }
        self.type("bo", into: &editor)
        #expect(editor.handle(.tab, completions: complete) == .changed)
        #expect(editor.text == "bob: ")  // at the start of the line: addressing someone
        _ = editor.handle(.tab, completions: complete)
        #expect(editor.text == "bobby: ")
        _ = editor.handle(.tab, completions: complete)
        #expect(editor.text == "bob: ")
        self.type("hi c", into: &editor)
        _ = editor.handle(.tab, completions: complete)
        #expect(editor.text == "bob: hi carol ")
        self.type("z", into: &editor)
        #expect(editor.handle(.tab, completions: complete) == .none)  // nobody starts with "z"
    }

    @Test func combiningMarksJoinThePreviousCharacter() {
        var editor = LineEditor()
        _ = editor.handle(.character("e"))
        _ = editor.handle(.character(Character("\u{301}")))
        #expect(editor.characters.count == 1)
        #expect(editor.text == "e\u{301}")
        _ = editor.handle(.backspace)
        #expect(editor.text.isEmpty)
    }

    @Test func rendersWideCharactersAndScrollsToKeepTheCursorVisible() {
        var editor = LineEditor()
        self.type("日本", into: &editor)
        var rendered = editor.render(prompt: "> ", columns: 80)
        #expect(rendered.line == "> 日本")
        #expect(rendered.cursorColumn == 6)
        _ = editor.handle(.left)
        #expect(editor.render(prompt: "> ", columns: 80).cursorColumn == 4)

        var long = LineEditor()
        self.type(String(repeating: "abcdefghij", count: 5), into: &long)
        rendered = long.render(prompt: "[#x] ", columns: 20)
        #expect(TerminalWidth.of(rendered.line) <= 19)
        #expect(rendered.line.hasSuffix("j"))
        #expect(rendered.cursorColumn < 20)
        _ = long.handle(.home)
        rendered = long.render(prompt: "[#x] ", columns: 20)
        #expect(rendered.line.hasPrefix("[#x] abcdefghij"))
        #expect(rendered.cursorColumn == 5)
    }

    /// A paste of one line is typed in; one of several lines goes out whole, with what was typed before it.
    @Test func aPasteOfSeveralLinesIsTakenWhole() {
        var editor = LineEditor()
        self.type("see: ", into: &editor)
        #expect(editor.handle(.paste("one line\n")) == .changed)
        #expect(editor.text == "see: one line")
        #expect(editor.handle(.paste("\nfirst\n  second\n")) == .paste("see: one line\nfirst\n  second"))
        #expect(editor.text.isEmpty)
    }
}
