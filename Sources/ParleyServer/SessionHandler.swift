import Crypto
import Foundation
import Logging
import NIOCore
import NIOSSL
import ParleyCore
import ParleyIRC

/// The per-connection handler: cuts lines, applies flood control, parses, and hands messages to the ``CoreHost``.
///
/// Line framing lives here rather than in a separate decoder: one handler per channel keeps idle memory low.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// A line may carry up to 8191 bytes of tags on top of the body (IRCv3 message-tags)...
    static let maximumTagBytes = 8191
    /// ...of which a client may send 4094 bytes of tag data (plus the `@` and the space).
    static let maximumClientTagBytes = 4096
    /// How much unprocessed input a throttled client may leave buffered before it is disconnected.
    static let maximumPendingBytes = 64 * 1024

    // Shared per event loop rather than held here: one pointer per connection instead of a configuration copy.
    private let loopContext: LoopContext
    private var host: CoreHost { self.loopContext.host }
    private var configuration: ServerConfiguration { self.loopContext.configuration }
    private var link: SessionLink?
    private var address = ""
    private var framer = LineFramer()
    /// The connection ended: held lines run without waiting for flood control.
    private var closing = false
    private var context: ChannelHandlerContext?
    private var flood: FloodBucket
    private var liveness: Liveness
    private let transport: Transport
    private var activated = false
    private var sendQCheckPending = false
    static let sendQGrace = TimeAmount.seconds(Int64(1))

    init(loopContext: LoopContext, transport: Transport = .irc) {
        self.loopContext = loopContext
        self.transport = transport
        let now = NIODeadline.now()
        self.flood = FloodBucket(burst: loopContext.configuration.floodBurst, now: now)
        self.liveness = Liveness(connectedAt: now)
    }

    /// Added once the first bytes showed what the connection speaks: the channel is already active by then.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.activate(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.activate(context: context)
        context.fireChannelActive()
    }

    private func activate(context: ChannelHandlerContext) {
        guard !self.activated else { return }
        self.activated = true
        self.context = context
        // The connection's slot of the limits was taken by the ConnectionSlotHandler in front of everything.
        self.address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let link = self.host.open(
            channel: context.channel,
            context: self.loopContext,
            address: self.address,
            secure: self.transport.isSecure,
            certificate: self.transport.isSecure ? Self.clientCertificateFingerprint(context) : nil
        )
        self.link = link
        self.loopContext.handlers[link.id] = self
        self.loopContext.counters.connections[self.transport, default: 0] += 1
        self.host.logger.info(
            "connection opened",
            metadata: [
                "parley.session.id": "\(link.id)", "parley.address": "\(self.address)",
                "parley.transport": "\(self.transport.rawValue)",
            ]
        )
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let link = self.link, !link.isClosed, self.framer.pendingBytes > 0 {
            // Lines flood control was holding back were sent before the client left: they are carried out (a QUIT
            // among them in its place), never dropped. They are what one read brought in, so the work is bounded.
            self.closing = true
            self.processLines(context: context, link: link)
        }
        if let link = self.link {
            self.loopContext.counters.connections[self.transport, default: 0] -= 1
            link.isClosed = true
            self.loopContext.handlers[link.id] = nil
            self.host.logger.info("connection closed", metadata: ["parley.session.id": "\(link.id.rawValue)"])
            self.host.disconnected(link.id, reason: "Connection closed")
            self.link = nil
        }
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        guard let link = self.link, !link.isClosed else { return }
        self.loopContext.counters.bytesIn &+= incoming.readableBytes
        self.liveness.heard(at: .now())
        self.framer.append(&incoming)
        if self.flood.isThrottled {
            if self.framer.pendingBytes > Self.maximumPendingBytes {
                self.host.close(link.id, reason: "Excess Flood")
            }
            return
        }
        self.processLines(context: context, link: link)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.host.logger.debug("connection error", metadata: ["parley.error": "\(error)"])
        context.close(promise: nil)
    }

    /// Over SendQ: a client that is reading (a big WHO or NAMES reply, a burst) gets `sendQGrace` to drain back
    /// under it; one that is not is cut off then, or at once if its queue reaches `LoopContext.hardSendQFactor`
    /// times SendQ (checked as writes are flushed).
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, let link = self.link, !link.isClosed, !self.sendQCheckPending {
            self.sendQCheckPending = true
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.sendQGrace) {
                self.sendQCheckPending = false
                guard let context = self.context, let link = self.link, !link.isClosed,
                    !context.channel.isWritable
                else { return }
                self.loopContext.sendQExceeded(link)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func processLines(context: ChannelHandlerContext, link: SessionLink) {
        let maximumBody = self.configuration.lineLength - 2
        let limit = Self.maximumTagBytes + self.configuration.lineLength
        while !link.isClosed, let cut = self.framer.next(limit: limit) {
            guard case .line(let line) = cut else {
                self.host.inputTooLong(from: link.id)
                continue
            }
            // Flood control first: an over-long line costs a token like any other (it is answered with 417).
            if self.configuration.floodControl && !self.closing
                && !self.takeToken(context: context, link: link, cost: Self.isBatched(line) ? Self.batchedLineCost : 1)
            {
                // Put the line back: it runs when the client has tokens again. Nothing is dropped.
                self.framer.putBack(line)
                break
            }
            let (tagBytes, bodyBytes) = Self.lengths(of: line)
            if bodyBytes > maximumBody || tagBytes > Self.maximumClientTagBytes {
                self.host.inputTooLong(from: link.id)
                continue
            }
            if self.host.logger.logLevel <= .trace {
                self.host.logger.trace(
                    "received",
                    metadata: ["parley.session.id": "\(link.id.rawValue)", "irc.line": "\(String(buffer: line))"]
                )
            }
            self.loopContext.counters.linesReceived &+= 1
            do {
                let message = try IRCParser.parse(line)
                if self.host.handle(message, from: link.id, on: self.loopContext) { self.liveness.registered() }
            } catch {
                self.host.parseFailed(error, from: link.id)
            }
        }
    }

    /// SHA-256 of the TLS client certificate's DER bytes, lower-case hex, if the client presented one.
    private static func clientCertificateFingerprint(_ context: ChannelHandlerContext) -> String? {
        guard let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
            let der = try? certificate.toDERBytes()
        else { return nil }
        return SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
    }

    /// Bytes of the leading tag section (with its `@` and space) and of the rest of the line.
    private static func lengths(of line: ByteBuffer) -> (tags: Int, body: Int) {
        guard line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: "@") else {
            return (0, line.readableBytes)
        }
        guard let space = line.readableBytesView.firstIndex(of: UInt8(ascii: " ")) else {
            return (line.readableBytes, 0)
        }
        let tags = space - line.readerIndex + 1
        return (tags, line.readableBytes - tags)
    }

    /// What a line inside a client batch costs: a multiline message of 100 lines is about one burst, so a pasted
    /// snippet goes through at once, while lines that only claim a batch still pay for what they cost.
    static let batchedLineCost = 0.125

    /// Whether `line`'s tags include `batch=` (a line of a draft/multiline message).
    static func isBatched(_ line: ByteBuffer) -> Bool {
        guard line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: "@") else { return false }
        let view = line.readableBytesView
        let end = view.firstIndex(of: UInt8(ascii: " ")) ?? view.endIndex
        let key = Array("batch=".utf8)
        var index = view.startIndex + 1
        while index < end {
            if view[index..<min(index + key.count, end)].elementsEqual(key) { return true }
            guard let separator = view[index..<end].firstIndex(of: UInt8(ascii: ";")) else { return false }
            index = separator + 1
        }
        return false
    }

    /// When the bucket is empty, reading pauses until a token is due.
    private func takeToken(context: ChannelHandlerContext, link: SessionLink, cost: Double) -> Bool {
        let outcome = self.flood.take(
            now: .now(),
            burst: self.configuration.floodBurst,
            rate: self.configuration.floodRate,
            cost: cost
        )
        guard case .wait(let wait) = outcome else { return true }
        self.loopContext.counters.floodHits += 1
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
            self.flood.resume()
            guard let context = self.context, let link = self.link else { return }
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            self.processLines(context: context, link: link)
        }
        return false
    }

    /// Called by the loop's sweep: registration timeout, PING when idle, "Ping timeout" when no answer.
    func sweep(now: NIODeadline) {
        guard let link = self.link, !link.isClosed, let context = self.context else { return }
        let configuration = self.configuration
        let limits = Liveness.Limits(
            registration: .seconds(configuration.registrationTimeout),
            pingInterval: .seconds(configuration.pingInterval),
            pingTimeout: .seconds(configuration.pingTimeout)
        )
        var action = self.liveness.sweep(now: now, limits: limits)
        if action == .checkRegistration {
            // Registration can also complete without a line from the client (a cluster granted its nick later).
            guard self.host.isRegistered(link.id) else {
                self.host.close(link.id, reason: "Registration timeout")
                return
            }
            self.liveness.registered()
            action = self.liveness.sweep(now: now, limits: limits)
        }
        switch action {
        case .none, .checkRegistration:
            break
        case .sendPing:
            var buffer = context.channel.allocator.buffer(capacity: 64)
            IRCMessage(command: .ping, parameters: [self.host.serverName]).write(to: &buffer)
            self.loopContext.submit(.write(link, buffer))
        case .timeOut(let silence):
            self.host.close(link.id, reason: "Ping timeout: \(silence.nanoseconds / 1_000_000_000) seconds")
        }
    }
}

@available(*, unavailable)
extension SessionHandler: Sendable {}

extension TimeAmount {
    static func seconds(_ value: Double) -> TimeAmount {
        .nanoseconds(Int64(value * 1e9))
    }
}
