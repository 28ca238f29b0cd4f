#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts the terminal in raw mode and gets it back on every way out: a normal return, `exit`, a fatal signal or a
/// crash. The saved settings live in a global because a signal handler can capture nothing.
public enum RawMode {
    /// Switches standard input to raw mode (no echo, no line buffering, no signals from Ctrl-C/Ctrl-Z, 8-bit).
    /// - Returns: `false` when standard input is not a terminal.
    @discardableResult
    public static func enable() -> Bool {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return false }
        savedSettings = settings
        settings.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        settings.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        settings.c_cflag |= tcflag_t(CS8)
        // VMIN 1, VTIME 0: read returns as soon as one byte is there.
        withUnsafeMutableBytes(of: &settings.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings) == 0 else { return false }
        rawModeActive = true
        // Bracketed paste: a paste of several lines arrives marked as one, not as lines each ended by Enter.
        Screen.write("\u{1B}[?2004h")
        _ = bracketedPasteOff.count  // initialised now, not first in a signal handler
        for signalNumber in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGTERM, SIGHUP, SIGQUIT] {
            signal(signalNumber, restoreAndReraise)
        }
        atexit { RawMode.restore() }
        return true
    }

    /// Puts the saved settings back; harmless when raw mode is off.
    public static func restore() {
        guard rawModeActive else { return }
        rawModeActive = false
        _ = bracketedPasteOff.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &savedSettings)
    }

    /// Whether `descriptor` is a terminal.
    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// Reads one line from the terminal without showing it (a password), after writing `prompt`.
    /// - Returns: `nil` at end of input.
    public static func readSecretLine(prompt: String) -> String? {
        Screen.write(prompt)
        var settings = termios()
        let isTerminal = tcgetattr(STDIN_FILENO, &settings) == 0
        let saved = settings
        if isTerminal {
            settings.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings)
        }
        defer {
            var restored = saved
            if isTerminal { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &restored) }
            Screen.write("\n")
        }
        return readLine(strippingNewline: true)
    }

    /// The size of the terminal on standard output, or 24×80 when it cannot be read.
    public static func windowSize() -> (rows: Int, columns: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else {
            return (24, 80)
        }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}

nonisolated(unsafe) private var savedSettings = termios()
nonisolated(unsafe) private var rawModeActive = false
/// `ESC [?2004l`, as bytes a signal handler can write without allocating.
private let bracketedPasteOff: [UInt8] = [0x1B, 0x5B, 0x3F, 0x32, 0x30, 0x30, 0x34, 0x6C]

/// Signal handler: only async-signal-safe calls (tcsetattr, write, signal, raise).
private func restoreAndReraise(_ signalNumber: Int32) {
    if rawModeActive {
        rawModeActive = false
        _ = bracketedPasteOff.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &savedSettings)
        let newline: [UInt8] = [13, 10]
        _ = newline.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, 2) }
    }
    signal(signalNumber, SIG_DFL)
    raise(signalNumber)
}
