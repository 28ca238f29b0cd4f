import Foundation

/// An IRCv3 strict transport security policy as a server states it in `CAP LS` (`sts=port=6697,duration=300`): on a
/// plaintext connection the port to reconnect to with TLS, on a TLS connection how long to keep to TLS.
public struct StrictTransportPolicy: Sendable, Equatable {
    public var port: Int?
    public var duration: Int?

    public init(port: Int? = nil, duration: Int? = nil) {
        self.port = port
        self.duration = duration
    }

    /// Reads the capability's value; keys this client does not know are ignored, as the spec asks.
    public init(capabilityValue: String) {
        for token in capabilityValue.split(separator: ",") {
            let parts = token.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "port": self.port = Int(parts[1]).flatMap { (1...65535).contains($0) ? $0 : nil }
            case "duration": self.duration = Int(parts[1]).flatMap { $0 >= 0 ? $0 : nil }
            default: continue
            }
        }
    }
}

/// The server told a plaintext client to reconnect with TLS on `port` (a strict transport security upgrade).
public struct StrictTransportUpgrade: Error, CustomStringConvertible, Sendable {
    public var port: Int
    public var description: String { "the server asks clients to reconnect with TLS on port \(self.port)" }
}

/// The strict transport policies a client has seen over TLS, by host: until one expires, that host is reached only
/// with TLS on the port it was reached on. Kept in `$XDG_CONFIG_HOME/parley/sts` (or `~/.config/parley/sts`), one
/// line per host: `HOST PORT EXPIRES` (Unix seconds).
public struct StrictTransportPolicies: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var port: Int
        public var expires: Int64
    }

    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Reads the file's text; lines that do not parse are skipped (a hand-edited file never stops the client).
    public init(text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let port = Int(fields[1]), let expires = Int64(fields[2]) else { continue }
            self.entries[fields[0].lowercased()] = Entry(port: port, expires: expires)
        }
    }

    public var text: String {
        self.entries.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.port) \($0.value.expires)\n" }.joined()
    }

    /// The policy in force for `host` at `now` (Unix seconds), if any.
    public func policy(for host: String, now: Int64) -> Entry? {
        guard let entry = self.entries[host.lowercased()], entry.expires > now else { return nil }
        return entry
    }

    /// Records (or, with duration 0, lifts) the policy a server stated over TLS on `port`.
    public mutating func record(host: String, port: Int, duration: Int, now: Int64) {
        if duration == 0 {
            self.entries[host.lowercased()] = nil
        } else {
            self.entries[host.lowercased()] = Entry(port: port, expires: now + Int64(duration))
        }
    }

    /// Where the policies live for this user, from the environment.
    public static func path(environment: [String: String]) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/parley/sts" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/parley/sts" }
        return nil
    }

    public static func load(from path: String) -> StrictTransportPolicies {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return StrictTransportPolicies() }
        return StrictTransportPolicies(text: text)
    }

    public func save(to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(self.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
