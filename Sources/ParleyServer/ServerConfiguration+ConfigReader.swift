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
    /// Reads and validates the configuration. The keys, their values and defaults are listed in
    /// ``ServerConfiguration/reference`` (YAML spelling; the environment variable is `PARLEY_` plus the key in
    /// capitals with `_` for `-`).
    /// - Throws: ``ConfigurationError`` naming the first invalid key.
    public init(config: ConfigReader) throws {
        self.init()
        let values = ValueReader(config: config)
        self.host = try values.string("host") ?? self.host
        self.port = try values.int("port") ?? self.port
        self.threads = try values.int("threads") ?? self.threads
        self.serverName = try values.string("server-name") ?? self.serverName
        self.networkName = try values.string("network-name") ?? self.networkName
        if let description = try values.string("server-description") {
            guard !description.isEmpty, description.utf8.count <= 200,
                !description.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" })
            else {
                throw ConfigurationError(key: "server-description", message: "must be one line of 1–200 bytes")
            }
            self.serverDescription = description
        }
        self.dataDirectory = try values.string("data-dir") ?? self.dataDirectory
        if let database = try values.string("database"), database != "sqlite" {
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
        self.clusterLease = try values.int("cluster-lease") ?? self.clusterLease
        if let address = try values.string("cluster-address") {
            guard let parsed = ReconnectAddress(configured: address) else {
                throw ConfigurationError(key: "cluster-address", message: "must be HOST:PORT or [IPV6]:PORT")
            }
            self.clusterAddress = parsed
        }
        self.password = try values.string("password")
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
        self.metricsToken = try values.string("metrics-token")
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
        self.floodBurst = try values.int("flood-burst") ?? self.floodBurst
        self.floodRate = try values.double("flood-rate") ?? self.floodRate
        self.sendQ = try values.int("sendq") ?? self.sendQ
        self.maxConnections = try values.int("max-connections") ?? self.maxConnections
        self.maxConnectionsPerIP =
            try values.int("max-connections-per-ip") ?? self.maxConnectionsPerIP
        self.registrationTimeout =
            try values.double("registration-timeout") ?? self.registrationTimeout
        self.pingInterval = try values.double("ping-interval") ?? self.pingInterval
        self.pingTimeout = try values.double("ping-timeout") ?? self.pingTimeout
        self.history = try values.bool("history") ?? self.history
        self.historyBatchSize = try values.int("history-batch-size") ?? self.historyBatchSize
        self.historyBatchWait = try values.int("history-batch-wait") ?? self.historyBatchWait
        self.shutdownGrace = try values.int("shutdown-grace") ?? self.shutdownGrace
        self.historyReplayOnJoin = try values.int("history-on-join") ?? self.historyReplayOnJoin
        self.historyQueryLimit = try values.int("history-limit") ?? self.historyQueryLimit
        self.multilineMaxBytes = try values.int("multiline-max-bytes") ?? self.multilineMaxBytes
        self.multilineMaxLines = try values.int("multiline-max-lines") ?? self.multilineMaxLines
        self.nickGrace = try values.int("nick-grace") ?? self.nickGrace
        self.passwordMinLength = try values.int("password-min-length") ?? self.passwordMinLength
        self.nickHold = try values.int("nick-hold") ?? self.nickHold
        self.registrationsPerHour = try values.int("registrations-per-hour") ?? self.registrationsPerHour
        self.cloak = try values.bool("cloak") ?? self.cloak
        self.cloakKey = try values.string("cloak-key")
        if let key = self.cloakKey, key.count < 16 {
            throw ConfigurationError(key: "cloak-key", message: "must have at least 16 characters")
        }
        self.historyMaxAge = try values.int("history-max-age") ?? self.historyMaxAge
        self.historyMaxPerTarget =
            try values.int("history-max-per-target") ?? self.historyMaxPerTarget
        self.tlsCertificatePath = try values.string("tls-cert")
        self.tlsKeyPath = try values.string("tls-key")
        if (self.tlsCertificatePath == nil) != (self.tlsKeyPath == nil) {
            throw ConfigurationError(
                key: self.tlsCertificatePath == nil ? "tls-cert" : "tls-key",
                message: "tls-cert and tls-key go together: give both PEM files"
            )
        }
        self.sts = try values.bool("sts") ?? self.sts
        self.stsPort = try values.int("sts-port") ?? self.stsPort
        self.stsDuration = try values.int("sts-duration") ?? self.stsDuration
        if self.sts && self.tlsCertificatePath == nil {
            throw ConfigurationError(
                key: "sts",
                message: "needs tls-cert and tls-key with a certificate clients can verify "
                    + "(with a self-signed one, clients that saw the policy could not connect at all)"
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

/// Reads every value as text and converts it here, so a bad value is reported instead of silently defaulted. What
/// each key takes (range, secrecy) comes from ``ServerConfiguration/reference``.
private struct ValueReader {
    let config: ConfigReader

    func string(_ name: String) throws -> String? {
        let key = ServerConfiguration.key(name)
        switch key.kind {
        case .text, .secret, .path: break
        default: preconditionFailure("configuration key '\(name)' is not text")
        }
        return self.text(key)
    }

    private func text(_ key: ConfigurationKey) -> String? {
        self.config.string(forKey: ConfigKey(key.name), isSecret: key.isSecret)
    }

    func list(_ name: String) throws -> [String] {
        let key = ServerConfiguration.key(name)
        guard case .list = key.kind else { preconditionFailure("configuration key '\(name)' is not a list") }
        // Lists may hold secrets (operators' hashes): never printed.
        if let array = self.config.stringArray(forKey: ConfigKey(name), isSecret: true) {
            return array
        }
        guard let text = self.config.string(forKey: ConfigKey(name), isSecret: true) else { return [] }
        return text.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
    }

    func int(_ name: String) throws -> Int? {
        let key = ServerConfiguration.key(name)
        guard case .whole(let range, _) = key.kind else {
            preconditionFailure("configuration key '\(name)' is not a whole number")
        }
        guard let text = self.text(key) else { return nil }
        guard let value = Int(text.trimmingSpaces()), range.contains(value) else {
            throw ConfigurationError(
                key: name,
                message: "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return value
    }

    func double(_ name: String) throws -> Double? {
        let key = ServerConfiguration.key(name)
        guard case .number(let range, _) = key.kind else {
            preconditionFailure("configuration key '\(name)' is not a number")
        }
        guard let text = self.text(key) else { return nil }
        guard let value = Double(text.trimmingSpaces()), range.contains(value) else {
            throw ConfigurationError(
                key: name,
                message: "'\(text)' is not a number in \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        let key = ServerConfiguration.key(name)
        guard case .onOff = key.kind else { preconditionFailure("configuration key '\(name)' is not on/off") }
        guard let text = self.text(key) else { return nil }
        switch text.trimmingSpaces().lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw ConfigurationError(key: name, message: "'\(text)' is not on/off")
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
