import Logging
import NIOConcurrencyHelpers
import ParleyCore
import ParleyIRC
import ParleyStore

/// Delivers the messages other nodes of the cluster commit to this node's users (channel members, DM recipients),
/// and keeps the core's list of the nicks other nodes hold current.
///
/// It keeps, per target, the number of the last message it has seen. When woken (a commit elsewhere), or after
/// (re)connecting, it reads what is numbered after that and hands it to the core; the node's own messages, which come
/// back the same way, only move the number on. A missed notification therefore costs only a later catch-up. Every
/// target that moved since the last read is read in one round trip (``RelayBacklog`` merges the notifications that
/// arrived meanwhile).
final class ClusterRelay: Sendable {
    let bus: any ClusterBus
    let host: CoreHost
    let logger: Logger
    let metrics: ServerMetrics
    /// How long a node's lease lasts; it is renewed three times in that span.
    let lease: Duration
    private let seen = NIOLockedValueBox<[String: Int64]?>(nil)
    /// The node joined (its first lease) just before the relay is made.
    private let status = NIOLockedValueBox(Status(leaseRenewedAt: .now))
    private let transitions = NIOLock()
    private let backlog = NIOLockedValueBox(RelayBacklog())
    /// Rung when the backlog gains an event; rings while the relay is busy fold into one.
    private let doorbell = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    /// What `/healthz` says of the cluster.
    struct Status: Sendable {
        var listening = false
        var nodesAlive = 0
        /// The live nodes' addresses (`HOST PORT`, empty when a node gave none), this node's included.
        var addresses: [String: String] = [:]
        var leaseRenewedAt: ContinuousClock.Instant?
        /// Since when every call to the database has succeeded (nil while it fails).
        var reachableSince: ContinuousClock.Instant?
    }
    private static let page = 500
    /// How many targets one read asks for at most (after a reconnection many may have moved).
    private static let targetsPerRead = 100
    private static let content: Set<String> = ["PRIVMSG", "NOTICE", "TAGMSG"]
    private static let relayed: Set<String> = [
        "PRIVMSG", "NOTICE", "TAGMSG", "JOIN", "PART", "KICK", "QUIT", "NICK", "TOPIC", "MODE", "INVITE", "AWAY",
        "ENDED",
    ]

    init(bus: any ClusterBus, host: CoreHost, lease: Duration, metrics: ServerMetrics, logger: Logger) {
        self.bus = bus
        self.metrics = metrics
        self.host = host
        self.lease = lease
        self.logger = logger
    }

