import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import NIOSSL

/// A TCP (optionally TLS) connection that hands back raw bytes: for HTTP and WebSocket tests, where the line-based
/// test client does not fit.
public final class RawConnection: Sendable {
    private let channel: any Channel
    private let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

    private init(channel: any Channel, state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
        self.channel = channel
        self.state = state
    }

    /// Connects to 127.0.0.1 (or `host`); with `tls`, over TLS, checking the name `serverHostname` if given.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        tls: NIOSSLContext? = nil,
        serverHostname: String? = nil
    ) async throws -> RawConnection {
        let state = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(state: state))
                }
            }
            .connect(host: host, port: port)
            .get()
        return RawConnection(channel: channel, state: state)
    }

    /// A client TLS context that trusts exactly the certificate in `file`.
    public static func trusting(certificateFile file: String) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(file)
        return try NIOSSLContext(configuration: configuration)
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    public func send(_ text: String) async throws {
        try await self.send(Array(text.utf8))
    }

    /// Waits until `take` finds something in the bytes received so far; it returns how many bytes it used (they
    /// are removed) and its result.
    public func read<T>(
        timeout: Duration = .seconds(10),
        _ take: @Sendable ([UInt8]) -> (count: Int, value: T)?
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: T? = self.state.withLockedValue { state in
                guard let (count, value) = take(state.bytes) else { return nil }
                state.bytes.removeFirst(count)
                return value
            }
            if let found { return found }
            if self.isClosed && self.state.withLockedValue({ take($0.bytes) == nil }) {
                throw TimeoutError(waitingFor: "data; the connection closed with \(self.pendingDescription)")
            }
            if ContinuousClock.now > deadline {
                throw TimeoutError(waitingFor: "data; received so far: \(self.pendingDescription)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Everything until the server closes the connection.
    public func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while !self.isClosed {
            if ContinuousClock.now > deadline { throw TimeoutError(waitingFor: "the server to close") }
            try await Task.sleep(for: .milliseconds(5))
        }
        return self.state.withLockedValue { state in
            defer { state.bytes = [] }
            return state.bytes
        }
    }

    public var isClosed: Bool { self.state.withLockedValue { $0.closed } }

    private var pendingDescription: String {
        let bytes = self.state.withLockedValue { $0.bytes }
        return "\(bytes.count) bytes: \(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription)"
    }

    public func close() async {
        try? await self.channel.close()
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

        init(state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = self.unwrapInboundIn(data)
            self.state.withLockedValue { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.state.withLockedValue { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
