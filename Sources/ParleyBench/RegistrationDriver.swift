import NIOCore
import NIOPosix

/// Runs `connect`'s registrations on one of the tool's event loops without leaving it: when one registers (or
/// fails), its connection is closed and the next one opened from the same callback. The tool then costs one connect,
/// one read and one close per registration, where tasks awaiting each step cost it about as much CPU as the server
/// it measured (measured: ~200 µs per registration, one full core of two).
final class RegistrationDriver {
    private let loop: any EventLoop
    private let target: BenchTarget
    /// Resolved once: a host name given to `connect` is looked up on a thread pool each time.
    private let addresses: [SocketAddress]
    private let stats: LoopStats
    private let tag: String
    /// This loop starts registrations `first`, `first + stride`, … below `total`.
    private var next: Int
    private let stride: Int
    private let total: Int
    private var inFlight = 0
    private var times: [UInt64?] = []
    private let done: EventLoopPromise<[UInt64?]>

    init(
        loop: any EventLoop,
        target: BenchTarget,
        stats: LoopStats,
        tag: String,
        first: Int,
        stride: Int,
        total: Int
    ) {
        self.loop = loop
        self.target = target
        // BenchTarget accepts only IP addresses, so this cannot fail for a target it made.
        self.addresses = target.ports.map { try! SocketAddress(ipAddress: target.host, port: $0) }
        self.stats = stats
        self.tag = tag
        self.next = first
        self.stride = stride
        self.total = total
        self.done = loop.makePromise()
    }

    /// Starts `concurrency` registrations; the future has one entry per registration: nanoseconds from connect to
    /// 001, or nil for a failure.
    func run(concurrency: Int) -> EventLoopFuture<[UInt64?]> {
        for _ in 0..<max(1, concurrency) { self.launch() }
        if self.inFlight == 0 { self.done.succeed(self.times) }
        return self.done.futureResult
    }

    private func launch() {
        guard self.next < self.total else { return }
        let index = self.next
        self.next += self.stride
        self.inFlight += 1
        let begin = monotonicNanos()
        let nick = "c\(self.tag)\(index)"
        let registered = self.loop.makePromise(of: Void.self)
        let handler = BenchHandler(
            nick: nick,
            password: self.target.password,
            senders: 0,
            stats: self.stats,
            registered: registered
        )
        let bound = NIOLoopBound(handler, eventLoop: self.loop)
        ClientBootstrap(group: self.loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(bound.value) }
            }
            .connect(to: self.addresses[index % self.addresses.count])
            .assumeIsolated()
            .whenComplete { result in
                guard case .success(let channel) = result else {
                    self.finished(nil)
                    return
                }
                // A registration that never ends must not hang the run.
                let timeout = self.loop.assumeIsolated().scheduleTask(in: .seconds(30)) {
                    registered.fail(BenchError("\(nick): no welcome within 30 s"))
                }
                registered.futureResult.assumeIsolated().whenComplete { outcome in
                    timeout.cancel()
                    let elapsed: UInt64? = if case .success = outcome { monotonicNanos() - begin } else { nil }
                    handler.closeQuietly()
                    channel.closeFuture.assumeIsolated().whenComplete { _ in self.finished(elapsed) }
                }
            }
    }

    private func finished(_ elapsed: UInt64?) {
        self.times.append(elapsed)
        self.inFlight -= 1
        self.launch()
        if self.inFlight == 0 { self.done.succeed(self.times) }
    }
}

@available(*, unavailable)
extension RegistrationDriver: Sendable {}
