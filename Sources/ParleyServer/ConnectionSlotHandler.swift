import NIOCore
import ParleyIRC

/// The first handler of every accepted connection: it takes a slot of the connection limits (in all and per
/// address) before anything else, and gives it back when the connection closes. Whatever the connection turns out
/// to be counts, so plain HTTP sockets or TLS handshakes that never finish cannot use up the server's descriptors
/// while the IRC limit looks the other way.
final class ConnectionSlotHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let limiter: ConnectionLimiter
    /// The address holding a slot, or empty when none is held.
    private var address = ""
    private var activated = false

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.activate(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.activate(context: context)
        guard context.channel.isActive, !self.address.isEmpty else { return }
        context.fireChannelActive()
    }

    private func activate(context: ChannelHandlerContext) {
        guard !self.activated else { return }
        self.activated = true
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if let refusal = self.limiter.acquire(address) {
            // Said in IRC, the likeliest protocol; an HTTP or TLS client just sees the connection close.
            var buffer = context.channel.allocator.buffer(capacity: 64)
            IRCMessage(command: .error, parameters: ["Closing link (\(refusal))"]).write(to: &buffer)
            context.channel.writeAndFlush(buffer, promise: nil)
            context.channel.close(promise: nil)
            return
        }
        self.address = address
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.address.isEmpty {
            self.limiter.release(self.address)
            self.address = ""
        }
        context.fireChannelInactive()
    }
}
