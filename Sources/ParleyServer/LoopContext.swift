import NIOConcurrencyHelpers
import NIOCore
import ParleyCore
import ParleyIRC

/// The per-connection end of a delivery: where to write and whether it still needs a flush this turn.
///
/// `isDirty` and `isClosed` are touched only on `context.eventLoop`, and `caps` only under the ``CoreHost`` lock;
/// that is what makes the unchecked Sendable safe.
final class SessionLink: @unchecked Sendable {
    let id: SessionID
    let channel: any NIOCore.Channel
    let context: LoopContext
    // These are touched for every recipient of every message, only on one loop and never across a call that could
    // touch them again, so the runtime exclusivity check (measured: 7% of fan-out time) is switched off for them.
    @exclusivity(unchecked) var isDirty = false
    @exclusivity(unchecked) var isClosed = false
    /// Bytes for this connection gathered during the current loop turn; written with one pipeline write at its end.
    @exclusivity(unchecked) var pending: ByteBuffer?
    /// Whether `pending` is a buffer of this link's own (it may instead share the first message's encoding).
    @exclusivity(unchecked) var ownsPending = false
    /// The session's negotiated capabilities, mirrored here so fan-out needs no second lookup per recipient;
    /// read and written only under the `CoreHost` lock.
    var caps: IRCCapabilities = []

    init(id: SessionID, channel: any NIOCore.Channel, context: LoopContext) {
        self.id = id
        self.channel = channel
        self.context = context
    }
}

/// One per event loop: batches writes so each recipient is flushed once per loop turn, and carries writes from
/// other loops over in one hop per batch instead of one per message.
///
/// Everything but `inbox` is touched only on `eventLoop` (the reason for the unchecked Sendable).
final class LoopContext: @unchecked Sendable {
    enum Item {
        case write(SessionLink, ByteBuffer)
        /// One message for many recipients on this loop: one item instead of one per recipient.
        case writeMany(ByteBuffer, ContiguousArray<SessionLink>)
        case close(SessionLink, ByteBuffer)
    }

    let eventLoop: any EventLoop
    let host: CoreHost
    let limiter: ConnectionLimiter
    let configuration: ServerConfiguration
    @exclusivity(unchecked) private var dirty: [SessionLink] = []
    @exclusivity(unchecked) private var flushScheduled = false
    private let inbox = NIOLockedValueBox<[Item]>([])
    /// Sessions living on this loop, for the timeout sweep.
    var handlers: [SessionID: SessionHandler] = [:]
    private var sweepTask: RepeatedTask?
    private var lagTask: RepeatedTask?
    private var lastLagSample = NIODeadline.now()
    /// What this loop counted for `/metrics`; only on `eventLoop`.
    @exclusivity(unchecked) var counters = LoopCounters()

    init(eventLoop: any EventLoop, host: CoreHost, limiter: ConnectionLimiter, configuration: ServerConfiguration) {
        self.eventLoop = eventLoop
        self.host = host
        self.limiter = limiter
        self.configuration = configuration
    }

    /// Queues `item` from any thread.
    func submit(_ item: Item) {
        self.submit(contentsOf: CollectionOfOne(item))
    }

    /// Queues `items` in order from any thread: one lock and at most one hop for the whole batch.
    func submit(contentsOf items: some Collection<Item>) {
        if self.eventLoop.inEventLoop {
            // What other threads queued earlier goes first.
            self.drainInbox()
            for item in items { self.perform(item) }
            return
        }
        let first = self.inbox.withLockedValue { inbox in
            let wasEmpty = inbox.isEmpty
            inbox.append(contentsOf: items)
            return wasEmpty
        }
        if first {
            self.eventLoop.execute { self.drainInbox() }
        }
    }

    /// Carries out what other threads queued; only on `eventLoop`.
    func drainInbox() {
        let items = self.inbox.withLockedValue { inbox in
            let items = inbox
            inbox.removeAll(keepingCapacity: true)
            return items
        }
        for item in items { self.perform(item) }
    }

