import NIOCore
import NIOHTTP1
import NIOWebSocket
import ParleyWeb

/// Answers plain HTTP requests on a sniffed connection: the web client's files, `/healthz`, `/metrics`; anything
/// else is 404, a method other than GET/HEAD is 405, and a request the decoder cannot read gets 400 (NIO's error
/// handler) and is closed.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// An idle keep-alive connection is closed after this long.
    static let idleTimeout = TimeAmount.seconds(Int64(30))

    /// Scripts only from the server itself and no inline script or style: a message that slipped through as HTML
    /// still could not run.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private let service: WebService
    private var request: HTTPRequestHead?
    private var idle: Scheduled<Void>?

    init(service: WebService) {
        self.service = service
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.armIdleTimer(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idle?.cancel()
        self.idle = nil
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        self.idle?.cancel()
        self.idle = context.eventLoop.assumeIsolated().scheduleTask(in: Self.idleTimeout) {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
            self.armIdleTimer(context: context)
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.route(head, context: context)
        }
    }

    /// NIO's error handler has already answered 400 to a request it could not decode; the connection ends here.
    /// A declined WebSocket upgrade is reported as an error too, but the request then comes here and is answered.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPServerUpgradeErrors || error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.method == .GET || head.method == .HEAD else {
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: "GET, HEAD")
            self.respond(head, .methodNotAllowed, text: "Only GET and HEAD are served here.\n", headers, context)
            return
        }
        if head.headers[canonicalForm: "Upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
            // The upgrader declined it.
            if !WebService.isWebSocketPath(head.uri) {
                self.respond(head, .notFound, text: "WebSocket IRC is at / and /webirc.\n", [:], context)
            } else if !self.service.originAllowed(head) {
                self.respond(head, .forbidden, text: "This origin may not open a WebSocket here.\n", [:], context)
            } else if WebService.announcesBody(head) {
                self.respond(head, .badRequest, text: "A WebSocket upgrade request has no body.\n", [:], context)
            } else {
                self.respond(head, .badRequest, text: "Not a valid WebSocket upgrade request.\n", [:], context)
            }
            return
        }
        let path = String(head.uri.prefix { $0 != "?" })
        switch path {
        case "/healthz":
            let health = self.service.sources.health(context.eventLoop).map { health in
                (health.ok ? HTTPResponseStatus.ok : .serviceUnavailable, Array(health.json.utf8))
            }
            self.respondLive(head, health, contentType: "application/json", context)
        case "/metrics" where !self.service.metricsAllowed(head):
            self.respond(
                head,
                .unauthorized,
                text: "/metrics needs Authorization: Bearer <metrics-token>.\n",
                ["WWW-Authenticate": "Bearer"],
                context
            )
        case "/metrics":
            let metrics = self.service.sources.metrics(context.eventLoop).map { (HTTPResponseStatus.ok, $0) }
            self.respondLive(head, metrics, contentType: "text/plain; version=0.0.4; charset=utf-8", context)
        default:
            guard let asset = self.service.assets.asset(for: path) else {
                self.respond(head, .notFound, text: "Not found.\n", [:], context)
                return
            }
            var headers = HTTPHeaders()
            headers.add(name: "ETag", value: asset.etag)
            // Revalidate every time: the files change with the server, and a 304 costs almost nothing.
            headers.add(name: "Cache-Control", value: "no-cache")
            if head.headers["If-None-Match"].contains(where: { $0 == asset.etag || $0 == "*" }) {
                self.respond(head, .notModified, body: nil, headers, context)
                return
            }
            headers.add(name: "Content-Type", value: asset.contentType)
            self.respond(head, .ok, body: asset.body, headers, context)
        }
    }

    /// Answers with figures gathered from the loops (never cached).
    private func respondLive(
        _ head: HTTPRequestHead,
        _ answer: EventLoopFuture<(HTTPResponseStatus, [UInt8])>,
        contentType: String,
        _ context: ChannelHandlerContext
    ) {
        answer.hop(to: context.eventLoop).assumeIsolated().whenSuccess { status, body in
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Cache-Control", value: "no-store")
            self.respond(head, status, body: body, headers, context)
        }
    }

    private func respond(
        _ head: HTTPRequestHead,
        _ status: HTTPResponseStatus,
        text: String,
        _ headers: HTTPHeaders,
        _ context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        self.respond(head, status, body: Array(text.utf8), headers, context)
    }

    private func respond(
        _ head: HTTPRequestHead,
        _ status: HTTPResponseStatus,
        body: [UInt8]?,
        _ headers: HTTPHeaders,
        _ context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        var response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        response.headers.replaceOrAdd(name: "Server", value: "Parley")
        context.write(self.wrapOutboundOut(.head(response)), promise: nil)
        if let body, head.method != .HEAD, status != .notModified {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
