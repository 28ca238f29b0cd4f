import NIOCore
import NIOWebSocket

/// IRC over WebSocket (IRCv3): each text or binary message is one IRC line without CR LF, each line the server sends
/// is one message. Sits between NIO's frame codec and a ``SessionHandler``, so a WebSocket client is an ordinary
/// session: same registration, caps, flood control and SendQ.
final class WebSocketIRCAdapter: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    /// `binary.ircv3.net`: lines go out as binary messages, bytes as they are; otherwise text messages, which must
    /// be UTF-8 (invalid bytes become U+FFFD, as the spec asks).
    private let binary: Bool
    /// A message arriving in fragments, gathered until its last frame.
    private var fragments: ByteBuffer?
    private var closeSent = false

    init(binary: Bool) {
        self.binary = binary
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        // RFC 6455 §5.1: a client masks every frame. §5.2: the RSV bits need a negotiated extension (none is), and
        // opcodes 3–7 and 11–15 are reserved. Each is a protocol error: close with 1002.
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            self.close(context: context, code: .protocolError)
            return
        }
        switch frame.opcode {
        case .text, .binary, .continuation:
            var payload = frame.unmaskedData
            if frame.opcode == .continuation {
                guard self.fragments != nil else {
                    self.close(context: context, code: .protocolError)
                    return
                }
                self.fragments!.writeBuffer(&payload)
            } else {
                self.fragments = payload
            }
            if (self.fragments?.readableBytes ?? 0) > WebService.maximumFrameSize {
                self.close(context: context, code: .messageTooLarge)
                return
            }
            guard frame.fin, var line = self.fragments else { return }
            self.fragments = nil
            // A client may end its line with CR LF although the spec says not to; the session adds its own LF.
            while line.readableBytes > 0, let last = line.getInteger(at: line.writerIndex - 1, as: UInt8.self),
                last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r")
            {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            line.writeInteger(UInt8(ascii: "\n"))
            context.fireChannelRead(self.wrapInboundOut(line))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            self.close(context: context, code: code)
        case .pong:
            break
        default:
            self.close(context: context, code: .protocolError)
        }
    }

    /// Splits the session's bytes (one or more CR LF lines) into one WebSocket message per line.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = self.unwrapOutboundIn(data)
        var lines: [ByteBuffer] = []
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer.readSlice(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            lines.append(line)
        }
        if buffer.readableBytes > 0 { lines.append(buffer) }
        guard !lines.isEmpty, !self.closeSent else {
            promise?.succeed()
            return
        }
        for (index, line) in lines.enumerated() {
            let frame: WebSocketFrame
            if self.binary {
                frame = WebSocketFrame(fin: true, opcode: .binary, data: line)
            } else {
                frame = WebSocketFrame(
                    fin: true,
                    opcode: .text,
                    data: Self.validUTF8(line, allocator: context.channel.allocator)
                )
            }
            context.write(self.wrapOutboundOut(frame), promise: index == lines.count - 1 ? promise : nil)
        }
    }

    /// The session closes (QUIT, ERROR, timeouts): say so with a close frame first.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all && !self.closeSent {
            self.closeSent = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)),
                promise: nil
            )
        }
        context.close(mode: mode, promise: promise)
    }

    private func close(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        if !self.closeSent {
            self.closeSent = true
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: code)
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)),
                promise: nil
            )
        }
        context.close(promise: nil)
    }

    private static func validUTF8(_ line: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        if String(validatingUTF8Bytes: line.readableBytesView) != nil { return line }
        return allocator.buffer(string: String(decoding: line.readableBytesView, as: UTF8.self))
    }
}

@available(*, unavailable)
extension WebSocketIRCAdapter: Sendable {}

extension String {
    fileprivate init?(validatingUTF8Bytes bytes: ByteBufferView) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        self = text
    }
}
