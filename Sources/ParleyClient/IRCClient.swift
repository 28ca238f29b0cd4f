public import NIOCore
import NIOPosix
import NIOSSL
public import ParleyIRC

/// Whether and how a client connection uses TLS.
public enum ClientTLS: Sendable, Equatable {
    /// Plain TCP.
    case off
    /// TLS with the server's certificate checked against the system's trusted roots and the host name.
    case verified
    /// TLS without checking the certificate: only when a person asked for it explicitly.
    case insecure
    /// TLS with the certificate checked against the roots in this PEM file (not against the host name), e.g. a
    /// server's self-signed certificate.
    case trusting(certificateFile: String)
}

/// Why a client operation failed.
public struct ParleyClientError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in words for a person.
    public var message: String
    /// The server's reply that caused it, if any.
    public var reply: IRCMessage?

    public init(_ message: String, reply: IRCMessage? = nil) {
        self.message = message
        self.reply = reply
    }

    public var description: String { self.message }
}

/// A small IRC client on SwiftNIO: connect, register, send, and read parsed messages as an `AsyncSequence`.
/// It answers the server's `PING` by itself.
public final class IRCClient: Sendable {
    /// Every message from the server, parsed, in order; finishes when the connection closes.
    public let messages: AsyncStream<IRCMessage>
    private let channel: any Channel

    private init(channel: any Channel, messages: AsyncStream<IRCMessage>) {
        self.channel = channel
        self.messages = messages
    }

    /// Opens a TCP connection.
    /// - Parameters:
    ///   - host: Server name or address.
    ///   - port: Server port.
    ///   - group: The event loops to use.
    ///   - answerPings: Whether to reply to the server's `PING` automatically.
    ///   - tls: Whether to use TLS.
    ///   - clientCertificate: PEM files (certificate, private key) to present over TLS, for servers that log in by
    ///     certificate fingerprint (SASL EXTERNAL).
    /// - Throws: When the connection cannot be made.
    public static func connect(
        host: String,
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        answerPings: Bool = true,
        tls: ClientTLS = .off,
        clientCertificate: (certificate: String, key: String)? = nil
    ) async throws -> IRCClient {
        let (stream, continuation) = AsyncStream.makeStream(of: IRCMessage.self)
        let sslContext: NIOSSLContext?
        switch tls {
        case .off:
            sslContext = nil
        case .verified, .insecure, .trusting:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if tls == .insecure { configuration.certificateVerification = .none }
            if case .trusting(let file) = tls {
                // The user named the exact certificate to trust (typically a self-signed one reached by address),
                // so the name in it need not match how the server was reached.
                configuration.trustRoots = .file(file)
                configuration.certificateVerification = .noHostnameVerification
            }
            if let clientCertificate {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate.certificate)
                    .map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientCertificate.key, format: .pem))
            }
            sslContext = try NIOSSLContext(configuration: configuration)
        }
        // SNI carries names only; for an address the certificate is checked against the address itself.
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : host)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ClientLineHandler(continuation: continuation, answerPings: answerPings)
                    )
                }
            }
            .connect(host: host, port: port)
            .get()
        return IRCClient(channel: channel, messages: stream)
    }

    /// Sends one message.
    public func send(_ message: IRCMessage) async throws {
        var buffer = self.channel.allocator.buffer(capacity: 128)
        message.write(to: &buffer)
        try await self.channel.writeAndFlush(buffer)
    }

    /// Sends a raw line; CR LF is added.
    public func send(raw line: String) async throws {
        var buffer = self.channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeString("\r\n")
        try await self.channel.writeAndFlush(buffer)
    }

    /// Sends raw bytes exactly as given.
    public func send(bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(self.channel.allocator.buffer(bytes: bytes))
    }

    /// Sends `NICK` and `USER` (and `PASS`, and `CAP` when `capabilities` is not empty).
    public func startRegistration(
        nick: String,
        user: String? = nil,
        realname: String? = nil,
        password: String? = nil,
        capabilities: [String] = []
    ) async throws {
        if !capabilities.isEmpty { try await self.send(IRCMessage(.cap, "LS", "302")) }
        if let password { try await self.send(IRCMessage(.pass, password)) }
        try await self.send(IRCMessage(.nick, nick))
        try await self.send(IRCMessage(.user, user ?? nick, "0", "*", realname ?? nick))
        if !capabilities.isEmpty {
            try await self.send(IRCMessage(.cap, "REQ", capabilities.joined(separator: " ")))
            try await self.send(IRCMessage(.cap, "END"))
        }
    }

    /// Closes the connection.
    public func close() async {
        try? await self.channel.close()
    }
}

/// Cuts lines, parses them, answers PING, and feeds the stream.
private final class ClientLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let continuation: AsyncStream<IRCMessage>.Continuation
    private let answerPings: Bool
    private var pending = ByteBuffer()

    init(continuation: AsyncStream<IRCMessage>.Continuation, answerPings: Bool) {
        self.continuation = continuation
        self.answerPings = answerPings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        self.pending.writeBuffer(&incoming)
        while let newline = self.pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            guard var line = self.pending.readSlice(length: newline - self.pending.readerIndex) else { break }
            self.pending.moveReaderIndex(forwardBy: 1)
            if line.readableBytes > 0 && line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == 13 {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            guard let message = try? IRCParser.parse(line) else { continue }
            if message.command == .ping && self.answerPings {
                var reply = context.channel.allocator.buffer(capacity: 64)
                IRCMessage(command: .pong, parameters: message.parameters).write(to: &reply)
                context.writeAndFlush(self.wrapOutboundOut(reply), promise: nil)
            }
            self.continuation.yield(message)
        }
        self.pending.discardReadBytes()
    }

    /// TLS failures in words; BoringSSL's own text names a source file, not the problem.
    static func explain(_ error: any Error) -> String {
        guard let error = error as? NIOSSLError else { return "\(error)" }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the server's certificate is not trusted (--tls-insecure skips the check; use it only for a"
                + " server you trust)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("EOF during handshake") {
            return "TLS handshake failed: does this port speak TLS?"
        }
        return "TLS: \(text)"
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The reader learns why the connection ended as the server would tell it: an ERROR message.
        self.continuation.yield(IRCMessage(.error, Self.explain(error)))
        self.continuation.finish()
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ClientLineHandler: Sendable {}
