public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
import ParleyCore
import ParleyIRC
public import ParleyStore
import ParleyWeb
public import ServiceLifecycle

/// The running IRC server: a listener, the shared core, and one ``LoopContext`` per event loop.
///
/// Use it as a `Service` in a `ServiceGroup` (graceful shutdown tells every client and closes), or call
/// ``start()`` and ``shutdown()`` directly, as the tests do.
public final class ParleyServer: Service, Sendable {
    public let configuration: ServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    let host: CoreHost
    let limiter: ConnectionLimiter
    let contexts: [ObjectIdentifier: LoopContext]
    private let listener = NIOLockedValueBox<(any NIOCore.Channel)?>(nil)
    /// The listeners from `listeners`, besides the main one.
    private let extraListeners = NIOLockedValueBox<[any NIOCore.Channel]>([])
    private let tls = NIOLockedValueBox<TLSProvider?>(nil)
    let metrics = ServerMetrics()
    let startedAt = NIODeadline.now()
    private let storeAbandoned = NIOLockedValueBox(false)
    let store: (any ParleyStorage)?
    let cluster: (any ClusterBus)?
    let relay = NIOLockedValueBox<ClusterRelay?>(nil)
    /// When a shutdown must be over; set when it begins.
    let clock: ShutdownClock
    /// The background services' group while it runs (``start()`` returns once the server listens, so the tests
    /// learn their port; the group runs in the one task that stopping awaits).
    private let background = NIOLockedValueBox<(group: ServiceGroup, running: Task<Void, Never>)?>(nil)

