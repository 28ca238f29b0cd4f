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

    private enum State {
        /// Inside TLS until the handshake is done; the deadline closes a handshake that never finishes.
        case handshaking(deadline: Scheduled<Void>?)
        /// The bytes seen so far are not enough to choose; the timer takes a silent connection for IRC.
        case waiting(buffered: ByteBuffer?, timer: Scheduled<Void>?)
        /// The pipeline is set up behind; this handler is on its way out.
        case decided
    }

    private var state: State

    init(setup: ConnectionSetup, secure: Bool, patience: TimeAmount) {
        self.setup = setup
        self.secure = secure
        self.patience = patience
        self.state = secure ? .handshaking(deadline: nil) : .waiting(buffered: nil, timer: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if case .handshaking = self.state {
            // A handshake that never finishes must not hold the connection forever: it gets as long as registration.
            let limit = TimeAmount.seconds(self.setup.loopContext.configuration.registrationTimeout)
            let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: limit) {
                if case .handshaking = self.state { context.close(promise: nil) }
            }
            self.state = .handshaking(deadline: deadline)
        } else if context.channel.isActive {
            self.startTimer(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, case .handshaking(let deadline) = self.state {
            deadline?.cancel()
            self.state = .waiting(buffered: nil, timer: nil)
            self.startTimer(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .handshaking(let timer), .waiting(_, let timer): timer?.cancel()
        case .decided: break
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        switch self.state {
        case .handshaking(let deadline):
            // Bytes are only read after the handshake; should any come first, they are what decides.
            deadline?.cancel()
            self.state = .waiting(buffered: incoming, timer: nil)
        case .waiting(var buffered, let timer):
            if buffered == nil {
                buffered = incoming
            } else {
                buffered!.writeBuffer(&incoming)
            }
            self.state = .waiting(buffered: buffered, timer: timer)
        case .decided:
            // Already handed on while this handler waits to be removed.
            context.fireChannelRead(data)
            return
        }
        self.decide(context: context, timedOut: false)
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard case .waiting(let buffered, nil) = self.state else { return }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.patience) {
            self.decide(context: context, timedOut: true)
        }
        self.state = .waiting(buffered: buffered, timer: timer)
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
        guard case .waiting(let buffered, let timer) = self.state, context.channel.isActive else { return }
        guard
            let route = Self.route(
                for: buffered?.readableBytesView ?? ByteBuffer().readableBytesView,
                tls: self.setup.tls != nil && !self.secure,
                http: self.setup.web != nil,
                timedOut: timedOut
            )
        else { return }
        timer?.cancel()
        self.state = .decided
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
        if let buffered { context.fireChannelRead(self.wrapInboundOut(buffered)) }
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
