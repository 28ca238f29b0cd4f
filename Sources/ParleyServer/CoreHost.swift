import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ParleyCore
import ParleyIRC
import ParleyStore

/// Owns the one ``ServerState`` behind one lock and carries out its actions.
///
/// The critical section only mutates the state and resolves recipients; encoding and writes happen after unlocking.
final class CoreHost: HistoryCommitListener {
    struct State {
        var core: ServerState
        var links = LinkTable()
        var outbox = Outbox()
        /// Output held back until what it follows is committed or answered (see ``DeliveryOrder``).
        var order = DeliveryOrder<Held>()
        /// Groups whose messages are with the writer, by group id.
        var commits: [UInt64: PendingCommit] = [:]
        /// In a cluster: channel events whose record failed (the database was away), to record once it answers.
        var unrecorded: [StoredMessage] = []
    }

    /// A group's messages handed to the history writer, not all committed yet.
    struct PendingCommit {
        var remaining: Int
        let sender: SessionLink?
        /// The first message's command, for the sender's `FAIL` when it cannot be stored.
        let command: String
        /// A channel event (JOIN, PART, NICK, …) has already changed the state: its record failing must not hide
        /// the change from the client, or its view and the server's differ. Only a message (which changed nothing
        /// yet) is refused when it cannot be stored.
        let changedState: Bool
        /// The loop context the messages were submitted from; the writer answers on its loop.
        let context: LoopContext?
        var error: String?
        /// In a cluster, a group of channel events keeps them: if their record fails they are recorded again later.
        var events: [StoredMessage] = []
    }

    /// What a held group carries out: work, or (for an effect) the one piece of work to start.
    struct Held {
        var work: [Work]
        /// Set when the commit failed: the work is dropped and the sender told instead.
        var failure: (SessionLink, String, String)?
    }

    /// Where history goes: the store for queries, the writer for group commit.
    struct History: Sendable {
        let store: any MessageStore
        let writer: HistoryWriter
        /// Completes commit promises when no connection's loop is at hand.
        let eventLoop: any EventLoop
    }

    enum Work {
        /// Recipients with their encoding capabilities as read under the lock (two arrays: no tuple per recipient).
        case send(IRCMessage, ContiguousArray<SessionLink>, ContiguousArray<IRCCapabilities>)
        case close(SessionLink, String)
        case acknowledgePending(account: String, through: Int64)
        case effect(AnyEffect)
    }

    let state: NIOLockedValueBox<State>
    let logger: Logger
    let history: History?
    let accounts: AccountService?
    let store: (any ParleyStorage)?
    let cloak: HostCloak
    /// In a cluster: where nick claims and releases go, in order.
    let nickQueue: ClusterNickQueue?
    /// In a cluster: where typing notices for the other nodes go, in order.
    let signals: ClusterSignals?
    /// The owners of effects and of other store work, each with its ordered inbox.
    let effects: Effects
    /// Signalled when no output is held: what shutdown waits for.
    private let quiet = ConditionWaiters()

    struct Effects: Sendable {
        /// History reads, redactions, read markers, offline deliveries and their acknowledgements.
        let store: EffectQueue
        /// Account changes, SASL and OPER: password hashes.
        let accounts: EffectQueue
        /// Channel registrations, one at a time: a drop must not overtake the save before it.
        let channels: EffectQueue

        init(clock: ShutdownClock) {
            self.store = EffectQueue("store effects", width: 8, clock: clock)
            self.accounts = EffectQueue("account effects", width: 2 * System.coreCount, clock: clock)
            self.channels = EffectQueue("channel registrations", width: 1, clock: clock)
        }
    }

    init(
        core: ServerState,
        history: History?,
        accounts: AccountService?,
        store: (any ParleyStorage)?,
        cloak: HostCloak = HostCloak(key: nil),
        nickQueue: ClusterNickQueue? = nil,
        signals: ClusterSignals? = nil,
        clock: ShutdownClock = ShutdownClock(grace: .seconds(10)),
        logger: Logger
    ) {
        self.effects = Effects(clock: clock)
        self.cloak = cloak
        self.nickQueue = nickQueue
        self.signals = signals
        self.state = NIOLockedValueBox(State(core: core))
        self.history = history
        self.accounts = accounts
        self.store = store
        self.logger = logger
    }

