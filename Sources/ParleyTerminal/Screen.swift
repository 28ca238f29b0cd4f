#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The interactive screen: chat lines scroll up as in a plain terminal, and the bottom two rows hold a status line
/// and the input line. Printing a line erases those two rows, writes the line, and draws them again, so incoming
/// text never tears what is being typed. Each update is one `write`.
final class Screen {
    var style: TerminalStyle
    private(set) var columns: Int
    private(set) var rows: Int
    private var bottomDrawn = false

    init(style: TerminalStyle) {
        self.style = style
        (self.rows, self.columns) = RawMode.windowSize()
    }

    func updateSize() {
        (self.rows, self.columns) = RawMode.windowSize()
    }

    /// Prints `lines` above the bottom rows and draws the bottom rows again.
    func show(_ lines: [String], status: String, input: (line: String, cursorColumn: Int)) {
        var out = self.eraseBottom()
        for line in lines {
            out += line
            out += "\r\n"
        }
        out += self.bottom(status: status, input: input)
        Self.write(out)
    }

    /// Clears the screen and prints `lines` (the last screenful of the window in view).
    func repaint(_ lines: [String], status: String, input: (line: String, cursorColumn: Int)) {
        self.bottomDrawn = false
        var out = "\u{1B}[2J\u{1B}[H"
        for line in lines.suffix(max(self.rows - 2, 1)) {
            out += line
            out += "\r\n"
        }
        out += self.bottom(status: status, input: input)
        Self.write(out)
    }

    /// Removes the bottom rows before the program leaves, so the shell prompt starts on a clean line.
    func finish() {
        Self.write(self.eraseBottom())
    }

    private func eraseBottom() -> String {
        guard self.bottomDrawn else { return "\r" }
        self.bottomDrawn = false
        return "\r\u{1B}[1A\u{1B}[J"
    }

    private func bottom(status: String, input: (line: String, cursorColumn: Int)) -> String {
        self.bottomDrawn = true
        let width = max(self.columns - 1, 1)
        let fitted = TerminalWidth.prefix(status, fitting: width)
        let padded = fitted + String(repeating: " ", count: max(width - TerminalWidth.of(fitted), 0))
        var out = self.style.reverse(padded) + "\r\n" + input.line + "\r"
        if input.cursorColumn > 0 { out += "\u{1B}[\(input.cursorColumn)C" }
        return out
    }

    /// Writes all of `text` to standard output.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }
}
