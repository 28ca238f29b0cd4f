import NIOCore
import NIOPosix

/// A set of benchmark connections spread over the tool's event loops, with the per-loop statistics they fill.
final class BenchClients: Sendable {
    struct Client: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<BenchHandler>
        let registered: EventLoopFuture<Void>
    }

    let group: MultiThreadedEventLoopGroup
    let loops: [any EventLoop]
    let stats: [NIOLoopBound<LoopStats>]
    let target: BenchTarget

    init(target: BenchTarget, threads: Int) async throws {
        self.target = target
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.loops = Array(self.group.makeIterator())
        var stats: [NIOLoopBound<LoopStats>] = []
        for loop in self.loops {
            stats.append(try await loop.submit { NIOLoopBound(LoopStats(), eventLoop: loop) }.get())
        }
        self.stats = stats
    }

    /// Opens one connection on loop `index % loops` and starts its registration.
    func connect(index: Int, nick: String, senders: Int) async throws -> Client {
        let slot = index % self.loops.count
        let loop = self.loops[slot]
        let stats = self.stats[slot]
        let registered = loop.makePromise(of: Void.self)
        let password = self.target.password
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = BenchHandler(
                        nick: nick,
                        password: password,
                        senders: senders,
                        stats: stats.value,
                        registered: registered
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: self.target.host, port: self.target.ports[index % self.target.ports.count])
            .get()
        let handler: NIOLoopBound<BenchHandler>
        do {
            handler = try await channel.pipeline.handler(type: BenchHandler.self)
                .map { NIOLoopBound($0, eventLoop: loop) }
                .get()
        } catch {
            throw BenchError(
                "\(nick): the server closed connection \(index + 1) at once (a connection limit per address?)"
            )
        }
        // A registration that never ends must not hang the run.
        loop.scheduleTask(in: .seconds(30)) { registered.fail(BenchError("\(nick): no welcome within 30 s")) }
        return Client(channel: channel, handler: handler, registered: registered.futureResult)
    }

    /// Opens `count` connections at most `rate` per second, then waits until all are registered. On failure the
    /// connections opened so far are closed before the error is thrown.
    func connectAll(count: Int, nickPrefix: String, senders: Int, rate: Double) async throws -> [Client] {
        var connections: [Client] = []
        let start = monotonicNanos()
        do {
            for index in 0..<count {
                connections.append(
                    try await self.connect(index: index, nick: "\(nickPrefix)\(index)", senders: senders)
                )
                try await pace(index + 1, rate: rate, since: start)
            }
            for connection in connections { try await connection.registered.get() }
            return connections
        } catch {
            await self.close(connections)
            throw error
        }
    }

    /// Runs `body` with each client's handler on its loop and waits for all.
    func onEach(_ clients: [Client], _ body: @escaping @Sendable (BenchHandler) -> Void) async throws {
        try await EventLoopFuture.andAllSucceed(
            clients.map { client in client.channel.eventLoop.submit { body(client.handler.value) } },
            on: self.loops[0]
        ).get()
    }

    /// Every loop's statistics, merged.
    func snapshot() async throws -> LoopSnapshot {
        var snapshots: [LoopSnapshot] = []
        for (loop, stats) in zip(self.loops, self.stats) {
            snapshots.append(try await loop.submit { stats.value.snapshot() }.get())
        }
        return LoopSnapshot.merged(snapshots)
    }

    func startRecording() async throws {
        for (loop, stats) in zip(self.loops, self.stats) {
            try await loop.submit { stats.value.startRecording() }.get()
        }
    }

    func stopRecording() async throws {
        for (loop, stats) in zip(self.loops, self.stats) {
            try await loop.submit { stats.value.recording = false }.get()
        }
    }

    func close(_ clients: [Client]) async {
        try? await self.onEach(clients) { $0.closeQuietly() }
        for client in clients { try? await client.channel.closeFuture.get() }
    }

    func shutdown() async {
        try? await self.group.shutdownGracefully()
    }
}
