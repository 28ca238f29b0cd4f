import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOWebSocket
import ParleyWeb

/// The web side of a sniffing port: the built-in client's files, `/healthz`, `/metrics`, and the IRCv3 WebSocket
/// transport onto ordinary sessions.
final class WebService: Sendable {
    /// Where the live figures come from (the server), asked on the connection's loop.
    struct Sources: Sendable {
        /// Prometheus text.
        var metrics: @Sendable (any EventLoop) -> EventLoopFuture<[UInt8]>
        /// Whether everything works, and a small JSON document saying so.
        var health: @Sendable (any EventLoop) -> EventLoopFuture<(ok: Bool, json: String)>
    }

    static let subprotocols = ["text.ircv3.net", "binary.ircv3.net"]
    /// A line may carry 8191 bytes of tags and 512 of message; a little room on top for a client's own limits.
    static let maximumFrameSize = 16 * 1024

    let assets: WebAssets
    let allowedOrigins: [String]
    /// Host names the page may be served under besides IP addresses and `localhost` (the server's name).
    let publicHosts: [String]
    /// When set, `/metrics` answers only requests with `Authorization: Bearer TOKEN`.
    let metricsToken: String?
    let sources: Sources

    init(
        assets: WebAssets,
        allowedOrigins: [String],
        publicHosts: [String] = [],
        metricsToken: String? = nil,
        sources: Sources
    ) {
        self.assets = assets
        self.allowedOrigins = allowedOrigins.map { $0.lowercased() }
        self.publicHosts = publicHosts.map { $0.lowercased() }
        self.metricsToken = metricsToken
        self.sources = sources
    }

    /// Turns `channel` into an HTTP connection that may upgrade to a WebSocket IRC session.
    func configure(_ channel: any Channel, secure: Bool, setup: ConnectionSetup) throws {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: Self.maximumFrameSize,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(self.upgradeHeaders(for: head))
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let binary = Self.subprotocol(of: head) == "binary.ircv3.net"
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(WebSocketIRCAdapter(binary: binary))
                    try pipeline.addHandler(
                        SessionHandler(
                            loopContext: setup.loopContext,
                            transport: secure ? .websocketTLS : .websocket
                        )
                    )
                }
            }
        )
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(
            withServerUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                    // The WebSocket frames that follow are not for the HTTP handlers.
                    let pipeline = context.pipeline.syncOperations
                    if let http = try? pipeline.context(handlerType: HTTPHandler.self) {
                        pipeline.removeHandler(context: http, promise: nil)
                    }
                    if let compressor = try? pipeline.context(handlerType: HTTPResponseCompressor.self) {
                        pipeline.removeHandler(context: compressor, promise: nil)
                    }
                    // Before the frame decoder, which the upgrader adds next.
                    try? pipeline.addHandler(UpgradeReplayGuard())
                }
            ),
            withErrorHandling: true
        )
        try pipeline.addHandler(HTTPResponseCompressor(responseCompressionPredicate: Self.worthCompressing))
        try pipeline.addHandler(HTTPHandler(service: self))
    }

    /// gzip (or deflate) for text of a kilobyte or more, when the client accepts it: the client's script and style
    /// shrink to about a third; small answers and images gain nothing.
    static func worthCompressing(
        _ head: inout HTTPResponseHead,
        _ supported: Bool
    )
        -> HTTPResponseCompressor
        .CompressionIntent
    {
        guard supported, head.status == .ok,
            let type = head.headers.first(name: "Content-Type"),
            type.hasPrefix("text/") || type.hasPrefix("application/json") || type.hasPrefix("image/svg"),
            let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length >= 1024
        else { return .doNotCompress }
        head.headers.replaceOrAdd(name: "Vary", value: "Accept-Encoding")
        return .compressIfPossible
    }

    /// The headers to upgrade with, or `nil` to answer the request as plain HTTP (which refuses it and says why).
    func upgradeHeaders(for head: HTTPRequestHead) -> HTTPHeaders? {
        guard Self.isWebSocketPath(head.uri), self.originAllowed(head), !Self.announcesBody(head) else { return nil }
        var headers = HTTPHeaders()
        if let chosen = Self.subprotocol(of: head) {
            headers.add(name: "Sec-WebSocket-Protocol", value: chosen)
        }
        return headers
    }

    /// A handshake is a GET with no body (RFC 6455 4.1). NIO's upgrade handler waits for the end of the request
    /// before it upgrades, and a connection that closed while it waited was never freed (about 5 KB each, found by
    /// FuzzWire): such a request is answered as plain HTTP instead, which refuses it.
    static func announcesBody(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "Transfer-Encoding")
            || head.headers["Content-Length"].contains { $0[...].trimmingCharacters() != "0" }
    }

    static func isWebSocketPath(_ uri: String) -> Bool {
        let path = uri.prefix { $0 != "?" }
        return path == "/" || path == "/webirc"
    }

    /// The first subprotocol the client offers that Parley speaks; `nil` (plain text frames) when it offers none.
    static func subprotocol(of head: HTTPRequestHead) -> String? {
        let offered = head.headers["Sec-WebSocket-Protocol"]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters() }
        return offered.first { Self.subprotocols.contains($0) }
    }

    /// Browsers send `Origin`; by default only the page's own origin (same host and port) may connect, so another
    /// site cannot open a session with a visitor's browser. Non-browser clients send no Origin and are let in.
    /// The page's own origin counts only under a name the server knows (an IP address, `localhost`, the server's
    /// name): a name an attacker controls can be pointed at this server (DNS rebinding), and then its Host header
    /// matches its Origin too.
    func originAllowed(_ head: HTTPRequestHead) -> Bool {
        guard let origin = head.headers.first(name: "Origin")?.lowercased() else { return true }
        if self.allowedOrigins.contains("*") || self.allowedOrigins.contains(origin) { return true }
        guard self.allowedOrigins.isEmpty, let host = head.headers.first(name: "Host")?.lowercased() else {
            return false
        }
        guard let schemeEnd = origin.firstRange(of: "://") else { return false }
        let authority = origin[schemeEnd.upperBound...]
        return authority == host && self.isKnownHost(Self.hostName(of: authority))
    }

    /// The host of `host[:port]` or `[v6]:port`, without the port.
    static func hostName(of authority: Substring) -> Substring {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return authority[authority.index(after: authority.startIndex)..<end]
        }
        return authority.prefix { $0 != ":" }
    }

    func isKnownHost(_ name: Substring) -> Bool {
        if name == "localhost" || self.publicHosts.contains(String(name)) { return true }
        // An IP literal names this server itself: no DNS answer stands between the page and the server.
        let isIPv4 =
            name.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && name.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || name.contains(":")
    }

    /// Whether a `/metrics` request may be answered.
    func metricsAllowed(_ head: HTTPRequestHead) -> Bool {
        guard let token = self.metricsToken else { return true }
        let given = head.headers.first(name: "Authorization") ?? ""
        // Compared over the whole length, so the time taken says nothing of how much matched.
        let expected = Array("Bearer \(token)".utf8)
        let actual = Array(given.utf8)
        var difference = expected.count ^ actual.count
        for index in 0..<expected.count {
            difference |= Int(expected[index] ^ (index < actual.count ? actual[index] : 0))
        }
        return difference == 0
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
