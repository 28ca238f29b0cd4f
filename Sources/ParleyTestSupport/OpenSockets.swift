import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Counts this process's open TCP sockets on one local port: the server's listener plus one per connection it still
/// holds. Each descriptor in /proc/self/fd is asked for its own address (`getsockname`), so the count does not depend
/// on reading the kernel's socket tables, which skip lines while other tests open and close sockets. Tests running in
/// parallel use other ports, and a client socket's local port is never a listener's, so the count is this server's.
public enum OpenSockets {
    public static func count(localPort port: Int) -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return -1 }
        return entries.lazy.compactMap { Int32($0) }.filter { self.localPort(of: $0) == port }.count
    }

    /// Waits (bounded) until the count is `expected`; returns the last count. The server closes a connection on its
    /// event loop a moment after the client sees it end, so a single reading can be early.
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

    /// The TCP or UDP port a descriptor is bound to, or nil when it is not an internet socket (a file, a pipe, a
    /// Unix socket, or a descriptor closed since the directory was listed).
    private static func localPort(of descriptor: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }
}
