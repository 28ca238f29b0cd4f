import NIOCore
import NIOHTTP1

/// Stands in front of the WebSocket frame decoder while NIO's upgrade handler leaves the pipeline.
///
/// On leaving, `HTTPServerUpgradeHandler` replays what it buffered during the upgrade. Bytes are frames and pass on;
/// but an HTTP request a client pipelined behind its upgrade request arrives here already parsed, and the frame
/// decoder traps on anything but bytes: one such connection brought the whole server down (FuzzWire found it). No
/// WebSocket client sends before the 101, so such a connection is closed. Once the replay is over this handler leaves.
final class UpgradeReplayGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var upgraded = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard Self.isBytes(data) else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .upgradeComplete? = event as? HTTPServerUpgradeEvents { self.upgraded = true }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // The replay ends with a read-complete; any later read comes straight from the socket.
        if self.upgraded { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }

    /// Whether the message is a `ByteBuffer`. NIOAny offers no public test of its content's type, and unwrapping
    /// the wrong type traps; its storage case says it (`ioData` for bytes), which reflection can read.
    static func isBytes(_ data: NIOAny) -> Bool {
        guard let storage = Mirror(reflecting: data).children.first?.value else { return false }
        guard Mirror(reflecting: storage).children.first?.label == "ioData" else { return false }
        return true
    }
}