    static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSince1970: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// Registers a new connection and returns the link its writes go through.
    func open(
        channel: any NIOCore.Channel,
        context: LoopContext,
        address: String,
        secure: Bool,
        certificate: String? = nil
    ) -> SessionLink {
        // A keyed hash: computed before taking the lock every connection's events go through.
        let host = self.cloak.host(for: address)
        return self.state.withLockedValue { state in
            let id = state.links.makeID()
            let link = SessionLink(id: id, channel: channel, context: context)
            state.links.insert(link)
            state.core.connect(
                id,
                host: host,
                address: address,
                secure: secure,
                certificate: certificate,
                now: Self.now()
            )
            return link
        }
    }

    /// Handles one message from a connection on `current`; returns whether the session is registered afterwards.
    @discardableResult
    func handle(_ message: IRCMessage, from id: SessionID, on current: LoopContext? = nil) -> Bool {
        self.update(on: current, origin: id) { state in
            state.core.handle(message, from: id, now: Self.now(), into: &state.outbox)
            if message.command == .cap, let link = state.links[id] {
                link.caps = state.core.sessions[id]?.caps ?? []
            }
            return state.core.sessions[id]?.isRegistered ?? false
        }
    }

    func parseFailed(_ error: IRCParseError, from id: SessionID) {
        self.perform(origin: id) { core, outbox in core.parseFailed(error, from: id, into: &outbox) }
    }

    func inputTooLong(from id: SessionID) {
        self.perform(origin: id) { core, outbox in core.inputTooLong(from: id, into: &outbox) }
    }

