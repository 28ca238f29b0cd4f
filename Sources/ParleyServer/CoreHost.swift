import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ParleyCore
import ParleyIRC

/// Owns the one ``ServerState`` behind one lock and carries out its actions.
///
/// The critical section only mutates the state and resolves recipients; encoding and writes happen after unlocking.
final class CoreHost: Sendable {
    private struct State {
        var core: ServerState
        var links = LinkTable()
        var outbox = Outbox()
    }

    private enum Work {
        /// Recipients with their encoding capabilities as read under the lock (two arrays: no tuple per recipient).
        case send(IRCMessage, ContiguousArray<SessionLink>, ContiguousArray<IRCCapabilities>)
        case close(SessionLink, String)
        case verifyOperator(SessionLink, name: String, password: String, hash: String)
    }

    private let state: NIOLockedValueBox<State>
    let logger: Logger

    init(core: ServerState, logger: Logger) {
        self.state = NIOLockedValueBox(State(core: core))
        self.logger = logger
    }

    static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSince1970: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// Registers a new connection and returns the link its writes go through.
    func open(channel: any NIOCore.Channel, context: LoopContext, address: String) -> SessionLink {
        self.state.withLockedValue { state in
            let id = state.links.makeID()
            let link = SessionLink(id: id, channel: channel, context: context)
            state.links.insert(link)
            state.core.connect(id, host: address, address: address, now: Self.now())
            return link
        }
    }

    /// Handles one message from a connection on `current`; returns whether the session is registered afterwards.
    @discardableResult
    func handle(_ message: IRCMessage, from id: SessionID, on current: LoopContext? = nil) -> Bool {
        self.update(on: current) { state in
            state.core.handle(message, from: id, now: Self.now(), into: &state.outbox)
            if message.command == .cap, let link = state.links[id] {
                link.caps = state.core.sessions[id]?.caps ?? []
            }
            return state.core.sessions[id]?.isRegistered ?? false
        }
    }

    func parseFailed(_ error: IRCParseError, from id: SessionID) {
        self.perform { core, outbox in core.parseFailed(error, from: id, into: &outbox) }
    }

    func inputTooLong(from id: SessionID) {
        self.perform { core, outbox in core.inputTooLong(from: id, into: &outbox) }
    }

    /// The connection is gone; tell its peers.
    func disconnected(_ id: SessionID, reason: String) {
        self.update { state in
            state.core.disconnect(id, reason: reason, now: Self.now(), into: &state.outbox)
            state.links.remove(id)
        }
    }

    /// The server ends a session (timeouts, SendQ, shutdown): peers see `reason`, the client gets `ERROR`.
    func close(_ id: SessionID, reason: String) {
        self.logger.info(
            "closing connection",
            metadata: ["parley.session.id": "\(id.rawValue)", "parley.reason": "\(reason)"]
        )
        self.perform { core, outbox in
            core.disconnect(id, reason: reason, now: Self.now(), into: &outbox)
            outbox.actions.append(.close(id, reason: reason))
        }
    }

    /// Every session id, for shutdown.
    var sessionIDs: [SessionID] { self.state.withLockedValue { $0.links.ids } }

    var serverName: String { self.state.withLockedValue { $0.core.configuration.serverName } }

    func updateConfiguration(_ update: @Sendable (inout CoreConfiguration) -> Void) {
        self.state.withLockedValue { update(&$0.core.configuration) }
    }

    private func perform<Result>(_ body: (inout ServerState, inout Outbox) -> Result) -> Result {
        self.update { state in body(&state.core, &state.outbox) }
    }

