import Histogram
import NIOCore

/// One benchmark client connection. It registers, joins, answers PING, and for every benchmark PRIVMSG it
/// receives (`:b SENDER SEQ NANOS …`) records latency and checks the sequence. A client may also be a sender
/// (closed loop with a window, or a fixed rate). Bytes are scanned in place: the tool must cost far less than the
/// server it measures.
final class BenchHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct SenderRole {
        var index: Int
        var channels: [String]
        var nextChannel = 0
        var sequence: UInt64 = 0
        var inFlight = 0
        var window: Int?
        /// Messages per second for a fixed-rate sender.
        var rate: Double?
        var startNanos: UInt64 = 0
        var running = false
        var padding: String
    }

    let nick: String
    let password: String?
    let stats: LoopStats
    let registered: EventLoopPromise<Void>
    private var joined: EventLoopPromise<Void>?
    private var joinsPending = 0
    private var pending = ByteBuffer()
    /// The next sequence number expected from each sender.
    private var expected: [UInt64]
    /// Called for every benchmark message received (the observer credits senders with it).
    var onPayload: ((Int, UInt64) -> Void)?
    var sender: SenderRole?
    /// Messages this client sent, all time.
    private(set) var sent = 0
    private var context: ChannelHandlerContext?
    private var closing = false
    private var rateTask: RepeatedTask?

    init(nick: String, password: String?, senders: Int, stats: LoopStats, registered: EventLoopPromise<Void>) {
        self.nick = nick
        self.password = password
        self.stats = stats
        self.registered = registered
        self.expected = Array(repeating: 0, count: senders)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.pending = context.channel.allocator.buffer(capacity: 4096)
    }

    func channelActive(context: ChannelHandlerContext) {
        var line = ""
        if let password { line += "PASS \(password)\r\n" }
        line += "NICK \(self.nick)\r\nUSER \(self.nick) 0 * :parley-bench\r\n"
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: line)), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.rateTask?.cancel()
        if !self.closing { self.stats.disconnects += 1 }
        self.registered.fail(BenchError("\(self.nick): connection closed before registration"))
        self.joined?.fail(BenchError("\(self.nick): connection closed before joining"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Marks the coming close as intended (not a disconnect).
    func closeQuietly() {
        self.closing = true
        self.rateTask?.cancel()
        self.context?.close(promise: nil)
    }

    /// Joins `channels`; the promise completes at the last end of NAMES.
    func join(_ channels: [String], promise: EventLoopPromise<Void>) {
        guard let context, !channels.isEmpty else {
            promise.succeed()
            return
        }
        self.joined = promise
        self.joinsPending = channels.count
        let line = "JOIN \(channels.joined(separator: ","))\r\n"
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(string: line)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        self.pending.writeBuffer(&incoming)
        var replies: [String] = []
        let consumed = self.pending.withUnsafeReadableBytes { bytes -> Int in
            var start = 0
            var index = 0
            let count = bytes.count
            while index < count {
                if bytes[index] == 10 {
                    var end = index
                    if end > start && bytes[end - 1] == 13 { end -= 1 }
                    if let reply = self.handleLine(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) {
                        replies.append(reply)
                    }
                    start = index + 1
                }
                index += 1
            }
            return start
        }
        self.pending.moveReaderIndex(forwardBy: consumed)
        if self.pending.readerIndex > 65_536 { self.pending.discardReadBytes() }
        if !replies.isEmpty {
            context.writeAndFlush(
                self.wrapOutboundOut(context.channel.allocator.buffer(string: replies.joined())),
                promise: nil
            )
        }
    }

    /// Handles one line. - Returns: a reply to send (PONG), if any.
    private func handleLine(_ line: UnsafeRawBufferPointer) -> String? {
        var index = 0
        let count = line.count
        if count > 0 && line[0] == UInt8(ascii: ":") {
            while index < count && line[index] != 32 { index += 1 }
            index += 1
        }
        let commandStart = index
        while index < count && line[index] != 32 { index += 1 }
        let commandLength = index - commandStart
        guard commandLength > 0 else { return nil }
        let c0 = line[commandStart]
        if commandLength == 7 && c0 == UInt8(ascii: "P") && line[commandStart + 1] == UInt8(ascii: "R") {
            self.receivePayload(line, from: index)
            return nil
        }
        if commandLength == 4 && c0 == UInt8(ascii: "P") && line[commandStart + 1] == UInt8(ascii: "I") {
            let token = String(decoding: UnsafeRawBufferPointer(rebasing: line[min(index, count)...]), as: UTF8.self)
            return "PONG\(token)\r\n"
        }
        if commandLength == 3 {
            let code = (Int(c0) - 48) * 100 + (Int(line[commandStart + 1]) - 48) * 10 + Int(line[commandStart + 2]) - 48
            switch code {
            case 1:
                self.registered.succeed()
            case 366:
                self.joinsPending -= 1
                if self.joinsPending == 0 { self.joined?.succeed() }
            case 432, 433, 436, 464, 465:
                self.registered.fail(BenchError("\(self.nick): registration refused (\(code))"))
            case 403, 405, 471, 473, 474, 475:
                self.joined?.fail(BenchError("\(self.nick): JOIN refused (\(code))"))
            default:
                break
            }
        } else if commandLength == 5 && c0 == UInt8(ascii: "E") {  // ERROR
            self.registered.fail(BenchError("\(self.nick): \(String(decoding: line, as: UTF8.self))"))
        }
        return nil
    }

    /// `PRIVMSG #chan :b SENDER SEQ NANOS padding`
    private func receivePayload(_ line: UnsafeRawBufferPointer, from start: Int) {
        let now = monotonicNanos()
        let count = line.count
        var index = start
        // Find " :b ".
        while index + 3 < count {
            if line[index] == 32 && line[index + 1] == UInt8(ascii: ":") && line[index + 2] == UInt8(ascii: "b")
                && line[index + 3] == 32
            {
                break
            }
            index += 1
        }
        guard index + 3 < count else { return }
        index += 4
        func number() -> UInt64 {
            var value: UInt64 = 0
            while index < count, line[index] >= 48, line[index] <= 57 {
                value = value &* 10 &+ UInt64(line[index] - 48)
                index += 1
            }
            index += 1
            return value
        }
        let sender = Int(number())
        let sequence = number()
        let sentAt = number()
        self.stats.totalDeliveries += 1
        if sender < self.expected.count {
            let expected = self.expected[sender]
            if sequence >= expected {
                self.expected[sender] = sequence + 1
            } else {
                self.stats.duplicates += 1
            }
        }
        if self.stats.recording {
            self.stats.recordedDeliveries += 1
            _ = self.stats.latency.record(now > sentAt ? (now - sentAt) / 1000 : 0)
        }
        self.onPayload?(sender, sequence)
    }

    // MARK: Sending

    /// Starts sending as configured in ``sender``.
    func startSending() {
        guard var role = self.sender, let context else { return }
        role.running = true
        role.startNanos = monotonicNanos()
        self.sender = role
        if let rate = role.rate {
            // Each tick sends what is due; latency counts from when each message was due (no coordinated omission).
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.rateTask = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in
                bound.value.sendDue(rate: rate)
            }
        } else {
            self.fill()
        }
    }

    func stopSending() {
        self.sender?.running = false
        self.rateTask?.cancel()
        self.rateTask = nil
    }

    /// One of our messages reached the observer: a window slot is free.
    func credit() {
        guard self.sender != nil else { return }
        self.sender!.inFlight -= 1
        self.fill()
    }

    private func fill() {
        guard let context, var role = self.sender, role.running, let window = role.window else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        while role.inFlight < window {
            self.write(&role, into: &buffer, sentAt: monotonicNanos())
            role.inFlight += 1
        }
        self.sender = role
        if buffer.readableBytes > 0 { context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil) }
    }

    private func sendDue(rate: Double) {
        guard let context, var role = self.sender, role.running else { return }
        let now = monotonicNanos()
        // Message k is due at k / rate (the first at the start), and stamped with that time: counting only the
        // whole intervals elapsed sent each one an interval late while stamping it on time, which added 1 / rate
        // to every latency (1 ms at 1,000 messages/s; a whole second at 1/s).
        let due = UInt64(Double(now - role.startNanos) / 1e9 * rate) + 1
        guard due > role.sequence else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256 * Int(min(due - role.sequence, 64)))
        while role.sequence < due {
            let dueAt = role.startNanos + UInt64(Double(role.sequence) / rate * 1e9)
            self.write(&role, into: &buffer, sentAt: dueAt)
        }
        self.sender = role
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    private func write(_ role: inout SenderRole, into buffer: inout ByteBuffer, sentAt: UInt64) {
        let channel = role.channels[role.nextChannel]
        role.nextChannel = (role.nextChannel + 1) % role.channels.count
        buffer.writeString("PRIVMSG \(channel) :b \(role.index) \(role.sequence) \(sentAt) \(role.padding)\r\n")
        role.sequence += 1
        self.sent += 1
    }
}

@available(*, unavailable)
extension BenchHandler: Sendable {}

/// A benchmark failure, in words.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
