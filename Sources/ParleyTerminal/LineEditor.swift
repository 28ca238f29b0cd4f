/// The input line: a buffer of characters, a cursor, input history and Tab completion. It knows nothing about the
/// terminal; ``handle(_:completions:)`` changes it for one key and says what the caller should do, and
/// ``render(prompt:columns:)`` lays it out in a given width.
public struct LineEditor: Sendable {
    /// What the caller does after a key.
    public enum Action: Equatable, Sendable {
        /// Nothing visible changed.
        case none
        /// The line changed: draw it again.
        case changed
        /// Enter: the line was taken (and cleared).
        case submit(String)
        /// Ctrl-D on an empty line.
        case endOfInput
        /// Ctrl-C.
        case interrupt
        /// Ctrl-L: repaint the whole screen.
        case repaint
        /// Alt-1…Alt-9, Alt-0 (10).
        case switchWindow(Int)
        /// Page Up / Page Down.
        case scroll(up: Bool)
        /// A paste of several lines, with what was typed before it: to send as one message (and cleared).
        case paste(String)
    }

    public private(set) var characters: [Character] = []
    /// The cursor, as an index into ``characters`` (`characters.count` is the end).
    public private(set) var cursor = 0
    public private(set) var history: [String] = []
    private let historyLimit: Int
    private var historyIndex: Int?
    private var draft: [Character] = []
    private var completion: Completion?

    private struct Completion: Sendable {
        var start: Int
        var candidates: [String]
        var index: Int
        var insertedLength: Int
    }

    public init(historyLimit: Int = 500) {
        self.historyLimit = historyLimit
    }

    /// The current line.
    public var text: String { String(self.characters) }

    /// Replaces the line and puts the cursor at its end.
    public mutating func setText(_ text: String) {
        self.characters = Array(text)
        self.cursor = self.characters.count
        self.completion = nil
    }

    /// Handles one key.
    /// - Parameters:
    ///   - key: The key.
    ///   - completions: Given the word before the cursor and whether it starts the line, the words it may become.
    public mutating func handle(_ key: Key, completions: (String, Bool) -> [String] = { _, _ in [] }) -> Action {
        if key != .tab { self.completion = nil }
        switch key {
        case .character(let character):
            self.insert(character)
            return .changed
        case .paste(let pasted):
            var text = Substring(pasted)
            while text.last == "\n" { text = text.dropLast() }
            guard text.contains("\n") else {
                for character in text { self.insert(character) }
                return .changed
            }
            let whole = self.text + text
            self.characters = []
            self.cursor = 0
            self.historyIndex = nil
            return .paste(whole)
        case .enter:
            let line = self.text
            if !line.isEmpty && self.history.last != line {
                self.history.append(line)
                if self.history.count > self.historyLimit { self.history.removeFirst() }
            }
            self.historyIndex = nil
            self.characters = []
            self.cursor = 0
            return .submit(line)
        case .tab:
            return self.complete(completions)
        case .backspace:
            guard self.cursor > 0 else { return .none }
            self.cursor -= 1
            self.characters.remove(at: self.cursor)
            return .changed
        case .delete:
            guard self.cursor < self.characters.count else { return .none }
            self.characters.remove(at: self.cursor)
            return .changed
        case .left, .control("b"):
            return self.move(to: self.cursor - 1)
        case .right, .control("f"):
            return self.move(to: self.cursor + 1)
        case .home, .control("a"):
            return self.move(to: 0)
        case .end, .control("e"):
            return self.move(to: self.characters.count)
        case .wordLeft:
            return self.move(to: self.wordStart(before: self.cursor))
        case .wordRight:
            return self.move(to: self.wordEnd(after: self.cursor))
        case .up, .control("p"):
            return self.recall(older: true)
        case .down, .control("n"):
            return self.recall(older: false)
        case .control("u"):
            guard self.cursor > 0 else { return .none }
            self.characters.removeSubrange(0..<self.cursor)
            self.cursor = 0
            return .changed
        case .control("k"):
            guard self.cursor < self.characters.count else { return .none }
            self.characters.removeSubrange(self.cursor...)
            return .changed
        case .control("w"):
            let start = self.wordStart(before: self.cursor)
            guard start < self.cursor else { return .none }
            self.characters.removeSubrange(start..<self.cursor)
            self.cursor = start
            return .changed
        case .control("d"):
            if self.characters.isEmpty { return .endOfInput }
            return self.handle(.delete)
        case .control("c"):
            return .interrupt
        case .control("l"):
            return .repaint
        case .alt(let character):
            guard let digit = character.wholeNumberValue else { return .none }
            return .switchWindow(digit == 0 ? 10 : digit)
        case .pageUp:
            return .scroll(up: true)
        case .pageDown:
            return .scroll(up: false)
        case .control, .escape:
            return .none
        }
    }

