/// Where a user may connect instead of this server: the host and port of RPL_BOUNCE (`010`), which a node of a
/// cluster that shuts down sends its users, naming another node.
public struct ReconnectAddress: Sendable, Hashable {
    public let host: String
    public let port: Int

    /// `nil` unless `host` is a word a client can connect to (no spaces, not starting with `:`) and `port` is a port.
    public init?(host: String, port: Int) {
        guard !host.isEmpty, !host.hasPrefix(":"), !host.contains(where: \.isWhitespace), (1...65535).contains(port)
        else { return nil }
        self.host = host
        self.port = port
    }

    /// As written in configuration: `HOST:PORT`, or `[IPV6]:PORT`.
    public init?(configured text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = Substring(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            return nil
        }
        self.init(host: String(host), port: port)
    }

    /// As the cluster's table keeps it: `HOST PORT`.
    public init?(stored text: String) {
        let fields = text.split(separator: " ")
        guard fields.count == 2, let port = Int(fields[1]) else { return nil }
        self.init(host: String(fields[0]), port: port)
    }

    public var stored: String { "\(self.host) \(self.port)" }
}
