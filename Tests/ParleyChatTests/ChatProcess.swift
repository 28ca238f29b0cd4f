import Foundation
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `parley` (or `parley-server`) process started by a test: its input is a pipe (script mode) or a
/// pseudo-terminal (interactive mode, as a person at a terminal), and everything it prints is collected for the test
/// to wait on.
final class ChatProcess: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    private let process: Process
    private let input: FileHandle
    private let output = NIOLockedValueBox(Data())
    /// Set when the output reached its end: after the process exits, its last bytes may still be on the way.
    private let ended = NIOLockedValueBox(false)
    /// The pseudo-terminal's controller side, kept open while the process runs.
    private let terminal: FileHandle?

    /// The `parley` binary built next to the test bundle (`swift build --build-tests` builds it too).
    static var binary: URL { Self.binary(named: "parley") }

    /// A binary of this package built next to the test bundle.
    static func binary(named name: String) -> URL {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            ProcessInfo.processInfo.environment["PARLEY_BIN_DIR"].map { URL(fileURLWithPath: $0) },
            bundleDirectory,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug"),
        ].compactMap { $0 }
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return candidates[1].appendingPathComponent(name)
    }

    init(
        _ arguments: [String],
        terminal useTerminal: Bool = false,
        environment extra: [String: String] = [:],
        executable: String = "parley"
    ) throws {
        let process = Process()
        // A path names any program (a test's own helper); a bare name is one of this package's binaries.
        process.executableURL =
            executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : Self.binary(named: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "xterm"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = self.output
        let ended = self.ended
        let reader: FileHandle
        if useTerminal {
            var controller: Int32 = 0
            var device: Int32 = 0
            var size = winsize(ws_row: 24, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&controller, &device, nil, nil, &size) == 0 else {
                throw Timeout(description: "openpty failed: errno \(errno)")
            }
            let deviceHandle = FileHandle(fileDescriptor: device, closeOnDealloc: true)
            process.standardInput = deviceHandle
            process.standardOutput = deviceHandle
            process.standardError = deviceHandle
            reader = FileHandle(fileDescriptor: controller, closeOnDealloc: true)
            self.input = reader
            self.terminal = reader
        } else {
            let stdin = Pipe()
            let stdout = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            process.standardError = stdout
            reader = stdout.fileHandleForReading
            self.input = stdin.fileHandleForWriting
            self.terminal = nil
        }
        reader.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                ended.withLockedValue { $0 = true }
                return
            }
            output.withLockedValue { $0.append(data) }  // decoded whole: chunks split characters
        }
        self.process = process
        try process.run()
    }

    var text: String { String(decoding: self.output.withLockedValue { $0 }, as: UTF8.self) }

    func write(_ text: String) {
        self.input.write(Data(text.utf8))
    }

    func closeInput() throws {
        try self.input.close()
    }

    /// Waits until the output holds `needle` `count` times.
    func waitFor(_ needle: String, count: Int = 1, seconds: Double = 15) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if self.text.components(separatedBy: needle).count - 1 >= count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Timeout(description: "no '\(needle)' (×\(count)) in output:\n\(self.text)")
    }

    /// Waits for the process to end. - Returns: its exit status.
    func exitStatus(seconds: Double = 15) async throws -> Int32 {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while self.process.isRunning {
            guard ContinuousClock.now < deadline else {
                self.process.terminate()
                throw Timeout(description: "parley did not exit; output:\n\(self.text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // The output's end, so `text` holds everything the process wrote (bounded: a pseudo-terminal may not say).
        let drained = ContinuousClock.now + .seconds(2)
        while !self.ended.withLockedValue({ $0 }), ContinuousClock.now < drained {
            try await Task.sleep(for: .milliseconds(10))
        }
        return self.process.terminationStatus
    }

    func terminate() {
        if self.process.isRunning { self.process.terminate() }
    }
}
