import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server under test. The tool refuses anything but loopback unless told otherwise: a load generator pointed
/// at someone else's server by a typo is an attack.
public struct BenchTarget: Sendable {
    public var host: String
    public var port: Int
    /// Every port clients are spread over, in turn (the nodes of a cluster); `[port]` for one server.
    public var ports: [Int]
    public var password: String?

    public init(host: String, port: Int, ports: [Int]? = nil, password: String? = nil, allowRemote: Bool) throws {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw BenchError(
                "'\(host)' is not an IP address; give 127.0.0.1 (or ::1), or an address with --allow-remote"
            )
        }
        if !allowRemote && !Self.isLoopback(address) {
            throw BenchError("\(host) is not a loopback address; pass --allow-remote to load a remote server")
        }
        self.host = host
        self.port = port
        self.ports = ports ?? [port]
        self.password = password
    }

    /// 127.0.0.0/8 or ::1.
    public static func isLoopback(_ address: SocketAddress) -> Bool {
        guard let text = address.ipAddress else { return false }
        switch address.protocol {
        case .inet: return text.hasPrefix("127.")
        case .inet6: return text == "::1"
        default: return false
        }
    }
}

/// Process-level helpers: file-descriptor limits and another process's memory.
public enum BenchProcess {
    /// Raises this process's open-file limit to its hard limit. - Returns: the new soft limit.
    @discardableResult
    public static func raiseFileLimit() -> Int {
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
        getrlimit(resource, &limit)
        return Int(limit.rlim_cur)
    }

    /// CPU time (user + system) process `pid` has used, in seconds, from /proc/PID/stat; nil if unreadable.
    public static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = self.procLines(pid, "stat").first else { return nil }
        // Fields after the command name (which may hold spaces, so skip past its closing parenthesis).
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name and state.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory of process `pid` in bytes (VmRSS in /proc/PID/status), or nil.
    public static func residentBytes(pid: Int32) -> Int? {
        guard let line = self.procLines(pid, "status").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.filter(\.isNumber)).map { $0 * 1024 }
    }

    /// The lines of /proc/PID/FILE (empty when it cannot be read).
    private static func procLines(_ pid: Int32, _ file: String) -> [String] {
        guard let handle = fopen("/proc/\(pid)/\(file)", "r") else { return [] }
        defer { fclose(handle) }
        var lines: [String] = []
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), handle) != nil {
            lines.append(String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return lines
    }
}
