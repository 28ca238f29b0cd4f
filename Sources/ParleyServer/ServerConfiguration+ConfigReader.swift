public import Configuration
import Foundation
import ParleyCore

/// A configuration value that cannot be used; the message names the key.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var key: String
    public var message: String
    public var description: String { "invalid configuration: \(self.key): \(self.message)" }
}

extension ServerConfiguration {
    /// Reads and validates the configuration.
    ///
    /// Keys (YAML spelling; the environment variable is `PARLEY_` plus the key uppercased with `-` as `_`):
    /// - `host` (string, `0.0.0.0`), `port` (int 1–65535, `1060`; 0 picks a free port), `threads` (int ≥ 0, `0` = cores)
    /// - `server-name` (string, `parley.local`), `network-name` (string, `Parley`), `data-dir` (string, `./parley-data`)
    /// - `database` (`sqlite`, the default: `data-dir/parley.sqlite`; or a URL `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`,
    ///   secret as it may hold a password)
    /// - `cluster` (`on`/`off`, `off`; needs a PostgreSQL `database`), `node-id` (letters, digits, `-`; default made from
    ///   the host name and port), `cluster-lease` (s 3–600, `15`)
    /// - `password` (string, secret, none), `password-file` (the password is its first line; keeps it out of `ps`),
    ///   `motd-file` (string, none)
    /// - `metrics-token` (string, secret, none): `/metrics` then needs `Authorization: Bearer TOKEN`
    /// - `operators` (list of `name:hash`, secret, none; hashes from `parley-server hash-password`)
    /// - `flood-control` (`on`/`off`, `on`), `flood-burst` (int ≥ 1, `20`), `flood-rate` (lines/s > 0, `4`)
    /// - `sendq` (bytes ≥ 1024, `1048576`), `max-connections` (int ≥ 1, `100000`), `max-connections-per-ip` (`64`)
    /// - `registration-timeout` (s, `60`), `ping-interval` (s, `120`), `ping-timeout` (s, `60`)
    /// - `shutdown-grace` (s 1–600, `10`): how long SIGTERM waits for the store before it gives up on it
    /// - `history` (`on`/`off`, `on`), `history-batch-size` (1–10000, `512`), `history-batch-wait` (ms 0–1000, `2`),
    ///   `history-on-join` (lines 0–1000, `10`), `history-limit` (messages per CHATHISTORY 1–1000, `100`)
    /// - `history-max-age` (days 0–36500, `0` = forever), `history-max-per-target` (messages, `0` = all): retention,
    ///   applied at start and every hour
    /// - `cloak` (`on`/`off`, `on`), `cloak-key` (string ≥ 16 characters, secret; default: kept in
    ///   `data-dir/cloak-key`)
    /// - `nick-grace` (s 1–3600, `30`): time to log in before a registered nick is taken away
    /// - `nick-hold` (s 0–86400, `300`): after that, how long only the account's owner may take the nick
    /// - `registrations-per-hour` (1–10000, `5`): accounts one address may register per hour
    /// - `tls-cert`, `tls-key` (PEM file paths, both or neither): TLS on every sniffing port, reloaded on SIGHUP
    /// - `listeners` (list of `[HOST:]PORT[/any|/tls|/plain]`, none): more ports, e.g. `6667/plain,6697/tls`
    /// - `web` (`on`/`off`, `on`): the web client, WebSocket, `/healthz` and `/metrics` on sniffing ports
    /// - `websocket-origins` (list of origins such as `https://chat.example.org`, or `*`; default: same origin)
    /// - Throws: ``ConfigurationError`` naming the first invalid key.
    public init(config: ConfigReader) throws {
        self.init()
        let values = ValueReader(config: config)
        self.host = try values.string("host") ?? self.host
        self.port = try values.int("port", in: 0...65535) ?? self.port
        self.threads = try values.int("threads", in: 0...256) ?? self.threads
        self.serverName = try values.string("server-name") ?? self.serverName
        self.networkName = try values.string("network-name") ?? self.networkName
        self.dataDirectory = try values.string("data-dir") ?? self.dataDirectory
        if let database = try values.string("database", secret: true), database != "sqlite" {
            guard database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") else {
                throw ConfigurationError(
                    key: "database",
                    message: "must be sqlite or a URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                )
            }
            self.databaseURL = database
        }
        self.cluster = try values.bool("cluster") ?? self.cluster
        if self.cluster && self.databaseURL == nil {
            throw ConfigurationError(
                key: "cluster",
                message: "a cluster needs a PostgreSQL database (database: postgres://…)"
            )
        }
        if let node = try values.string("node-id") {
            guard !node.isEmpty, node.count <= 32,
                node.unicodeScalars.allSatisfy({
                    $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || $0 == "-"
                })
            else {
                throw ConfigurationError(key: "node-id", message: "must be 1–32 letters, digits or '-'")
            }
            self.nodeID = node
        }
        self.clusterLease = try values.int("cluster-lease", in: 3...600) ?? self.clusterLease
        self.password = try values.string("password", secret: true)
        if let file = try values.string("password-file") {
            guard self.password == nil else {
                throw ConfigurationError(key: "password-file", message: "give password or password-file, not both")
            }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError(key: "password-file", message: "cannot read \(file)")
            }
            let password = String(text.prefix { $0 != "\n" && $0 != "\r" })
            guard !password.isEmpty else {
                throw ConfigurationError(key: "password-file", message: "\(file) has no password on its first line")
            }
            self.password = password
        }
        self.metricsToken = try values.string("metrics-token", secret: true)
        self.motdFile = try values.string("motd-file")
        self.operators = try values.list("operators").map { entry in
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix(OperatorPassword.scheme) else {
                throw ConfigurationError(
                    key: "operators",
                    message: "each entry must be NAME:HASH with a hash from `parley-server hash-password`"
                )
            }
            return Operator(name: parts[0], passwordHash: parts[1])
        }
        self.floodControl = try values.bool("flood-control") ?? self.floodControl
        self.floodBurst = try values.int("flood-burst", in: 1...10_000) ?? self.floodBurst
        self.floodRate = try values.double("flood-rate", in: 0.001...1_000_000) ?? self.floodRate
        self.sendQ = try values.int("sendq", in: 1024...(1 << 30)) ?? self.sendQ
        self.maxConnections = try values.int("max-connections", in: 1...10_000_000) ?? self.maxConnections
        self.maxConnectionsPerIP =
            try values.int("max-connections-per-ip", in: 1...10_000_000) ?? self.maxConnectionsPerIP
        self.registrationTimeout =
            try values.double("registration-timeout", in: 0.01...86_400) ?? self.registrationTimeout
        self.pingInterval = try values.double("ping-interval", in: 0.01...86_400) ?? self.pingInterval
        self.pingTimeout = try values.double("ping-timeout", in: 0.01...86_400) ?? self.pingTimeout
        self.history = try values.bool("history") ?? self.history
        self.historyBatchSize = try values.int("history-batch-size", in: 1...10_000) ?? self.historyBatchSize
        self.historyBatchWait = try values.int("history-batch-wait", in: 0...1000) ?? self.historyBatchWait
        self.shutdownGrace = try values.int("shutdown-grace", in: 1...600) ?? self.shutdownGrace
        self.historyReplayOnJoin = try values.int("history-on-join", in: 0...1000) ?? self.historyReplayOnJoin
        self.historyQueryLimit = try values.int("history-limit", in: 1...1000) ?? self.historyQueryLimit
        self.nickGrace = try values.int("nick-grace", in: 1...3600) ?? self.nickGrace
        self.nickHold = try values.int("nick-hold", in: 0...86400) ?? self.nickHold
        self.registrationsPerHour = try values.int("registrations-per-hour", in: 1...10000) ?? self.registrationsPerHour
        self.cloak = try values.bool("cloak") ?? self.cloak
        self.cloakKey = try values.string("cloak-key", secret: true)
        if let key = self.cloakKey, key.count < 16 {
            throw ConfigurationError(key: "cloak-key", message: "must have at least 16 characters")
        }
        self.historyMaxAge = try values.int("history-max-age", in: 0...36_500) ?? self.historyMaxAge
        self.historyMaxPerTarget =
            try values.int("history-max-per-target", in: 0...100_000_000) ?? self.historyMaxPerTarget
        self.tlsCertificatePath = try values.string("tls-cert")
        self.tlsKeyPath = try values.string("tls-key")
        if (self.tlsCertificatePath == nil) != (self.tlsKeyPath == nil) {
            throw ConfigurationError(
                key: self.tlsCertificatePath == nil ? "tls-cert" : "tls-key",
                message: "tls-cert and tls-key go together: give both PEM files"
            )
        }
        self.listeners = try values.list("listeners").map { entry in
            guard let listener = Listener(entry) else {
                throw ConfigurationError(
                    key: "listeners",
                    message: "'\(entry)' is not [HOST:]PORT[/any|/tls|/plain]"
                )
            }
            return listener
        }
        self.web = try values.bool("web") ?? self.web
        self.websocketOrigins = try values.list("websocket-origins")
        guard !self.serverName.isEmpty, !self.serverName.contains(" "), self.serverName.contains(".") else {
            throw ConfigurationError(
                key: "server-name",
                message: "'\(self.serverName)' must contain a dot and no spaces"
            )
        }
        guard !self.networkName.isEmpty, !self.networkName.contains(" ") else {
            throw ConfigurationError(key: "network-name", message: "'\(self.networkName)' must be one word")
        }
    }
}

/// Reads every value as text and converts it here, so a bad value is reported instead of silently defaulted.
private struct ValueReader {
    let config: ConfigReader

    func string(_ key: String, secret: Bool = false) throws -> String? {
        self.config.string(forKey: ConfigKey(key), isSecret: secret)
    }

    func list(_ key: String) throws -> [String] {
        if let array = self.config.stringArray(forKey: ConfigKey(key), isSecret: true) {
            return array
        }
        guard let text = self.config.string(forKey: ConfigKey(key), isSecret: true) else { return [] }
        return text.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try self.string(key) else { return nil }
        guard let value = Int(text.trimmingSpaces()), range.contains(value) else {
            throw ConfigurationError(
                key: key,
                message: "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return value
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = try self.string(key) else { return nil }
        guard let value = Double(text.trimmingSpaces()), range.contains(value) else {
            throw ConfigurationError(
                key: key,
                message: "'\(text)' is not a number in \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard let text = try self.string(key) else { return nil }
        switch text.trimmingSpaces().lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw ConfigurationError(key: key, message: "'\(text)' is not on/off")
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
