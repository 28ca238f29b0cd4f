import Logging
import NIOCore
import NIOEmbedded
import ParleyCore
import ParleyWeb

/// Feeds raw bytes through a connection's whole pipeline — first-bytes sniffer, HTTP decoder and handler, WebSocket
/// upgrade, frames and the IRC session — on an embedded event loop, with no sockets. For the libFuzzer target
/// `FuzzWire`; not part of the server's API.
public final class WireHarness {
    private let loop = EmbeddedEventLoop()
    private let host: CoreHost
    private let limiter: ConnectionLimiter
    private let setup: ConnectionSetup

    public init() {
        var configuration = ServerConfiguration()
        configuration.serverName = "fuzz.test"
        configuration.floodControl = false
        var logger = Logger(label: "parley.fuzz")
        logger.logLevel = .critical
        let core = CoreConfiguration(
            serverName: configuration.serverName,
            networkName: configuration.networkName,
            createdAt: Timestamp(millisecondsSince1970: 0)
        )
        self.host = CoreHost(
            core: ServerState(configuration: core),
            history: nil,
            accounts: nil,
            store: nil,
            logger: logger
        )
        self.limiter = ConnectionLimiter(maximum: 1000, maximumPerAddress: 1000)
        let context = LoopContext(
            eventLoop: self.loop,
            host: self.host,
            limiter: self.limiter,
            configuration: configuration
        )
        let page = WebAsset(contentType: "text/html; charset=utf-8", body: Array("<!doctype html>".utf8), etag: "\"1\"")
        let web = WebService(
            assets: WebAssets(files: ["/index.html": page]),
            allowedOrigins: [],
            sources: .init(
                metrics: { loop in loop.makeSucceededFuture(Array("parley_up 1\n".utf8)) },
                health: { loop in loop.makeSucceededFuture((true, "{}")) }
            )
        )
        self.setup = ConnectionSetup(loopContext: context, tls: nil, web: web)
    }

    /// Whether the last connection's pipeline was freed once it closed. A retain cycle among its handlers keeps a
    /// closed connection's whole pipeline in memory for good.
    public private(set) var lastPipelineFreed = true

    /// One connection: `chunks` arrive one read at a time, then the patience timer runs out, then it closes.
    /// - Returns: The bytes the server wrote back.
    @discardableResult
    public func connection(_ chunks: [[UInt8]]) -> Int {
        weak var freed: ChannelPipeline?
        let written = self.run(chunks) { freed = $0.pipeline }
        self.lastPipelineFreed = freed == nil
        return written
    }

    private func run(_ chunks: [[UInt8]], keep: (EmbeddedChannel) -> Void) -> Int {
        let channel = EmbeddedChannel(loop: self.loop)
        keep(channel)
        var written = 0
        func drain() {
            while let data = try? channel.readOutbound(as: IOData.self) { written += data.readableBytes }
            while let data = try? channel.readOutbound(as: ByteBuffer.self) { written += data.readableBytes }
        }
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionSlotHandler(limiter: self.limiter))
            try channel.pipeline.syncOperations.addHandler(
                ProtocolSniffer(setup: self.setup, secure: false, patience: .seconds(Int64(1)))
            )
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 4000)).wait()
        } catch {
            preconditionFailure("the embedded channel did not start: \(error)")
        }
        for chunk in chunks where channel.isActive {
            // Errors that reach the end of the pipeline are the connection's business (it closes); not a crash.
            _ = try? channel.writeInbound(ByteBuffer(bytes: chunk))
            self.loop.run()
            drain()
        }
        self.loop.advanceTime(by: .seconds(Int64(2)))
        drain()
        _ = try? channel.close().wait()
        self.loop.run()
        drain()
        _ = try? channel.finish()
        return written
    }

    /// Sessions and connection slots still held: both must be zero once every connection has closed.
    public var leftovers: (sessions: Int, slots: Int) {
        (self.host.sessionIDs.count, self.limiter.total)
    }
}
