public import NIOCore
import NIOPosix

/// A client that registers and then never reads: its socket buffers fill and the server's SendQ grows.
public struct SlowClient {
    public let channel: any Channel

    public static func connect(port: Int, nick: String) async throws -> SlowClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: port)
            .get()
        let client = SlowClient(channel: channel)
        try await client.send("NICK \(nick)\r\nUSER \(nick) 0 * :\(nick)\r\n")
        return client
    }

    public func send(_ text: String) async throws {
        try await self.channel.writeAndFlush(self.channel.allocator.buffer(string: text))
    }

    public func close() async {
        try? await self.channel.close()
    }
}