    /// Runs `body` on the locked state, then carries out the outbox it filled, unlocked. `current` is the loop
    /// context of the calling connection, if the caller is on one: its recipients are written without a hop.
    private func update<Result>(on current: LoopContext? = nil, _ body: (inout State) -> Result) -> Result {
        let (result, work) = self.state.withLockedValue { state -> (Result, [Work]) in
            state.outbox.removeAll()
            let result = body(&state)
            var work: [Work] = []
            work.reserveCapacity(state.outbox.actions.count)
            for action in state.outbox.actions {
                switch action {
                case .send(let message, let id):
                    guard let link = state.links[id] else { continue }
                    work.append(.send(message, [link], [link.caps]))
                case .broadcast(let message, let ids):
                    var links = ContiguousArray<SessionLink>()
                    var caps = ContiguousArray<IRCCapabilities>()
                    links.reserveCapacity(ids.count)
                    caps.reserveCapacity(ids.count)
                    for id in ids {
                        guard let link = state.links[id] else { continue }
                        links.append(link)
                        caps.append(link.caps)
                    }
                    work.append(.send(message, links, caps))
                case .close(let id, let reason):
                    guard let link = state.links.remove(id) else { continue }
                    work.append(.close(link, reason))
                case .verifyOperator(let id, let name, let password, let hash):
                    guard let link = state.links[id] else { continue }
                    work.append(.verifyOperator(link, name: name, password: password, hash: hash))
                }
            }
            return (result, work)
        }
        var batches = Batches(current: current)
        for item in work { self.carryOut(item, into: &batches) }
        batches.submit()
        return result
    }

    /// Writes grouped by event loop, in order, so each loop gets one hop per handled message.
    private struct Batches {
        let current: LoopContext?
        var groups: [(LoopContext, [LoopContext.Item])] = []

        init(current: LoopContext?) {
            self.current = current
        }

        mutating func write(_ buffer: ByteBuffer, to link: SessionLink) {
            // Recipients on the current loop are written at once; only other loops need a queued batch.
            if link.context === self.current {
                link.context.write(buffer, to: link)
            } else {
                self.append(.write(link, buffer), for: link)
            }
        }

        mutating func append(_ item: LoopContext.Item, for link: SessionLink) {
            if self.current == nil && link.context.eventLoop.inEventLoop {
                link.context.perform(item)
                return
            }
            if let index = self.groups.firstIndex(where: { $0.0 === link.context }) {
                self.groups[index].1.append(item)
            } else {
                self.groups.append((link.context, [item]))
            }
        }

        func submit() {
            for (context, items) in self.groups { context.submit(contentsOf: items) }
        }
    }

    private func carryOut(_ work: Work, into batches: inout Batches) {
        switch work {
        case .send(let message, let links, let caps):
            // One encoding per capability variant, shared (copy-on-write) by every recipient of that variant. Most
            // recipients share the previous one's variant, so that is checked first.
            var lastVariant: IRCCapabilities?
            var lastBuffer = ByteBuffer()
            var encodings: [(IRCCapabilities, ByteBuffer)] = []
            for index in links.indices {
                let link = links[index]
                let variant = caps[index].intersection(ServerState.encodingCapabilities)
                if variant != lastVariant {
                    if let cached = encodings.first(where: { $0.0 == variant }) {
                        lastBuffer = cached.1
                    } else {
                        lastBuffer = link.channel.allocator.buffer(capacity: 256)
                        message.write(to: &lastBuffer) { ServerState.includeTag($0, for: variant) }
                        encodings.append((variant, lastBuffer))
                    }
                    lastVariant = variant
                }
                batches.write(lastBuffer, to: link)
            }
        case .close(let link, let reason):
            var buffer = link.channel.allocator.buffer(capacity: 64)
            IRCMessage(command: .error, parameters: ["Closing link (\(reason))"]).write(to: &buffer)
            batches.append(.close(link, buffer), for: link)
        case .verifyOperator(let link, let name, let password, let hash):
            let eventLoop = link.context.eventLoop
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                OperatorPassword.verify(password, against: hash)
            }.whenComplete { result in
                let success = (try? result.get()) ?? false
                if !success { self.logger.notice("failed OPER", metadata: ["parley.oper.name": "\(name)"]) }
                self.perform { core, outbox in
                    core.operatorVerified(link.id, name: name, success: success, now: Self.now(), into: &outbox)
                }
            }
        }
    }
}
