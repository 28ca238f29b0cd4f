import Logging
import NIOCore
import ParleyCore
import ParleyWeb

/// A connection's whole pipeline without a listener — first-bytes sniffer, HTTP decoder and handler, WebSocket
/// upgrade, frames and the IRC session — behind a server core of its own (no history, no accounts), for harnesses
/// that drive channels without sockets (`ParleyWireHarness`, for the fuzzer and its regression tests). Package
/// access only: the shipping server never builds one, and this target does not link NIOEmbedded.
package final class WirePipeline {
    private let host: CoreHost
    private let limiter: ConnectionLimiter
    private let setup: ConnectionSetup

    /// Every connection installed runs on `eventLoop`.
    package init(eventLoop: any EventLoop) {
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
            eventLoop: eventLoop,
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

    /// Adds what a listener adds to a new connection (its connection slot, then the sniffer that decides the rest),
    /// on `channel`'s loop, before the channel is active.
    package func install(on channel: any NIOCore.Channel, patience: TimeAmount) throws {
        try channel.pipeline.syncOperations.addHandler(ConnectionSlotHandler(limiter: self.limiter))
        try channel.pipeline.syncOperations.addHandler(
            ProtocolSniffer(setup: self.setup, secure: false, patience: patience)
        )
    }

    /// Sessions and connection slots still held: both must be zero once every connection has closed.
    package var leftovers: (sessions: Int, slots: Int) {
        (self.host.sessionIDs.count, self.limiter.total)
    }
}
