public import ParleyCore

/// Everything the running server needs, already validated.
///
/// Build it with ``init(config:)`` from a `ConfigReader` (flags over `PARLEY_*` environment variables over a YAML
/// file over defaults) or directly in tests.
public struct ServerConfiguration: Sendable {
    /// An `OPER` account: name and a hash made by `parley-server hash-password`.
    public typealias Operator = CoreConfiguration.Operator

    public var host = "0.0.0.0"
    public var port = 1060
    /// Event loops; 0 means one per core.
    public var threads = 0
    public var serverName = "parley.local"
    public var networkName = "Parley"
    /// What this server is, in a line (LINKS and WHOIS show it).
    public var serverDescription = "Parley chat server"
    public var dataDirectory = "./parley-data"
    /// A PostgreSQL URL to keep everything in instead of `data-dir/parley.sqlite`; `nil` for SQLite.
    public var databaseURL: String?
    /// Seconds a new connection may stay silent before it is taken for IRC (IRC clients may wait for the server to
    /// speak); at most `registration-timeout`. Not a configuration key: tests under the sanitizers, which slow
    /// everything, give their HTTP clients longer.
    public var sniffPatience = 1.0
    /// PBKDF2 rounds for new account passwords (SCRAM-SHA-256). Not a configuration key: tests, which create many
    /// accounts (and under the sanitizers run every round many times slower), use RFC 7677's minimum of 4096.
    public var passwordIterations = 100_000
    /// Run as a node of a cluster sharing `databaseURL` (PostgreSQL) with other nodes.
    public var cluster = false
    /// This node's name in the cluster (letters, digits and `-`); made from the host name and port when not given.
    public var nodeID: String?
    /// Seconds a node's lease lasts: a node silent for longer is taken for lost.
    public var clusterLease = 15
    /// Where this node's users may reconnect, told to the other nodes so that a node shutting down can point its users
    /// at them; when not given, the listening address if it is one a client can connect to.
    public var clusterAddress: ReconnectAddress?

    /// ``clusterAddress``, or the listening host and port when they name one machine (not `0.0.0.0` or `::`).
    public var advertisedAddress: ReconnectAddress? {
        if let address = self.clusterAddress { return address }
        guard !["", "0.0.0.0", "::", "[::]", "*"].contains(self.host) else { return nil }
        return ReconnectAddress(host: self.host, port: self.port)
    }

    /// ``advertisedAddress`` as the cluster's table keeps it (`HOST PORT`), or empty.
    public var announcedClusterAddress: String { self.advertisedAddress?.stored ?? "" }
    public var password: String?
    public var motdFile: String?
    public var operators: [Operator] = []
    public var floodControl = true
    /// Lines a client may send at once before flood control slows it down.
    public var floodBurst = 20
    /// Lines per second a client may send after its burst.
    public var floodRate = 4.0
    /// Bytes waiting to be sent to one client before it is disconnected with "SendQ exceeded" (if it does not drain
    /// below this within a second; at once past four times this).
    public var sendQ = 1 << 20
    public var maxConnections = 100_000
    public var maxConnectionsPerIP = 64
    /// Seconds a connection has to finish NICK/USER (and CAP END).
    public var registrationTimeout = 60.0
    /// Seconds of silence before the server sends PING.
    public var pingInterval = 120.0
    /// Seconds to wait for any line after a PING before "Ping timeout".
    public var pingTimeout = 60.0
    /// Largest line body in bytes, CR LF included (tags come on top, up to 8191 bytes).
    public var lineLength = 512
    /// Keep message history (needs a store).
    public var history = true
    /// Most messages committed in one transaction.
    public var historyBatchSize = 512
    /// Milliseconds a batch that is not full may wait for more (0: commit at once). Two milliseconds cost a
    /// message nobody can see, and save the store's thread hand-offs of every commit it folds into a batch
    /// (BENCHMARKS.md, "History": about a quarter of the server's CPU per delivery with one event loop).
    public var historyBatchWait = 2
    /// Seconds shutdown waits for the store to write what it holds before it gives up on it.
    public var shutdownGrace = 10
    /// Lines replayed on JOIN to clients without `draft/chathistory` (0: none).
    public var historyReplayOnJoin = 10
    /// Most messages one `CHATHISTORY` request returns.
    public var historyQueryLimit = 100
    /// draft/multiline: most bytes of text in one message (line breaks counted).
    public var multilineMaxBytes = 4096
    /// draft/multiline: most lines in one message.
    public var multilineMaxLines = 100
    /// Days messages are kept (0: forever).
    public var historyMaxAge = 0
    /// Messages kept per channel or conversation (0: all).
    public var historyMaxPerTarget = 0
    /// Show a keyed hash of each client's address as its host (operators see the address).
    public var cloak = true
    /// The secret for cloaks; `nil` makes a random one for this run (parley-server keeps one in the data directory,
    /// so cloaks, and bans on them, survive restarts).
    public var cloakKey: String?
    /// Seconds someone holding a registered nick has to log in before being renamed.
    public var nickGrace = 30
    /// The fewest characters an account's password may have.
    public var passwordMinLength = 8
    /// Seconds a registered nick stays held for its owner after someone who did not log in was renamed away.
    public var nickHold = 300
    /// Accounts one address may register per hour.
    public var registrationsPerHour = 5
    /// PEM files of the certificate (chain) and private key; with them, TLS is offered on every port that sniffs.
    /// IRCv3 STS: tell plaintext clients to move to TLS on `stsPort` (0: the main port, which takes TLS too) and TLS
    /// clients to keep to it for `stsDuration` seconds.
    public var sts = false
    public var stsPort = 0
    public var stsDuration = 2_592_000
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Listeners besides `host:port`, e.g. `6667/plain` or `6697/tls`.
    public var listeners: [Listener] = []
    /// Serve the web client, WebSocket, `/healthz` and `/metrics` on ports that sniff.
    public var web = true
    /// Origins allowed to open a WebSocket (`*` for any); empty means the page's own origin only.
    public var websocketOrigins: [String] = []
    /// When set, `/metrics` needs `Authorization: Bearer TOKEN`.
    public var metricsToken: String?

    public init() {}

    /// Another port to listen on, and what it speaks.
    public struct Listener: Sendable, Equatable {
        public enum Mode: String, Sendable, Equatable {
            /// Sniffs the first bytes: TLS (when configured), HTTP/WebSocket (when `web` is on), or plain IRC.
            case any
            /// TLS only; inside it, IRC or HTTP/WebSocket as above.
            case tls
            /// Plain IRC only, as classic port 6667.
            case plain
        }

        public var host: String?
        public var port: Int
        public var mode: Mode

        public init(host: String? = nil, port: Int, mode: Mode = .any) {
            self.host = host
            self.port = port
            self.mode = mode
        }

        /// Parses `[HOST:]PORT[/any|/tls|/plain]`.
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard let address = parts.first else { return nil }
            var mode = Mode.any
            if parts.count == 2 {
                guard let parsed = Mode(rawValue: parts[1].lowercased()) else { return nil }
                mode = parsed
            }
            var host: String?
            var portText = address
            if let colon = address.lastIndex(of: ":") {
                host = String(address[..<colon].filter { $0 != "[" && $0 != "]" })
                portText = String(address[address.index(after: colon)...])
            }
            guard let port = Int(portText), (0...65535).contains(port), host?.isEmpty != true else { return nil }
            self.init(host: host, port: port, mode: mode)
        }
    }
}