    /// Creates a server; nothing listens until ``start()`` or ``run()``.
    /// - Parameters:
    ///   - configuration: The validated configuration.
    ///   - motd: Lines of the message of the day, or `nil` for none.
    ///   - store: Where history is kept, or `nil` to keep none. The caller opens and closes it.
    ///   - cluster: How this node hears of the other nodes' messages, when it is one of a cluster (its store is
    ///     then the cluster's shared database).
    ///   - group: The event loops to run on.
    ///   - logger: Where connection events are logged.
    public init(
        configuration: ServerConfiguration,
        motd: [String]? = nil,
        store: (any ParleyStorage)? = nil,
        cluster: (any ClusterBus)? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.cluster = cluster
        self.configuration = configuration
        self.group = group
        self.logger = logger
        var core = CoreConfiguration(
            serverName: configuration.serverName,
            networkName: configuration.networkName,
            createdAt: CoreHost.now(),
            password: configuration.password,
            motd: motd,
            operators: configuration.operators
        )
        core.lineLength = configuration.lineLength
        core.serverDescription = configuration.serverDescription
        core.multiline = .init(
            maximumBytes: configuration.multilineMaxBytes,
            maximumLines: configuration.multilineMaxLines
        )
        if configuration.sts {
            core.strictTransport = .init(
                port: configuration.stsPort == 0 ? configuration.port : configuration.stsPort,
                duration: configuration.stsDuration
            )
        }
        core.nodeName = cluster?.nodeID
        var history: CoreHost.History?
        if let store, configuration.history {
            core.history = .init(
                replayOnJoin: configuration.historyReplayOnJoin,
                queryLimit: configuration.historyQueryLimit
            )
            let metrics = self.metrics
            let writer = HistoryWriter(
                store: store,
                options: .init(
                    batchSize: configuration.historyBatchSize,
                    maximumWait: .milliseconds(configuration.historyBatchWait),
                    observe: { messages, duration in metrics.historyCommitted(messages: messages, duration: duration) }
                )
            )
            history = CoreHost.History(store: store, writer: writer, eventLoop: group.next())
        }
        var accounts: AccountService?
        if let store {
            core.accounts = .init(
                minimumPasswordLength: configuration.passwordMinLength,
                nickGrace: Int64(configuration.nickGrace),
                nickHold: Int64(configuration.nickHold),
                registrationsPerHour: configuration.registrationsPerHour
            )
            accounts = AccountService(store: store, iterations: configuration.passwordIterations)
        }
        self.store = store
        let clock = ShutdownClock(grace: .seconds(configuration.shutdownGrace))
        self.clock = clock
        let host = CoreHost(
            core: ServerState(configuration: core),
            history: history,
            accounts: accounts,
            store: store,
            cloak: HostCloak(
                key: configuration.cloak
                    ? configuration.cloakKey
                        ?? String((0..<32).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
                    : nil
            ),
            nickQueue: cluster.map { ClusterNickQueue(bus: $0, logger: logger) },
            signals: cluster.map { ClusterSignals(bus: $0, logger: logger) },
            clock: clock,
            logger: logger
        )
        let limiter = ConnectionLimiter(
            maximum: configuration.maxConnections,
            maximumPerAddress: configuration.maxConnectionsPerIP
        )
        self.host = host
        self.limiter = limiter
        var contexts: [ObjectIdentifier: LoopContext] = [:]
        for loop in group.makeIterator() {
            contexts[ObjectIdentifier(loop)] = LoopContext(
                eventLoop: loop,
                host: host,
                limiter: limiter,
                configuration: configuration
            )
        }
        self.contexts = contexts
    }

    /// The bound address once started.
    public var localAddress: SocketAddress? { self.listener.withLockedValue { $0?.localAddress } }

    /// Binds the listener and starts serving.
    /// - Returns: The bound port (useful with port 0).
    @discardableResult
    public func start() async throws -> Int {
        var relay: ClusterRelay?
        if let store = self.store {
            self.host.load(
                accounts: try await store.accountNames(),
                channels: try await store.channelRecords(),
                channelEnds: try await store.channelEnds()
            )
            if let cluster = self.cluster {
                try await cluster.announce(run: self.host.runName)
                relay = ClusterRelay(
                    bus: cluster,
                    host: self.host,
                    lease: .seconds(self.configuration.clusterLease),
                    metrics: self.metrics,
                    logger: self.logger
                )
                self.relay.withLockedValue { $0 = relay }
            }
        }
        self.startServices()
        if let relay {
            // Serve only once the relay listens: a message committed after a user here joined must reach them.
            guard await relay.waitUntilListening(timeout: .seconds(60)) else {
                await self.stopServices()
                throw ConfigurationError(
                    key: "cluster",
                    message: "cannot listen for the other nodes' messages on the database (see the log)"
                )
            }
        }
        do {
            return try await self.listen()
        } catch {
            await self.stopServices()
            throw error
        }
    }

    /// Binds every listener and starts each loop's sweeps; returns the main listener's port.
    private func listen() async throws -> Int {
        if let certificate = self.configuration.tlsCertificatePath, let key = self.configuration.tlsKeyPath {
            let provider = try TLSProvider(certificatePath: certificate, keyPath: key)
            self.tls.withLockedValue { $0 = provider }
        }
        let tls = self.tls.withLockedValue { $0 }
        if self.configuration.listeners.contains(where: { $0.mode == .tls }) && tls == nil {
            throw ConfigurationError(key: "listeners", message: "a /tls listener needs tls-cert and tls-key")
        }
        let web = self.configuration.web ? self.makeWebService() : nil
        let channel = try await self.bind(
            host: self.configuration.host,
            port: self.configuration.port,
            mode: .any,
            tls: tls,
            web: web
        )
        self.listener.withLockedValue { $0 = channel }
        for extra in self.configuration.listeners {
            let bound = try await self.bind(
                host: extra.host ?? self.configuration.host,
                port: extra.port,
                mode: extra.mode,
                tls: tls,
                web: web
            )
            self.extraListeners.withLockedValue { $0.append(bound) }
            self.logger.info(
                "listening",
                metadata: [
                    "parley.address": "\(bound.localAddress?.description ?? "?")", "parley.mode": "\(extra.mode)",
                ]
            )
        }
        let configuration = self.configuration
        let sweep = min(configuration.registrationTimeout, configuration.pingInterval, configuration.pingTimeout) / 4
        for context in self.contexts.values {
            context.startSweeping(every: .seconds(min(max(sweep, 0.02), 5)))
            context.startLagSampling(into: self.metrics)
        }
        let port = channel.localAddress?.port ?? configuration.port
        if configuration.sts && configuration.stsPort == 0 && configuration.port == 0 {
            // The policy names the port actually bound when the configuration asked for any free one.
            self.host.updateConfiguration { core in core.strictTransport?.port = port }
        }
        self.logger.info("listening", metadata: ["parley.address": "\(configuration.host):\(port)"])
        return port
    }

    /// The ports the extra listeners were bound to, in the order of `listeners` (useful with port 0).
    public var extraPorts: [Int] {
        self.extraListeners.withLockedValue { $0.compactMap { $0.localAddress?.port } }
    }

    /// Reads the TLS certificate and key again (SIGHUP); new connections get the new ones.
    /// - Throws: ``TLSSetupError`` when the files cannot be used (the previous ones stay in use).
    public func reloadTLS() throws {
        try self.tls.withLockedValue { $0 }?.reload()
    }

    private func bind(
        host: String,
        port: Int,
        mode: ServerConfiguration.Listener.Mode,
        tls: TLSProvider?,
        web: WebService?
    ) async throws -> any NIOCore.Channel {
        let contexts = self.contexts
        let configuration = self.configuration
        // Some IRC clients wait for the server to speak first: a silent connection is taken for IRC after this.
        let patience = TimeAmount.seconds(min(configuration.sniffPatience, configuration.registrationTimeout))
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.sendQ / 2, high: configuration.sendQ)
            )
            // NIO keeps each channel's last receive buffer for reuse, so the initial size is paid by every idle
            // connection (measured: 512 → 128 saved ~390 bytes per connection); busy senders grow it adaptively.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 128, maximum: 65536)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let context = contexts[ObjectIdentifier(channel.eventLoop)] else {
                        throw ChannelError.inappropriateOperationForState
                    }
                    let pipeline = channel.pipeline.syncOperations
                    let setup = ConnectionSetup(loopContext: context, tls: tls, web: web)
                    try pipeline.addHandler(ConnectionSlotHandler(limiter: context.limiter))
                    switch mode {
                    case .plain:
                        try pipeline.addHandler(SessionHandler(loopContext: context))
                    case .tls:
                        try pipeline.addHandler(tls!.makeHandler())
                        try pipeline.addHandler(ProtocolSniffer(setup: setup, secure: true, patience: patience))
                    case .any where tls == nil && web == nil:
                        try pipeline.addHandler(SessionHandler(loopContext: context))
                    case .any:
                        try pipeline.addHandler(ProtocolSniffer(setup: setup, secure: false, patience: patience))
                    }
                }
            }
        return try await bootstrap.bind(host: host, port: port).get()
    }

    /// The background work in start order; the group stops it in the reverse order. So the relay stops first
    /// and the nick queue gives back the node's nicks before it leaves the cluster; the writer lets held output go
    /// once committed before the effect queues, which that output may still start, stop last.
    private func services() -> [any Service] {
        var services: [any Service] = [self.host.effects.store, self.host.effects.accounts, self.host.effects.channels]
        if let writer = self.host.history?.writer {
            let contexts = self.contexts
            services.append(
                HistoryService(
                    writer: writer,
                    host: self.host,
                    clock: self.clock,
                    drainLoops: { await Self.drain(contexts) },
                    abandoned: { [storeAbandoned] in storeAbandoned.withLockedValue { $0 = true } },
                    logger: self.logger
                )
            )
        }
        guard self.store != nil else { return services }
        if self.configuration.historyMaxAge > 0 || self.configuration.historyMaxPerTarget > 0 {
            services.append(RetentionService { [self] in _ = await self.pruneHistory() })
        }
        services.append(ReservationService(host: self.host))
        if let cluster = self.cluster {
            services.append(ClusterMembership(bus: cluster, logger: self.logger))
            if let queue = self.host.nickQueue { services.append(ClusterNickService(queue: queue, host: self.host)) }
            if let signals = self.host.signals { services.append(signals) }
            if let relay = self.relay.withLockedValue({ $0 }) { services.append(relay) }
        }
        return services
    }

    private func startServices() {
        var logger = self.logger
        // The group's own start and stop lines are detail; the server logs its own.
        logger.logLevel = max(logger.logLevel, .notice)
        let group = ServiceGroup(
            configuration: .init(
                services: self.services().map { .init(service: $0, successTerminationBehavior: .ignore) },
                logger: logger
            )
        )
        let running = Task {
            do {
                try await group.run()
            } catch {
                self.logger.error("a background service failed", metadata: ["parley.error": "\(error)"])
            }
        }
        self.background.withLockedValue { $0 = (group, running) }
    }

    /// Stops the background services in reverse order and waits for them (each bounded by the grace time).
    private func stopServices() async {
        guard let (group, running) = self.background.withLockedValue({ $0 }) else { return }
        self.clock.begin()
        await group.triggerGracefulShutdown()
        await running.value
        self.background.withLockedValue { $0 = nil }
    }

    /// Serves until graceful shutdown, then tells every client and closes.
    public func run() async throws {
        if self.listener.withLockedValue({ $0 == nil }) {
            try await self.start()
        }
        guard let channel = self.listener.withLockedValue({ $0 }) else { return }
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            // Stop accepting at once; the clients are told below.
            channel.close(promise: nil)
        }
        await self.quiesce()
        await self.finish()
        self.logger.info("stopped")
    }

    /// Stops accepting, sends every client `ERROR :Closing link (Server shutting down)`, and closes them.
    public func shutdown() async {
        await self.quiesce()
        if let channel = self.listener.withLockedValue({ $0 }) {
            try? await channel.closeFuture.get()
        }
        await self.finish()
    }

    /// After the clients were told: the background services stop in reverse order, then the loops write what the
    /// last of them queued.
    private func finish() async {
        await self.drainLoops()
        await self.stopServices()
        await self.drainLoops()
    }

    /// Whether shutdown gave up on a store that did not answer: closing it would wait for it too.
    public var abandonedStore: Bool { self.storeAbandoned.withLockedValue { $0 } }

    private func quiesce() async {
        self.clock.begin()
        for context in self.contexts.values { context.stopSweeping() }
        // In a cluster each user is first told of another node to connect to (010), when the nodes gave addresses.
        let elsewhere = await self.relay.withLockedValue { $0 }?.reconnectAddresses() ?? []
        self.host.perform { core, outbox in
            core.beginShutdown()
            core.pointUsersElsewhere(elsewhere, into: &outbox)
        }
        // In a cluster the users on other nodes see these quits too: the reason names the node.
        let reason = self.cluster.map { "Node \($0.nodeID) shutting down" } ?? "Server shutting down"
        for id in self.host.sessionIDs {
            self.host.close(id, reason: reason)
        }
        self.listener.withLockedValue { $0 }?.close(promise: nil)
        for listener in self.extraListeners.withLockedValue({ $0 }) { listener.close(promise: nil) }
    }

    /// Waits until every loop ran the work queued before now (the ERROR lines and closes), twice over, because
    /// a batch can queue a flush behind itself.
    private func drainLoops() async {
        await Self.drain(self.contexts)
    }

    private static func drain(_ contexts: [ObjectIdentifier: LoopContext]) async {
        for _ in 0..<2 {
            for context in contexts.values {
                try? await context.eventLoop.submit {}.get()
            }
        }
    }

    /// Replaces the message of the day and operators (SIGHUP).
    public func reload(motd: [String]?, operators: [ServerConfiguration.Operator]) {
        self.host.updateConfiguration { core in
            core.motd = motd
            core.operators = operators
        }
    }

    /// Applies the retention settings (`history-max-age`, `history-max-per-target`) now.
    /// - Returns: How many messages were deleted (0 when retention is off or the store failed, which is logged).
    @discardableResult
    public func pruneHistory() async -> Int {
        guard let store = self.store else { return 0 }
        let days = self.configuration.historyMaxAge
        let keep = self.configuration.historyMaxPerTarget
        guard days > 0 || keep > 0 else { return 0 }
        let cutoff = days > 0 ? CoreHost.now().millisecondsSince1970 - Int64(days) * 86_400_000 : nil
        do {
            let deleted = try await store.prune(olderThan: cutoff, keepPerTarget: keep > 0 ? keep : nil)
            self.logger.info("history retention", metadata: ["parley.deleted": "\(deleted)"])
            return deleted
        } catch {
            self.logger.error("history retention failed", metadata: ["parley.error": "\(error)"])
            return 0
        }
    }

    /// Open connections.
    public var connectionCount: Int { self.limiter.total }
}
