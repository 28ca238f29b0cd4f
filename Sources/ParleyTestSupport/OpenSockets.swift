import Foundation

/// Counts this process's open TCP sockets on one local port, from `/proc`: the server's listener plus one per
/// connection it still holds. Tests running in parallel use other ports, so the count is theirs alone.
public enum OpenSockets {
    public static func count(localPort port: Int) -> Int {
        let inodes = self.socketInodes(localPort: port)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return -1 }
        var count = 0
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                target.hasPrefix("socket:["), let inode = Int(target.dropFirst(8).dropLast())
            else { continue }
            if inodes.contains(inode) { count += 1 }
        }
        return count
    }

    /// Waits (bounded) until the count is `expected`; returns the last count. A single reading can miss a socket:
    /// the kernel builds /proc/net/tcp in pieces, and sockets other tests open and close meanwhile can make it skip
    /// lines, so a count is trusted only once it settles.
    public static func settle(localPort port: Int, to expected: Int, timeout: Duration = .seconds(10)) async -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var current = self.count(localPort: port)
        while current != expected, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            current = self.count(localPort: port)
        }
        return current
    }

    private static func socketInodes(localPort port: Int) -> Set<Int> {
        var inodes: Set<Int> = []
        let hexPort = String(format: "%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[1].hasSuffix(":" + hexPort), let inode = Int(fields[9]), inode != 0
                else { continue }
                inodes.insert(inode)
            }
        }
        return inodes
    }
}
