import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ParleyServer
import ParleyStore
import ParleyStorePostgres
import ParleyStoreSQLite
import ParleyVersion
import ServiceLifecycle
import UnixSignals

@main
struct ParleyServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley-server",
        abstract: "Parley: a chat server that speaks IRC.",
        version: ParleyVersion.line("parley-server"),
        subcommands: [Serve.self, HashPassword.self, Backup.self, Check.self, Config.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the server (the default).")

    @Argument(help: "Address to listen on (default 0.0.0.0).") var host: String?
    @Option(help: "Port to listen on (default 1060).") var port: Int?
    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "Event loop threads (default: one per core).") var threads: Int?
    @Option(name: .customLong("server-name"), help: "Server name shown to clients.") var serverName: String?
    @Option(name: .customLong("network-name"), help: "Network name (ISUPPORT NETWORK).") var networkName: String?
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./parley-data).") var dataDir: String?
    @Option(help: "sqlite (default: data-dir/parley.sqlite) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
    var database: String?
    @Flag(help: "Be one node of a cluster sharing the --database (PostgreSQL) with other nodes.") var cluster = false
    @Option(name: .customLong("node-id"), help: "This node's name in the cluster (default: host name and port).")
    var nodeID: String?
    @Option(help: "Connection password clients must send with PASS (shows in ps: prefer --password-file).")
    var password: String?
    @Option(help: "A file whose first line is the connection password.") var passwordFile: String?
    @Option(name: .customLong("motd-file"), help: "Message of the day file.") var motdFile: String?
    @Option(name: .customLong("flood-control"), help: "on or off (default on).") var floodControl: String?
    @Option(help: "Keep message history in data-dir/parley.sqlite: on or off (default on).") var history: String?
    @Option(name: .customLong("tls-cert"), help: "TLS certificate chain (PEM); TLS is then offered on the port.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "TLS private key (PEM) for --tls-cert.") var tlsKey: String?
    @Flag(
        name: .customLong("tls-self-signed"),
        help: "Make (once) and use a self-signed certificate in the data directory; prints its fingerprint."
    )
    var tlsSelfSigned = false
    @Option(help: "More listeners, comma-separated [HOST:]PORT[/any|/tls|/plain], e.g. 6667/plain,6697/tls.")
    var listeners: String?
    @Option(help: "Serve the web client, WebSocket, /healthz and /metrics: on or off (default on).") var web: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(help: "Log format: text, or json (one JSON object per line, for log collectors).")
    var logFormat: String = "text"

    /// The flags that were given, by configuration key.
    var flags: [String: String] {
        let values: [String: String?] = [
            "host": self.host, "port": self.port.map(String.init), "threads": self.threads.map(String.init),
            "server-name": self.serverName, "network-name": self.networkName, "data-dir": self.dataDir,
            "database": self.database, "cluster": self.cluster ? "on" : nil, "node-id": self.nodeID,
            "password": self.password, "password-file": self.passwordFile, "motd-file": self.motdFile,
            "flood-control": self.floodControl,
            "history": self.history, "tls-cert": self.tlsCert, "tls-key": self.tlsKey, "listeners": self.listeners,
            "web": self.web,
        ]
        return values.compactMapValues { $0 }
    }

    /// Reads and validates the configuration; any problem becomes a usage error naming the key.
    static func load(flags: [String: String], file: String?) async throws -> ServerConfiguration {
        do {
            let reader = try await ServerConfiguration.reader(
                flags: flags,
                environment: ProcessInfo.processInfo.environment,
                file: file
            )
            return try ServerConfiguration(config: reader)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        var configuration = try await Self.load(flags: self.flags, file: self.config)
        guard let level = Logger.Level(rawValue: self.logLevel) else {
            throw ValidationError("invalid --log-level '\(self.logLevel)'")
        }
        switch self.logFormat {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        default:
            throw ValidationError("invalid --log-format '\(self.logFormat)' (text or json)")
        }
        let logger = Logger(label: "parley")
        Self.raiseFileLimit()
        // Only the server's user reads what it keeps (the directory it creates is 0700, the database 0600).
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            guard FileManager.default.isWritableFile(atPath: configuration.dataDirectory) else {
                throw CocoaError(.fileWriteNoPermission)
            }
        } catch {
            throw Self.stop(StartupError.dataDirectory(configuration.dataDirectory, error))
        }
        do {
            try DataDirectoryLock.take(configuration.dataDirectory)
        } catch let error as StartupError {
            throw Self.stop(error)
        }
        let cloakKeyGiven = configuration.cloakKey != nil
        if configuration.cloak && !cloakKeyGiven {
            configuration.cloakKey = try Self.cloakKey(in: configuration.dataDirectory)
        }
        var selfSignedFingerprint: String?
        if self.tlsSelfSigned {
            guard configuration.tlsCertificatePath == nil else {
                throw ValidationError("--tls-self-signed and --tls-cert/tls-cert exclude each other")
            }
            let files = try SelfSignedCertificate.ensure(
                in: configuration.dataDirectory,
                hostName: configuration.serverName
            )
            configuration.tlsCertificatePath = files.certificatePath
            configuration.tlsKeyPath = files.keyPath
            selfSignedFingerprint = files.fingerprint
            FileHandle.standardError.write(
                Data(
                    "Self-signed TLS certificate \(files.certificatePath)\nSHA-256 fingerprint \(files.fingerprint)\n"
                        .utf8
                )
            )
        }
        let motd: [String]?
        do {
            motd = try Self.loadMOTD(configuration.motdFile)
        } catch {
            throw Self.stop(StartupError(kind: .configuredFile, description: "\(error)"))
        }
        let group: MultiThreadedEventLoopGroup =
            configuration.threads == 0
            ? .singleton : MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let store: any ParleyStorage
        let closeStore: () async throws -> Void
        var cluster: PostgresClusterBus?
        do {
            if let url = configuration.databaseURL {
                let postgres = try await PostgresStore.open(url: url, logger: Logger(label: "parley.store"))
                (store, closeStore) = (postgres, postgres.close)
                logger.info("Keeping history and accounts in \(postgres.url.redacted)")
                if configuration.cluster {
                    let node = configuration.nodeID ?? Self.defaultNodeID(port: configuration.port)
                    cluster = try await PostgresClusterBus.join(
                        store: postgres,
                        nodeID: node,
                        lease: .seconds(configuration.clusterLease),
                        address: configuration.announcedClusterAddress
                    )
                    logger.info("Cluster node \(node)")
                    if configuration.cloak && !cloakKeyGiven, let own = configuration.cloakKey {
                        // One key for every node, or a ban on a cloaked host is evaded by connecting to another.
                        configuration.cloakKey = try await postgres.sharedSecret("cloak-key", candidate: own)
                    }
                }
            } else {
                let sqlite = try await SQLiteStore.open(path: configuration.dataDirectory + "/parley.sqlite")
                (store, closeStore) = (sqlite, sqlite.close)
            }
        } catch {
            let place =
                configuration.databaseURL.map { "at \(Self.redacted($0))" }
                ?? configuration.dataDirectory + "/parley.sqlite"
            throw Self.stop(StartupError(kind: .database, description: "cannot open the database \(place): \(error)."))
        }
        let server = ParleyServer(
            configuration: configuration,
            motd: motd,
            store: store,
            cluster: cluster,
            group: group,
            logger: logger
        )
        let port: Int
        do {
            port = try await server.start()
        } catch {
            // The server stopped what it started; the store is closed before its connection is let go.
            try? await closeStore()
            switch error {
            case let error as TLSSetupError: throw Self.stop(StartupError.tlsFiles(error.description))
            case let error as ConfigurationError: throw ValidationError(error.description)
            case let error as IOError:
                throw Self.stop(StartupError.listening(on: configuration.host, port: configuration.port, error))
            default: throw error
            }
        }
        let banner = Self.banner(configuration, port: port, selfSignedFingerprint: selfSignedFingerprint)
        // Written unbuffered so scripts reading the first line see it at once.
        FileHandle.standardOutput.write(Data(banner.utf8))
        let reloader = Reloader(server: server, flags: self.flags, file: self.config, logger: logger)
        let group2 = ServiceGroup(
            configuration: .init(
                services: [.init(service: server), .init(service: reloader, successTerminationBehavior: .ignore)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group2.run()
        // Closing a store that never answered would wait for it too; the process ends without it.
        if !server.abandonedStore { try await closeStore() }
    }

    /// The one line saying where the server listens and how to connect, true to what is on: with TLS the port takes
    /// TLS and plain connections, the web client is on https, and a self-signed certificate is named with its
    /// fingerprint and the `parley` option that trusts it.
    static func banner(_ configuration: ServerConfiguration, port: Int, selfSignedFingerprint: String?) -> String {
        let shown = configuration.host == "0.0.0.0" || configuration.host == "::" ? "127.0.0.1" : configuration.host
        let hostPort = shown.contains(":") ? "[\(shown)]:\(port)" : "\(shown):\(port)"
        // The terminal client defaults to port 1060; any other port goes into the address it is shown.
        let address = port == 1060 ? shown : hostPort
        let web = configuration.web
        guard let certificate = configuration.tlsCertificatePath else {
            return
                "Parley listening on irc://\(hostPort) — connect with `parley \(address)` or `irssi -c \(shown) -p \(port)`"
                + (web ? ", or open http://\(hostPort)/ in a browser\n" : "\n")
        }
        let trust = selfSignedFingerprint == nil ? "--tls" : "--tls-ca \(certificate)"
        let pinned = selfSignedFingerprint.map { " (self-signed, SHA-256 \($0))" } ?? ""
        return "Parley listening on ircs://\(hostPort)\(pinned) and irc://\(hostPort) — connect with "
            + "`parley \(address) \(trust)` or `irssi -c \(shown) -p \(port) -tls`"
            + (web ? ", or open https://\(hostPort)/ in a browser\n" : "\n")
    }

    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "…" + String(url[at...])
    }

    /// Says why the server cannot start and gives the exit code for it.
    static func stop(_ error: StartupError) -> ExitCode {
        FileHandle.standardError.write(Data("parley-server: \(error.description)\n".utf8))
        return ExitCode(error.kind.rawValue)
    }

    /// A node name from the host name and port: distinct for nodes on different machines or ports.
    static func defaultNodeID(port: Int) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node"
        let clean = String(
            host.unicodeScalars.filter {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
            }
        )
        return String((clean.isEmpty ? "node" : clean).prefix(24)) + "-\(port)"
    }

    /// The cloak secret kept in the data directory, made on first start: cloaks (and bans on them) must not change
    /// with a restart.
    static func cloakKey(in directory: String) throws -> String {
        let path = directory + "/cloak-key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if key.count >= 16 { return key }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let key = Data(bytes).base64EncodedString()
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data((key + "\n").utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else { throw ValidationError("cannot write \(path)") }
        return key
    }

    /// Every connection is a file descriptor: take the whole hard limit, as servers do.
    static func raiseFileLimit() {
        #if os(Linux)
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
        #endif
    }

    static func loadMOTD(_ path: String?) throws -> [String]? {
        guard let path else { return nil }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.prefix(400)) }
                .reversed().drop(while: \.isEmpty).reversed()
        } catch {
            throw ValidationError(
                "cannot read the motd-file \(path) (\(error.localizedDescription)) Fix the path or leave motd-file out."
            )
        }
    }
}

/// SIGHUP: read the configuration again and apply the MOTD and operators; read the TLS files again.
/// Its description is its name only: the service group logs services at start, and the flags may hold a password.
struct Reloader: Service, CustomStringConvertible {
    var description: String { "Reloader" }

    let server: ParleyServer
    let flags: [String: String]
    let file: String?
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let configuration = try await Serve.load(flags: self.flags, file: self.file)
                let motd = try Serve.loadMOTD(configuration.motdFile)
                self.server.reload(motd: motd, operators: configuration.operators)
                try self.server.reloadTLS()
                self.logger.info("reloaded MOTD, operators and TLS certificate")
            } catch {
                self.logger.error("reload failed, keeping the previous settings: \(error)")
            }
        }
    }
}

struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Read a password on standard input and print its hash for the `operators` setting."
    )

    func run() throws {
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw ValidationError("no password on standard input")
        }
        print(try OperatorPassword.hash(password))
    }
}