    /// Gathers `buffer` for `link`, to be written at the end of this loop turn; only on `eventLoop`.
    func write(_ buffer: ByteBuffer, to link: SessionLink) {
        guard !link.isClosed else { return }
        self.counters.messagesDelivered &+= 1
        // Gathering bytes costs a copy; a pipeline write per message costs far more (measured: most of the
        // fan-out time went to retain/release on the write path).
        if link.pending == nil {
            link.pending = buffer
        } else if link.ownsPending {
            link.pending!.writeImmutableBuffer(buffer)
        } else {
            // The first message's bytes are shared with its other recipients: gather into a buffer of our own,
            // big enough for a few more, instead of a copy-on-write copy that then grows one message at a time.
            let first = link.pending!
            var gathered = link.channel.allocator.buffer(
                capacity: max(2048, first.readableBytes + buffer.readableBytes)
            )
            gathered.writeImmutableBuffer(first)
            gathered.writeImmutableBuffer(buffer)
            link.pending = gathered
            link.ownsPending = true
        }
        self.markDirty(link)
    }

    /// Carries out `item`; only on `eventLoop`.
    func perform(_ item: Item) {
        switch item {
        case .write(let link, let buffer):
            self.write(buffer, to: link)
        case .writeMany(let buffer, let links):
            for link in links { self.write(buffer, to: link) }
        case .close(let link, let buffer):
            guard !link.isClosed else { return }
            link.isClosed = true
            if let pending = link.pending {
                link.pending = nil
                link.ownsPending = false
                self.counters.bytesOut &+= pending.readableBytes
                link.channel.write(pending, promise: nil)
            }
            self.counters.bytesOut &+= buffer.readableBytes
            link.channel.write(buffer, promise: nil)
            link.channel.flush()
            link.channel.close(promise: nil)
        }
    }

    private func markDirty(_ link: SessionLink) {
        if !link.isDirty {
            link.isDirty = true
            self.dirty.append(link)
        }
        if !self.flushScheduled {
            self.flushScheduled = true
            // Runs after the reads of this loop turn, so each recipient gets one flush for all of them.
            self.eventLoop.execute { self.flushAll() }
        }
    }

    private func flushAll() {
        self.flushScheduled = false
        let links = self.dirty
        self.dirty.removeAll(keepingCapacity: true)
        for link in links {
            link.isDirty = false
            guard !link.isClosed, let pending = link.pending else { continue }
            link.pending = nil
            link.ownsPending = false
            self.counters.bytesOut &+= pending.readableBytes
            link.channel.writeAndFlush(pending, promise: nil)
            if !link.channel.isWritable { self.checkHardSendQ(link) }
        }
    }

    /// A queue may pass SendQ for a moment (see `SessionHandler.channelWritabilityChanged`), but never this many
    /// times over: memory per client stays bounded while it is given time to read.
    static let hardSendQFactor = 4

    private func checkHardSendQ(_ link: SessionLink) {
        guard let queued = try? link.channel.syncOptions?.getOption(.bufferedWritableBytes),
            queued > self.configuration.sendQ * Self.hardSendQFactor
        else { return }
        self.sendQExceeded(link)
    }

    /// Cuts off a client whose queue stayed over SendQ; only on `eventLoop`.
    func sendQExceeded(_ link: SessionLink) {
        guard !link.isClosed else { return }
        self.counters.sendQDisconnects += 1
        self.host.close(link.id, reason: "SendQ exceeded")
    }

    func startSweeping(every interval: TimeAmount) {
        self.eventLoop.execute {
            self.sweepTask = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let now = NIODeadline.now()
                for handler in Array(self.handlers.values) { handler.sweep(now: now) }
            }
        }
    }

    func stopSweeping() {
        self.eventLoop.execute {
            self.sweepTask?.cancel()
            self.sweepTask = nil
            self.lagTask?.cancel()
            self.lagTask = nil
        }
    }

    /// Once a second, records how much later than asked the loop got to run a task (its backlog).
    func startLagSampling(into metrics: ServerMetrics) {
        let interval = TimeAmount.seconds(Int64(1))
        self.eventLoop.execute {
            self.lastLagSample = .now()
            self.lagTask = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let now = NIODeadline.now()
                metrics.loopLagged(nanoseconds: (now - self.lastLagSample - interval).nanoseconds)
                self.lastLagSample = now
            }
        }
    }
}
