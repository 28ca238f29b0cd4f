import NIOCore
import NIOSSL
import NIOTLS

/// What one connection needs to be set up, whichever protocol its first bytes show.
struct ConnectionSetup: Sendable {
    let loopContext: LoopContext
    /// TLS is offered when set (and required on a `/tls` listener).
    let tls: TLSProvider?
    /// HTTP (web client, WebSocket, `/healthz`, `/metrics`) is served when set.
    let web: WebService?
}

/// Looks at the first bytes of a connection and sets up the rest of its pipeline: a TLS ClientHello (0x16) → TLS
/// and the same sniffing inside it; an HTTP request line → HTTP; anything else → plain IRC.
///
/// Some IRC clients wait for the server to speak first, so a connection that sends nothing is taken for IRC after
/// `patience`. It decides on the first byte whenever it can: only a prefix of an HTTP method (`P` could be `POST`
/// or `PASS`) waits for more.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let setup: ConnectionSetup
    private let secure: Bool
    private let patience: TimeAmount
    private var buffered: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var decided = false
    /// Inside TLS: whether the handshake is done (the wait for the first bytes starts then).
    private var handshaken: Bool

    init(setup: ConnectionSetup, secure: Bool, patience: TimeAmount) {
        self.setup = setup
        self.secure = secure
        self.patience = patience
        self.handshaken = !secure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if self.secure {
            // A handshake that never finishes must not hold the connection forever: it gets as long as registration.
            let limit = TimeAmount.seconds(self.setup.loopContext.configuration.registrationTimeout)
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) {
                if !self.handshaken { context.close(promise: nil) }
            }
        } else if context.channel.isActive {
            self.startTimer(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, !self.handshaken {
            self.handshaken = true
            self.timer?.cancel()
            self.timer = nil
            self.startTimer(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelActive(context: ChannelHandlerContext) {
        if self.handshaken { self.startTimer(context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if self.buffered == nil {
            self.buffered = incoming
        } else {
            self.buffered!.writeBuffer(&incoming)
        }
        self.decide(context: context, timedOut: false)
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard self.timer == nil, !self.decided else { return }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.patience) {
            self.decide(context: context, timedOut: true)
        }
    }

    enum Route: Equatable {
        case tls, http, irc
    }

    /// The route for the bytes seen so far, or `nil` to wait for more.
    static func route(for bytes: ByteBufferView, tls: Bool, http: Bool, timedOut: Bool) -> Route? {
        guard let first = bytes.first else { return timedOut ? .irc : nil }
        if first == 0x16 && tls { return .tls }
        guard http else { return .irc }
        switch HTTPMethodPrefix.classify(bytes) {
        case .method: return .http
        case .prefix: return timedOut ? .irc : nil
        case .other: return .irc
        }
    }

    private func decide(context: ChannelHandlerContext, timedOut: Bool) {
        guard !self.decided, context.channel.isActive else { return }
        let bytes = self.buffered?.readableBytesView ?? ByteBuffer().readableBytesView
        guard
            let route = Self.route(
                for: bytes,
                tls: self.setup.tls != nil && !self.secure,
                http: self.setup.web != nil,
                timedOut: timedOut
            )
        else { return }
        self.decided = true
        self.timer?.cancel()
        self.timer = nil
        do {
            let pipeline = context.pipeline.syncOperations
            switch route {
            case .tls:
                try pipeline.addHandler(self.setup.tls!.makeHandler())
                try pipeline.addHandler(ProtocolSniffer(setup: self.setup, secure: true, patience: self.patience))
            case .http:
                try self.setup.web!.configure(context.channel, secure: self.secure, setup: self.setup)
            case .irc:
                try pipeline.addHandler(
                    SessionHandler(loopContext: self.setup.loopContext, transport: self.secure ? .ircTLS : .irc)
                )
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if let buffered = self.buffered {
            self.buffered = nil
            context.fireChannelRead(self.wrapInboundOut(buffered))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Whether bytes begin an HTTP request line.
enum HTTPMethodPrefix {
    case method, prefix, other

    private static let methods: [[UInt8]] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ]
    .map { Array(($0 + " ").utf8) }

    static func classify(_ bytes: ByteBufferView) -> HTTPMethodPrefix {
        var result = HTTPMethodPrefix.other
        for method in Self.methods {
            let count = min(method.count, bytes.count)
            guard bytes.prefix(count).elementsEqual(method.prefix(count)) else { continue }
            if count == method.count { return .method }
            result = .prefix
        }
        return result
    }
}
