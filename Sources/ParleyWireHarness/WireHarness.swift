import NIOCore
import NIOEmbedded
import ParleyServer

/// Feeds raw bytes through a connection's whole pipeline (``ParleyServer``'s `WirePipeline`) on an embedded event
/// loop, with no sockets. For the libFuzzer target `FuzzWire` and its regression tests; a target of its own so that
/// the server does not link NIOEmbedded.
public final class WireHarness {
    private let loop = EmbeddedEventLoop()
    private let pipeline: WirePipeline

    public init() {
        self.pipeline = WirePipeline(eventLoop: self.loop)
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
            try self.pipeline.install(on: channel, patience: .seconds(Int64(1)))
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
        self.pipeline.leftovers
    }
}