    /// Listens and renews the lease until cancelled.
    func relay() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.bus.listen { event in
                    self.backlog.withLockedValue { $0.add(event) }
                    self.doorbell.continuation.yield()
                }
            }
            group.addTask { await self.handleBacklog() }
            group.addTask { await self.renewLeases() }
            group.addTask { await self.removeLostNodes() }
            await group.waitForAll()
        }
    }

    /// Whether the relay listens and knows where every target stood: from then on nothing committed is missed.
    var isListening: Bool { self.seen.withLockedValue { $0 != nil } }
    private let listening = ConditionWaiters()

    /// Waits (at most `timeout`) until ``isListening``; returns whether it is.
    func waitUntilListening(timeout: Duration) async -> Bool {
        await self.listening.wait(until: { self.isListening }, timeout: timeout)
    }

    /// Where users may reconnect when this node goes: the other live nodes that gave an address, in a fixed order.
    /// Asked of the database (a second at most), or else as of the last lease renewal.
    func reconnectAddresses() async -> [ReconnectAddress] {
        let nodes: [String: String]
        if let live = try? await withDeadline(.seconds(1), { try await self.bus.liveNodes() }) {
            nodes = live
        } else {
            nodes = self.status.withLockedValue { $0.addresses }
        }
        return nodes.filter { $0.key != self.bus.nodeID }.sorted { $0.key < $1.key }.compactMap {
            ReconnectAddress(stored: $0.value)
        }
    }

    /// `"cluster":{…}` for `/healthz`, and whether the node is healthy as a member: it listens and renewed its lease
    /// within the lease.
    func health() -> (ok: Bool, json: String) {
        let status = self.status.withLockedValue { $0 }
        let renewed = status.leaseRenewedAt.map { ContinuousClock.now - $0 }
        let ok = status.listening && renewed.map { $0 < self.lease } == true
        let seconds = renewed.map { String($0.components.seconds) }
        let json =
            "{\"node\":\"\(self.bus.nodeID)\",\"status\":\"\(ok ? "ok" : "failing")\","
            + "\"listening\":\(status.listening),\"nodes_alive\":\(status.nodesAlive),"
            + "\"lease_renewed_seconds_ago\":\(seconds ?? "null")}"
        return (ok, json)
    }

    /// Handles the feed's events in order, each batch the feed handed over while the last was being handled at once.
    private func handleBacklog() async {
        for await _ in self.doorbell.stream {
            for event in self.backlog.withLockedValue({ $0.take() }) { await self.handle(event) }
        }
    }

    private func handle(_ event: ClusterEvent) async {
        do {
            switch event {
            case .disconnected:
                self.status.withLockedValue { $0.listening = false }
                self.reached(false)
            case .connected:
                self.status.withLockedValue { $0.listening = true }
                // Nicks first: a message relayed below may be answered by a DM to its sender on another node.
                let nicks = try await self.ask { try await self.bus.nicks() }
                self.host.perform { core, _ in
                    core.loadRemoteNicks(nicks.map { ($0.nick, RemoteNick(display: $0.display, node: $0.node)) })
                }
                let heads = try await self.ask { try await self.bus.heads() }
                // The first connection sets the baseline: what was committed before this node ran is history, not
                // news. Later ones catch up every target that moved while this node was not listening.
                guard let seen = self.seen.withLockedValue({ $0 }) else {
                    try await self.learnChannels(upTo: heads)
                    self.seen.withLockedValue { $0 = heads }
                    self.listening.signal()
                    return
                }
                try await self.catchUp(heads.filter { $0.value > seen[$0.key, default: 0] }.keys)
            case .newMessages(let heads):
                guard let seen = self.seen.withLockedValue({ $0 }) else { return }
                try await self.catchUp(heads.filter { $0.value > seen[$0.key, default: 0] }.keys)
            case .carried(let messages):
                try await self.take(messages)
            case .nickClaimed(let node, let nick, let display):
                self.host.perform { core, _ in core.remoteNickClaimed(nick, RemoteNick(display: display, node: node)) }
            case .nickReleased(let node, let nick):
                self.host.perform { core, _ in core.remoteNickReleased(nick, node: node) }
            case .nodeGone(let node, let lost):
                self.host.perform { core, outbox in
                    core.remoteNodeGone(node, lost: lost, now: CoreHost.now(), into: &outbox)
                }
            case .signal(let node, let line):
                guard node != self.bus.nodeID, let message = try? IRCParser.parse(line) else { return }
                self.host.perform { core, outbox in core.relaySignalFromOtherNode(message, into: &outbox) }
            }
        } catch {
            // The numbers did not move: the next event retries.
            self.logger.warning("cluster: cannot read new messages: \(error)")
        }
    }

    /// At start: replays the log's channel events up to `heads` (this node has no members yet, so no one is told)
    /// and keeps the members whose node runs now: who is in each channel, its topic, modes and bans.
    private func learnChannels(upTo heads: [String: Int64]) async throws {
        // Conversations and the AWAY logs of users in no channel say nothing of channels; and only users in a
        // channel are kept from before this node ran.
        let channels = heads.filter { HistoryTarget(storageKey: $0.key).isChannel }
        let events = try await self.ask { try await self.bus.channelEvents(upTo: channels) }
        let alive = try await self.ask { try await self.bus.liveRuns() }
        let messages = events.map(\.relayed)
        self.host.perform { core, outbox in
            for message in messages { core.relayFromOtherNode(message, into: &outbox) }
            core.keepRemoteMembers(onRuns: alive.subtracting([core.runName]))
        }
        self.logger.info("cluster: replayed \(events.count) channel events to learn the channels")
    }

    /// Messages a commit carried in its notification: each target's that follow on from what this node has seen
    /// are handed over at once; a target with a gap before them (a notification missed) is read instead.
    private func take(_ carried: [NumberedMessage]) async throws {
        guard let seen = self.seen.withLockedValue({ $0 }) else { return }
        var next: [String: Int64] = [:]
        var contiguous: [NumberedMessage] = []
        var gaps: Set<String> = []
        for entry in carried {
            let target = entry.message.target
            let last = next[target] ?? seen[target, default: 0]
            guard entry.number > last else { continue }
            if entry.number == last + 1 && !gaps.contains(target) {
                contiguous.append(entry)
                next[target] = entry.number
            } else {
                gaps.insert(target)
            }
        }
        _ = self.deliver(contiguous, read: false)
        if !gaps.isEmpty { try await self.catchUp(gaps) }
    }

    /// Reads what is new in `targets`, a hundred targets per round trip, and hands it to the core in the order it
    /// was stored; a target with more than a page new is read again.
    private func catchUp(_ targets: some Sequence<String>) async throws {
        var remaining = targets.sorted()
        while !remaining.isEmpty {
            let chunk = remaining.prefix(Self.targetsPerRead)
            remaining.removeFirst(chunk.count)
            let after = self.seen.withLockedValue { seen in
                Dictionary(uniqueKeysWithValues: chunk.map { ($0, seen?[$0] ?? 0) })
            }
            let page = try await self.ask { try await self.bus.messages(after: after, limit: Self.page) }
            let read = self.deliver(page.map { NumberedMessage(number: $0.number, message: $0.message) }, read: true)
            remaining += read.filter { $0.value >= Self.page }.keys.sorted()
        }
    }

    /// Hands `page` (each target's messages in order, following on from what was seen) to the core and moves each
    /// target's number on; returns how many messages of each target it held. `read`: it was read from the database
    /// (else carried in a notification).
    private func deliver(_ page: [NumberedMessage], read fromDatabase: Bool) -> [String: Int] {
        guard !page.isEmpty else { return [:] }
        // This node's msgids come from its run: known once, not asked of the core per message.
        let ownOrigin = self.host.runName
        // Other nodes' messages and events, and this node's own channel changes in the log's order among them.
        let entries = page.map(\.message).compactMap { message -> (StoredMessage, own: Bool)? in
            guard Self.relayed.contains(message.command), !Self.isRecipientsCopy(message) else { return nil }
            let own = MessageID.isFrom(ownOrigin, message.msgid)
            return own && message.command != "TOPIC" && message.command != "MODE" ? nil : (message, own)
        }
        if !entries.isEmpty { self.host.relayFromOtherNodes(entries.map { ($0.0.relayed, $0.own) }) }
        let foreign = entries.filter { !$0.own }.map(\.0)
        let now = CoreHost.now().millisecondsSince1970
        // Messages, not channel events, are what the metric counts and what the lag is measured on.
        let content = foreign.filter { Self.content.contains($0.command) }
        self.metrics.clusterRelayed(
            content.count,
            lagsMilliseconds: content.map { now - $0.time },
            read: fromDatabase
        )
        var last: [String: Int64] = [:]
        var read: [String: Int] = [:]
        for entry in page {
            last[entry.message.target] = max(last[entry.message.target] ?? 0, entry.number)
            read[entry.message.target, default: 0] += 1
        }
        self.seen.withLockedValue { seen in for (target, number) in last { seen?[target] = number } }
        return read
    }

    /// Each party of a DM has a copy of it under its own key; the recipient's (stored by the recipient's node,
    /// naming the sender as the other party) is never delivered again: only the sender's, which names the recipient.
    private static func isRecipientsCopy(_ message: StoredMessage) -> Bool {
        guard case .conversation(_, let correspondent) = HistoryTarget(storageKey: message.target) else {
            return false
        }
        let recipient = message.recipient.isEmpty ? message.relayed.parameter(0) ?? "" : message.recipient
        return correspondent != CaseMapping.fold(recipient)
    }

    private func renewLeases() async {
        while !Task.isCancelled {
            if let nodes = try? await self.ask({ try await self.bus.liveNodes() }) {
                self.metrics.clusterNodesAlive(nodes.count)
                self.status.withLockedValue {
                    $0.nodesAlive = nodes.count
                    $0.addresses = nodes
                }
            }
            try? await Task.sleep(for: self.lease / 3)
            guard !Task.isCancelled else { return }
            do {
                if try await !self.ask({ try await self.bus.renewLease(self.lease) }) {
                    self.logger.error("cluster: this node's lease had run out and the cluster gave it up")
                    self.host.rejoinCluster(lease: self.lease)
                }
                self.status.withLockedValue { $0.leaseRenewedAt = .now }
            } catch {
                self.logger.warning("cluster: cannot renew the lease: \(error)")
            }
        }
    }

    /// Removes nodes whose lease ran out, every tenth of the lease: a lost node's users quit on the others at most
    /// about a tenth of the lease after its lease ends (every node looks; the first to remove it tells the rest).
    ///
    /// Only a node that has reached the database for a whole lease looks. When the database was away for everyone
    /// (an outage, a restart), every lease ran out with nobody at fault: each node gets a lease's time to renew
    /// its own before any of them may be given up, so an outage of any length disconnects nobody. A node that was
    /// cut off while the others were not still loses its place, and only its users move.
    private func removeLostNodes() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: self.lease / 10)
            guard !Task.isCancelled else { return }
            let since = self.status.withLockedValue { $0.reachableSince }
            guard let since, ContinuousClock.now - since >= self.lease else { continue }
            do {
                let lost = try await self.ask { try await self.bus.removeLostNodes() }
                if !lost.isEmpty {
                    self.logger.notice("cluster: nodes lost (their leases ran out): \(lost.joined(separator: ", "))")
                }
            } catch {
                self.logger.warning("cluster: cannot look for lost nodes: \(error)")
            }
        }
    }

    /// A database call the relay makes, given up after ``ClusterNickQueue/deadline``: a query postgres-nio lost would
    /// otherwise stop the relay (no more deliveries from other nodes) or the lease renewals for good.
    private func ask<Result: Sendable>(_ call: @escaping @Sendable () async throws -> Result) async throws -> Result {
        do {
            let result = try await withDeadline(ClusterNickQueue.deadline, call)
            self.reached(true)
            return result
        } catch {
            self.reached(false)
            throw error
        }
    }

    /// Whether the last call reached the database; the core hears of each change (``ServerState/databaseAway``).
    private func reached(_ reachable: Bool) {
        // One change at a time, the core's included: two tasks' changes must reach the core in the order they were
        // made, or it could be left refusing with the database back (or waiting with it away).
        self.transitions.withLock {
            let changed = self.status.withLockedValue { status in
                guard (status.reachableSince != nil) != reachable else { return false }
                status.reachableSince = reachable ? .now : nil
                return true
            }
            guard changed else { return }
            let wasAway = self.host.databaseReachable(reachable)
            guard wasAway == reachable else { return }
            self.logger.notice(
                reachable
                    ? "cluster: the database answers again"
                    : "cluster: the database cannot be reached; refusing what must be stored"
            )
        }
    }
}