    /// The connection is gone; tell its peers.
    func disconnected(_ id: SessionID, reason: String) {
        self.accounts?.reset(id)
        self.update(origin: id) { state in
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
        self.perform(origin: id) { core, outbox in
            core.disconnect(id, reason: reason, now: Self.now(), into: &outbox)
            outbox.actions.append(.close(id, reason: reason))
        }
    }

    /// Which accounts and channels are registered, and where channels' histories ended, read from the store at start.
    func load(accounts names: [String], channels: [ChannelRecord], channelEnds: [String: Int64]) {
        self.state.withLockedValue { state in
            state.core.loadAccounts(names)
            state.core.loadChannels(channels.map { ChannelRegistration(record: $0) })
            state.core.loadChannelEnds(channelEnds)
        }
    }

    /// Writes channel registrations one after another (each waits for the previous), off the event loop.
    private func persistChannel(_ write: @escaping @Sendable (any ParleyStorage) async throws -> Void) {
        guard let store = self.store else { return }
        let logger = self.logger
        self.effects.channels.enqueue {
            do {
                try await write(store)
            } catch {
                logger.error("saving a channel registration failed", metadata: ["parley.error": "\(error)"])
            }
        }
    }

    /// Renames sessions whose grace period on a registered nick ran out.
    func expireReservations() {
        self.perform { core, outbox in core.expireReservations(now: Self.now(), into: &outbox) }
    }

    /// Every session id, for shutdown.
    /// Registered clients and channels, for metrics.
    var sizes: (clients: Int, channels: Int) {
        self.state.withLockedValue { state in
            (state.core.sessions.values.reduce(0) { $0 + ($1.isRegistered ? 1 : 0) }, state.core.channels.count)
        }
    }

    var sessionIDs: [SessionID] { self.state.withLockedValue { $0.links.ids } }

    var serverName: String { self.state.withLockedValue { $0.core.configuration.serverName } }

    /// This run's name in the cluster (`NODE.RUN`).
    var runName: String { self.state.withLockedValue { $0.core.runName } }

    func isRegistered(_ id: SessionID) -> Bool {
        self.state.withLockedValue { $0.core.sessions[id]?.isRegistered ?? false }
    }

    func updateConfiguration(_ update: @Sendable (inout CoreConfiguration) -> Void) {
        self.state.withLockedValue { update(&$0.core.configuration) }
    }

    func perform<Result>(origin: SessionID? = nil, _ body: (inout ServerState, inout Outbox) -> Result) -> Result {
        self.update(origin: origin) { state in body(&state.core, &state.outbox) }
    }

    /// Hands an effect's result to the core (`body`); what it produces leaves in the effect's place.
    func resolve(_ effect: UInt64, _ body: (inout ServerState, inout Outbox) -> Void) {
        self.update(resolving: effect) { state in body(&state.core, &state.outbox) }
    }

    /// What one handled event asks for, sorted under the lock.
    private struct Plan {
        /// Sends and closes, in order.
        var work: [Work] = []
        /// Work that produces a result for the core, each ordered on its own.
        var effects: [Work] = []
        /// Started at once; nothing waits for them.
        var detached: [Work] = []
        var persists: [StoredMessage] = []
        var keys: [DeliveryOrder<Held>.Key] = []
    }

    /// Runs `body` on the locked state, then carries out the outbox it filled, unlocked. `current` is the loop
    /// context of the calling connection, if the caller is on one: its recipients are written without a hop.
    ///
    /// The event's output is ordered by the session that caused it (`origin`), the history targets it stores to and
    /// the sessions it closes (see ``DeliveryOrder``): when it stores messages it waits for their commit, and when an
    /// earlier group with one of those keys is held it waits for that group. Anything else leaves at once.
    /// `resolving` names the effect whose result this is: the output takes that effect's place.
    func update<Result>(
        on current: LoopContext? = nil,
        origin: SessionID? = nil,
        resolving effect: UInt64? = nil,
        _ body: (inout State) -> Result
    ) -> Result {
        let (result, plan, carryNow, heldSomething, commitGroup) = self.state.withLockedValue {
            state -> (Result, Plan, Bool, Bool, UInt64?) in
            state.outbox.removeAll()
            let result = body(&state)
            var plan = self.plan(&state)
            if let origin { plan.keys.append(.session(origin)) }
            let held = Held(work: plan.work)
            let committing = !plan.persists.isEmpty
            var group: UInt64?
            if let effect {
                state.order.complete(effect, with: held, committed: !committing)
                group = effect
            } else {
                group = state.order.admit(work: held, keys: plan.keys, committing: committing)
            }
            for item in plan.effects {
                var keys = plan.keys
                if let session = item.session { keys.append(.session(session)) }
                _ = state.order.admit(effect: Held(work: [item]), keys: keys)
            }
            if committing, let group {
                let messages = plan.persists
                state.commits[group] = PendingCommit(
                    remaining: messages.count,
                    sender: origin.flatMap { state.links[$0] },
                    command: messages[0].command,
                    changedState: messages.allSatisfy {
                        !StoredMessage.contentCommands.contains(IRCCommand(rawValue: $0.command))
                    },
                    context: current
                )
                if self.nickQueue != nil && state.commits[group]!.changedState {
                    state.commits[group]!.events = messages
                }
            }
            return (result, plan, group == nil, group != nil || !plan.effects.isEmpty, committing ? group : nil)
        }
        for item in plan.detached { self.startDetached(item) }
        if carryNow && !plan.work.isEmpty {
            var batches = Batches(current: current)
            for item in plan.work { self.carryOut(item, into: &batches) }
            batches.submit()
        }
        if let group = commitGroup, let history = self.history {
            self.commit(plan.persists, group: group, history: history, on: current)
        }
        if heldSomething { self.release(on: current) }
        return result
    }

    /// Turns the core's actions into work (under the lock: links are looked up, and queues whose order is the
    /// core's are filled here).
    private func plan(_ state: inout State) -> Plan {
        var plan = Plan()
        plan.work.reserveCapacity(state.outbox.actions.count)
        for action in state.outbox.actions {
            switch action {
            case .send(let message, let id):
                guard let link = state.links[id] else { continue }
                plan.work.append(.send(message, [link], [link.caps]))
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
                plan.work.append(.send(message, links, caps))
            case .close(let id, let reason):
                plan.keys.append(.session(id))
                guard let link = state.links.remove(id) else { continue }
                plan.work.append(.close(link, reason))
            case .persist(let message, let target, let deliverTo):
                guard self.history != nil else { continue }
                var stored = StoredMessage(relayed: message, target: target)
                stored.deliverTo = deliverTo
                plan.persists.append(stored)
                plan.keys.append(.target(target))
            case .acknowledgePending(let account, let through):
                plan.detached.append(.acknowledgePending(account: account, through: through))
            case .effect(let effect):
                plan.effects.append(.effect(effect))
            case .saveChannel(let registration):
                self.persistChannel { try await $0.saveChannel(ChannelRecord(registration: registration)) }
            case .dropChannel(let name):
                self.persistChannel { try await $0.dropChannel(name) }
            case .saslReset(let id):
                self.accounts?.reset(id)
            case .claimNick(let id, let nick, let folded, let respectingHolds):
                // Queued under the lock: the queue's order is the core's.
                self.nickQueue?.enqueue(.claim(id, nick: nick, folded: folded, respectingHolds: respectingHolds))
            case .holdNick(let folded, let seconds):
                self.nickQueue?.enqueue(.hold(folded: folded, seconds: seconds))
            case .releaseNick(let folded):
                self.nickQueue?.enqueue(.release(folded: folded))
            case .signal(let message):
                self.signals?.enqueue(message.line)
            }
        }
        return plan
    }

    /// Hands `messages` to the writer; their group is released once all are committed (``committed(_:on:result:)``).
    private func commit(_ messages: [StoredMessage], group: UInt64, history: History, on current: LoopContext?) {
        let eventLoop = current?.eventLoop ?? history.eventLoop
        for message in messages { history.writer.submit(message, token: group, on: eventLoop, listener: self) }
    }

    /// The writer committed (or failed to commit) messages of the groups `tokens`, submitted on `eventLoop`; runs
    /// there. A whole batch's groups are marked in one lock and carried out in one pass.
    func committed(_ tokens: [UInt64], on eventLoop: any EventLoop, result: Result<Void, any Error>) {
        let reason: String?
        if case .failure(let error) = result { reason = "\(error)" } else { reason = nil }
        let (context, failed) = self.state.withLockedValue { state -> (LoopContext?, [Bool]) in
            var context: LoopContext?
            var failed: [Bool] = []
            for token in tokens {
                guard var pending = state.commits[token] else { continue }
                // Every context here belongs to `eventLoop`, the loop this runs on.
                context = context ?? pending.context
                if pending.error == nil { pending.error = reason }
                pending.remaining -= 1
                if pending.remaining > 0 {
                    state.commits[token] = pending
                    continue
                }
                state.commits[token] = nil
                state.order.committed(token) { held in
                    if let error = pending.error, let sender = pending.sender, !pending.changedState {
                        held.failure = (sender, pending.command, error)
                    }
                }
                if pending.error != nil {
                    failed.append(pending.changedState)
                    if state.unrecorded.count < Self.unrecordedLimit { state.unrecorded += pending.events }
                }
            }
            return (context, failed)
        }
        if let reason, !failed.isEmpty {
            let unrecorded = failed.filter { $0 }.count
            self.logger.error(
                "history commit failed",
                metadata: [
                    "parley.error": "\(reason)",
                    "parley.messages.refused": "\(failed.count - unrecorded)",
                    // Their change took effect without a record.
                    "parley.events.unrecorded": "\(unrecorded)",
                ]
            )
        }
        self.release(on: context)
    }

    /// Carries out held groups whose turn has come and starts effects whose turn has come. Several threads may do
    /// this at once, but never for two groups that share a key: a group becomes due only once the groups it follows
    /// are carried out (their writes queued on each loop first), so groups due together share no key and may go in
    /// one pass. `current` is the loop context the caller runs on.
    private func release(on current: LoopContext?) {
        var steps = self.state.withLockedValue { $0.order.allDue() }
        while !steps.isEmpty {
            // Batches first carries out what other threads queued for `current`, so a direct write there overtakes
            // nothing; other loops get their items queued in order.
            var batches = Batches(current: current)
            var carried: [UInt64] = []
            for step in steps {
                switch step {
                case .start(let id, let held):
                    for item in held.work { self.startAsynchronous(item, effect: id) }
                case .carryOut(let id, let held):
                    carried.append(id)
                    if let (sender, command, reason) = held.failure {
                        var buffer = sender.channel.allocator.buffer(capacity: 128)
                        IRCMessage(
                            source: self.serverName,
                            command: .fail,
                            parameters: [command, "MESSAGE_NOT_STORED", "Your message was not delivered: \(reason)"]
                        ).write(to: &buffer)
                        batches.append(.write(sender, buffer), for: sender)
                        for item in held.work {
                            if case .close = item { self.carryOut(item, into: &batches) }
                        }
                    } else {
                        for item in held.work { self.carryOut(item, into: &batches) }
                    }
                }
            }
            batches.submit()
            var drained = false
            (steps, drained) = self.state.withLockedValue { state in
                for id in carried { state.order.finished(id) }
                return (state.order.allDue(), state.order.isEmpty)
            }
            if drained { self.quiet.signal() }
        }
    }

    /// Shutdown gave up on the store: what waits for it is dropped (never acknowledged, so never reported as sent),
    /// but the connections it would have closed are closed now, with their ERROR line.
    func abandonHeld() {
        let held = self.state.withLockedValue { state in
            state.commits.removeAll()
            return state.order.removeAll()
        }
        self.quiet.signal()
        var batches = Batches(current: nil)
        for group in held {
            for item in group.work {
                if case .close = item { self.carryOut(item, into: &batches) }
            }
        }
        batches.submit()
    }

    /// How many groups of output wait for a commit or an effect.
    var heldCount: Int { self.state.withLockedValue { $0.order.count } }

    /// Waits (bounded) until no work is held for a commit or an effect, for shutdown.
    func waitUntilReleased(timeout: Duration = .seconds(10)) async {
        _ = await self.quiet.wait(until: { self.state.withLockedValue { $0.order.isEmpty } }, timeout: timeout)
    }
}
