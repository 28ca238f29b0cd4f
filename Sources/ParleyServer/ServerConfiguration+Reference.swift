import Foundation

/// One configuration key as an operator meets it: its name (YAML spelling), its flag and environment variable, what
/// values it takes, its default and what it does. ``ServerConfiguration/reference`` lists every key; the reader takes
/// ranges and secrecy from it and README's table is printed from it (`parley-server config --reference`), so the
/// three cannot disagree.
public struct ConfigurationKey: Sendable {
    public enum Kind: Sendable {
        case text
        /// Never printed in errors or logs.
        case secret
        case path
        case onOff
        case whole(ClosedRange<Int>, unit: String?)
        case number(ClosedRange<Double>, unit: String?)
        /// A YAML list, or one string of comma-separated entries (flag, environment).
        case list
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: String
    /// The `serve` option that sets it (`--port`), or nil when only the file and the environment do.
    public var flag: String?
    public var meaning: String

    /// `PARLEY_` and the name in capitals with `_` for `-`.
    public var environmentVariable: String {
        "PARLEY_" + self.name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public var isSecret: Bool {
        if case .secret = self.kind { return true }
        return false
    }

    /// The values it takes, in words.
    public var typeDescription: String {
        switch self.kind {
        case .text: return "text"
        case .secret: return "text (secret)"
        case .path: return "file path"
        case .onOff: return "`on`/`off`"
        case .whole(let range, let unit):
            return "\(range.lowerBound)–\(range.upperBound)" + (unit.map { " \($0)" } ?? "")
        case .number(let range, let unit):
            return "\(Self.show(range.lowerBound))–\(Self.show(range.upperBound))" + (unit.map { " \($0)" } ?? "")
        case .list: return "list"
        }
    }

    /// A number as an operator writes it: `120`, not `120.0`.
    static func show(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension ServerConfiguration {
    /// Every configuration key, in the order README lists them. Defaults are read from ``ServerConfiguration/init()``.
    public static let reference: [ConfigurationKey] = {
        let d = ServerConfiguration()
        typealias Key = ConfigurationKey
        func show(_ value: Double) -> String { ConfigurationKey.show(value) }
        func onOff(_ value: Bool) -> String { value ? "on" : "off" }
        return [
            Key(
                name: "host",
                kind: .text,
                defaultValue: d.host,
                flag: "HOST (argument)",
                meaning: "address to listen on"
            ),
            Key(
                name: "port",
                kind: .whole(0...65535, unit: nil),
                defaultValue: "\(d.port)",
                flag: "--port",
                meaning: "port to listen on (`0`: any free port)"
            ),
            Key(
                name: "threads",
                kind: .whole(0...256, unit: nil),
                defaultValue: "\(d.threads)",
                flag: "--threads",
                meaning: "event loops (`0`: one per core)"
            ),
            Key(
                name: "server-name",
                kind: .text,
                defaultValue: d.serverName,
                flag: "--server-name",
                meaning: "the name the server uses as message source (has a dot, no spaces)"
            ),
            Key(
                name: "network-name",
                kind: .text,
                defaultValue: d.networkName,
                flag: "--network-name",
                meaning: "NETWORK in ISUPPORT (one word)"
            ),
            Key(
                name: "server-description",
                kind: .text,
                defaultValue: d.serverDescription,
                flag: nil,
                meaning: "what this server is, in a line: shown by LINKS and WHOIS"
            ),
            Key(
                name: "data-dir",
                kind: .path,
                defaultValue: d.dataDirectory,
                flag: "--data-dir",
                meaning: "data directory, created if missing (the SQLite database, cloak key, self-signed certificate)"
            ),
            Key(
                name: "database",
                kind: .secret,
                defaultValue: "sqlite",
                flag: "--database",
                meaning: "where history, accounts and registered channels live: `sqlite` (`data-dir/parley.sqlite`) "
                    + "or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable\\|prefer\\|require\\|verify-full]`"
            ),
            Key(
                name: "cluster",
                kind: .onOff,
                defaultValue: onOff(d.cluster),
                flag: "--cluster",
                meaning: "be one node of a cluster sharing the PostgreSQL `database` (see \"Running a cluster\")"
            ),
            Key(
                name: "node-id",
                kind: .text,
                defaultValue: "host name and port",
                flag: "--node-id",
                meaning: "this node's name in the cluster (1–32 letters, digits, `-`)"
            ),
            Key(
                name: "cluster-lease",
                kind: .whole(3...600, unit: "s"),
                defaultValue: "\(d.clusterLease)",
                flag: nil,
                meaning: "how long a silent node keeps its place in the cluster"
            ),
            Key(
                name: "cluster-address",
                kind: .text,
                defaultValue: "the listening address, unless `0.0.0.0` or `::`",
                flag: nil,
                meaning:
                    "`HOST:PORT` users reach this node at; a node that shuts down points its users at another (`010`)"
            ),
            Key(
                name: "password",
                kind: .secret,
                defaultValue: "none",
                flag: "--password",
                meaning: "connection password (PASS); shows in `ps` when given as a flag"
            ),
            Key(
                name: "password-file",
                kind: .path,
                defaultValue: "none",
                flag: "--password-file",
                meaning: "a file whose first line is the connection password (instead of `password`)"
            ),
            Key(
                name: "motd-file",
                kind: .path,
                defaultValue: "none",
                flag: "--motd-file",
                meaning: "message of the day (none → 422); re-read on SIGHUP"
            ),
            Key(
                name: "operators",
                kind: .list,
                defaultValue: "none",
                flag: nil,
                meaning: "`name:hash` entries; make a hash with `echo 'secret' \\| parley-server hash-password`"
            ),
            Key(
                name: "flood-control",
                kind: .onOff,
                defaultValue: onOff(d.floodControl),
                flag: "--flood-control",
                meaning: "`off` for benchmarks"
            ),
            Key(
                name: "flood-burst",
                kind: .whole(1...10_000, unit: "lines"),
                defaultValue: "\(d.floodBurst)",
                flag: nil,
                meaning: "lines a client may send at once (excess is delayed, not dropped)"
            ),
            Key(
                name: "flood-rate",
                kind: .number(0.001...1_000_000, unit: "lines/s"),
                defaultValue: show(d.floodRate),
                flag: nil,
                meaning: "lines per second after the burst"
            ),
            Key(
                name: "sendq",
                kind: .whole(1024...(1 << 30), unit: "bytes"),
                defaultValue: "\(d.sendQ)",
                flag: nil,
                meaning: "bytes queued to one client before it is disconnected with \"SendQ exceeded\""
            ),
            Key(
                name: "max-connections",
                kind: .whole(1...10_000_000, unit: nil),
                defaultValue: "\(d.maxConnections)",
                flag: nil,
                meaning: "connections in all"
            ),
            Key(
                name: "max-connections-per-ip",
                kind: .whole(1...10_000_000, unit: nil),
                defaultValue: "\(d.maxConnectionsPerIP)",
                flag: nil,
                meaning: "connections from one address"
            ),
            Key(
                name: "registration-timeout",
                kind: .number(0.01...86_400, unit: "s"),
                defaultValue: show(d.registrationTimeout),
                flag: nil,
                meaning: "time to finish registering"
            ),
            Key(
                name: "ping-interval",
                kind: .number(0.01...86_400, unit: "s"),
                defaultValue: show(d.pingInterval),
                flag: nil,
                meaning: "idle time before the server sends PING"
            ),
            Key(
                name: "ping-timeout",
                kind: .number(0.01...86_400, unit: "s"),
                defaultValue: show(d.pingTimeout),
                flag: nil,
                meaning: "time to answer that PING"
            ),
            Key(
                name: "shutdown-grace",
                kind: .whole(1...600, unit: "s"),
                defaultValue: "\(d.shutdownGrace)",
                flag: nil,
                meaning: "how long SIGTERM waits for the store to write what it holds before giving up on it "
                    + "(nothing unacknowledged is ever reported as sent)"
            ),
            Key(
                name: "history",
                kind: .onOff,
                defaultValue: onOff(d.history),
                flag: "--history",
                meaning: "keep message history (`off`: accounts only)"
            ),
            Key(
                name: "history-batch-size",
                kind: .whole(1...10_000, unit: "messages"),
                defaultValue: "\(d.historyBatchSize)",
                flag: nil,
                meaning: "most messages per transaction"
            ),
            Key(
                name: "history-batch-wait",
                kind: .whole(0...1000, unit: "ms"),
                defaultValue: "\(d.historyBatchWait)",
                flag: nil,
                meaning: "how long a batch may wait to fill"
            ),
            Key(
                name: "history-on-join",
                kind: .whole(0...1000, unit: "lines"),
                defaultValue: "\(d.historyReplayOnJoin)",
                flag: nil,
                meaning: "lines replayed on JOIN to clients without chathistory (`0`: none)"
            ),
            Key(
                name: "history-limit",
                kind: .whole(1...1000, unit: "messages"),
                defaultValue: "\(d.historyQueryLimit)",
                flag: nil,
                meaning: "most messages per CHATHISTORY or SEARCH answer"
            ),
            Key(
                name: "multiline-max-bytes",
                kind: .whole(512...65_536, unit: "bytes"),
                defaultValue: "\(d.multilineMaxBytes)",
                flag: nil,
                meaning: "most bytes of text in one draft/multiline message (each line break counts one)"
            ),
            Key(
                name: "multiline-max-lines",
                kind: .whole(2...1000, unit: "lines"),
                defaultValue: "\(d.multilineMaxLines)",
                flag: nil,
                meaning: "most lines in one draft/multiline message"
            ),
            Key(
                name: "history-max-age",
                kind: .whole(0...36_500, unit: "days"),
                defaultValue: "\(d.historyMaxAge)",
                flag: nil,
                meaning: "retention: older messages are deleted at start and every hour (`0`: keep all)"
            ),
            Key(
                name: "history-max-per-target",
                kind: .whole(0...100_000_000, unit: "messages"),
                defaultValue: "\(d.historyMaxPerTarget)",
                flag: nil,
                meaning: "retention: most messages kept per channel or conversation (`0`: keep all)"
            ),
            Key(
                name: "password-min-length",
                kind: .whole(1...64, unit: nil),
                defaultValue: "\(d.passwordMinLength)",
                flag: nil,
                meaning: "the fewest characters an account's password may have (REGISTER, NickServ)"
            ),
            Key(
                name: "nick-grace",
                kind: .whole(1...3600, unit: "s"),
                defaultValue: "\(d.nickGrace)",
                flag: nil,
                meaning: "time to log in before a registered nick is taken back"
            ),
            Key(
                name: "nick-hold",
                kind: .whole(0...86400, unit: "s"),
                defaultValue: "\(d.nickHold)",
                flag: nil,
                meaning: "how long the nick then stays held: only a client logged in to its account takes it"
            ),
            Key(
                name: "registrations-per-hour",
                kind: .whole(1...10000, unit: nil),
                defaultValue: "\(d.registrationsPerHour)",
                flag: nil,
                meaning: "accounts one address may register per hour (NickServ or `REGISTER`)"
            ),
            Key(
                name: "cloak",
                kind: .onOff,
                defaultValue: onOff(d.cloak),
                flag: nil,
                meaning: "show a keyed hash of each address as the host (`a1b2c3d4.e5f6a7b8.ip`); operators see the "
                    + "address in WHOIS"
            ),
            Key(
                name: "cloak-key",
                kind: .secret,
                defaultValue: "kept in `data-dir/cloak-key`",
                flag: nil,
                meaning: "the cloak's key, at least 16 characters (in a cluster: kept in the database, one for every "
                    + "node)"
            ),
            Key(
                name: "tls-cert",
                kind: .path,
                defaultValue: "none",
                flag: "--tls-cert",
                meaning: "PEM certificate chain: TLS on every sniffing port (with `tls-key`; `--tls-self-signed` makes "
                    + "both); re-read on SIGHUP"
            ),
            Key(
                name: "tls-key",
                kind: .path,
                defaultValue: "none",
                flag: "--tls-key",
                meaning: "PEM private key of `tls-cert`"
            ),
            Key(
                name: "sts",
                kind: .onOff,
                defaultValue: onOff(d.sts),
                flag: nil,
                meaning: "IRCv3 strict transport security: plaintext clients are told to reconnect with TLS on "
                    + "`sts-port`, TLS clients to keep to TLS for `sts-duration` (needs `tls-cert`; not self-signed)"
            ),
            Key(
                name: "sts-port",
                kind: .whole(0...65535, unit: nil),
                defaultValue: "\(d.stsPort)",
                flag: nil,
                meaning: "the TLS port STS names (`0`: `port`, which takes TLS too)"
            ),
            Key(
                name: "sts-duration",
                kind: .whole(0...315_360_000, unit: "s"),
                defaultValue: "\(d.stsDuration)",
                flag: nil,
                meaning: "how long a client that saw the policy over TLS keeps to TLS (`0` lifts the policy)"
            ),
            Key(
                name: "listeners",
                kind: .list,
                defaultValue: "none",
                flag: "--listeners",
                meaning: "more ports, `[HOST:]PORT[/any\\|/tls\\|/plain]`: `any` sniffs like 1060, `tls` is TLS only, "
                    + "`plain` is IRC only"
            ),
            Key(
                name: "web",
                kind: .onOff,
                defaultValue: onOff(d.web),
                flag: "--web",
                meaning: "the web client, WebSocket, `/healthz` and `/metrics` on sniffing ports"
            ),
            Key(
                name: "websocket-origins",
                kind: .list,
                defaultValue: "same origin",
                flag: nil,
                meaning: "origins allowed to open a WebSocket (`https://chat.example.org`, or `*`); by default the "
                    + "page's own origin when it is an IP address, `localhost` or `server-name` (a page under any "
                    + "other name could be a DNS-rebinding attack)"
            ),
            Key(
                name: "metrics-token",
                kind: .secret,
                defaultValue: "none",
                flag: nil,
                meaning: "`/metrics` then answers only `Authorization: Bearer TOKEN` (401 otherwise)"
            ),
        ]
    }()

    /// The key called `name`. Reading a key that is not in ``reference`` is a programming error.
    static func key(_ name: String) -> ConfigurationKey {
        guard let key = self.reference.first(where: { $0.name == name }) else {
            preconditionFailure("configuration key '\(name)' is not in ServerConfiguration.reference")
        }
        return key
    }

    /// README's table of keys, in Markdown.
    public static func referenceTable() -> String {
        var lines = [
            "| key | flag | environment | values | default | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for key in self.reference {
            let flag = key.flag.map { $0.hasPrefix("--") ? "`\($0)`" : $0 } ?? "—"
            // A value is shown as code; a description of one ("none", "host name and port") as words.
            let plain = key.defaultValue == "none" || key.defaultValue.contains(" ") || key.defaultValue.contains("`")
            let value = plain ? key.defaultValue : "`\(key.defaultValue)`"
            lines.append(
                "| `\(key.name)` | \(flag) | `\(key.environmentVariable)` | \(key.typeDescription) | \(value) | "
                    + "\(key.meaning) |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