    /// Lays the line out after `prompt` in `columns` columns, scrolled sideways so that the cursor is visible.
    /// - Returns: The text to draw (prompt included) and the column of the cursor (0-based).
    public func render(prompt: String, columns: Int) -> (line: String, cursorColumn: Int) {
        let promptWidth = TerminalWidth.of(prompt)
        let available = max(1, columns - promptWidth - 1)
        let widths = self.characters.map(TerminalWidth.of)
        var start = 0
        var beforeCursor = widths[0..<self.cursor].reduce(0, +)
        while beforeCursor >= available && start < self.cursor {
            beforeCursor -= widths[start]
            start += 1
        }
        var used = 0
        var end = start
        while end < widths.count && used + widths[end] <= available {
            used += widths[end]
            end += 1
        }
        return (prompt + String(self.characters[start..<end]), promptWidth + beforeCursor)
    }

    private mutating func insert(_ character: Character) {
        // A combining mark joins the character before it, as the terminal draws it.
        if self.cursor > 0 && TerminalWidth.of(character) == 0 {
            let joined = String(self.characters[self.cursor - 1]) + String(character)
            if joined.count == 1 {
                self.characters[self.cursor - 1] = Character(joined)
                return
            }
        }
        self.characters.insert(character, at: self.cursor)
        self.cursor += 1
    }

    private mutating func move(to position: Int) -> Action {
        let clamped = min(max(position, 0), self.characters.count)
        guard clamped != self.cursor else { return .none }
        self.cursor = clamped
        return .changed
    }

    private func wordStart(before position: Int) -> Int {
        var index = position
        while index > 0 && self.characters[index - 1] == " " { index -= 1 }
        while index > 0 && self.characters[index - 1] != " " { index -= 1 }
        return index
    }

    private func wordEnd(after position: Int) -> Int {
        var index = position
        while index < self.characters.count && self.characters[index] == " " { index += 1 }
        while index < self.characters.count && self.characters[index] != " " { index += 1 }
        return index
    }

    private mutating func recall(older: Bool) -> Action {
        guard !self.history.isEmpty else { return .none }
        let next: Int?
        switch (self.historyIndex, older) {
        case (nil, true):
            self.draft = self.characters
            next = self.history.count - 1
        case (nil, false):
            return .none
        case (let current?, true):
            next = max(current - 1, 0)
        case (let current?, false):
            next = current + 1 < self.history.count ? current + 1 : nil
        }
        self.historyIndex = next
        self.characters = next.map { Array(self.history[$0]) } ?? self.draft
        self.cursor = self.characters.count
        return .changed
    }

    /// First Tab completes the word before the cursor to its first candidate; each further Tab cycles. A word
    /// that starts the line and is not a command gets ": " (the usual way to address someone), others a space.
    private mutating func complete(_ completions: (String, Bool) -> [String]) -> Action {
        if var state = self.completion {
            state.index = (state.index + 1) % state.candidates.count
            self.replaceCompletion(&state)
            self.completion = state
            return .changed
        }
        let start = self.wordStart(before: self.cursor)
        guard self.cursor == self.characters.count || self.characters[self.cursor] == " " else { return .none }
        let word = String(self.characters[start..<self.cursor])
        let candidates = completions(word, start == 0)
        guard !candidates.isEmpty else { return .none }
        var state = Completion(start: start, candidates: candidates, index: 0, insertedLength: self.cursor - start)
        self.replaceCompletion(&state)
        self.completion = state
        return .changed
    }

    private mutating func replaceCompletion(_ state: inout Completion) {
        let candidate = state.candidates[state.index]
        let suffix = state.start == 0 && !candidate.hasPrefix("/") ? ": " : " "
        let replacement = Array(candidate + suffix)
        self.characters.replaceSubrange(state.start..<(state.start + state.insertedLength), with: replacement)
        state.insertedLength = replacement.count
        self.cursor = state.start + replacement.count
    }
}
