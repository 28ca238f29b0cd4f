import Logging
import ParleyCore
import ParleyStore

/// CHATHISTORY, TARGETS, SEARCH and the replay on JOIN: asks the store, then hands the answer to the core.
extension HistoryQuery: ServerEffect {
    func run(on host: CoreHost) async -> CoreHost.Resolution {
        guard let store = host.history?.store else {
            return { core, outbox in core.historyFailed(self, reason: "no store", into: &outbox) }
        }
        do {
            if case .targets(let from, let to) = self.kind {
                let targets = try await store.targets(
                    channels: self.channels,
                    directFor: self.owner,
                    from: from,
                    to: to,
                    limit: self.limit
                )
                .filter { $0.time > self.since[$0.target] ?? Int64.min }
                return { core, outbox in core.historyTargetsLoaded(self, targets: targets, into: &outbox) }
            }
            // What an asker may not read (an earlier incarnation of a channel) is left out here.
            let messages = try await store.answer(self)
                .filter { $0.time > self.since[$0.target] ?? Int64.min }
                .map(\.relayed)
            return { core, outbox in core.historyLoaded(self, messages: messages, into: &outbox) }
        } catch {
            host.logger.error("history query failed", metadata: ["parley.error": "\(error)"])
            return { core, outbox in core.historyFailed(self, reason: "the store failed", into: &outbox) }
        }
    }
}

/// The DMs kept while an account was offline, for the session that just logged in to it.
extension PendingDeliveryRequest: ServerEffect {
    func run(on host: CoreHost) async -> CoreHost.Resolution {
        guard let store = host.history?.store else { return { _, _ in } }
        do {
            let pending = try await store.pendingDeliveries(for: self.account)
            let through = pending.map(\.sequence).max() ?? 0
            let messages = pending.map(\.relayed)
            return { core, outbox in
                core.pendingDelivered(self.session, messages: messages, through: through, into: &outbox)
            }
        } catch {
            host.logger.error("offline delivery failed", metadata: ["parley.error": "\(error)"])
            return { core, outbox in core.pendingDeliveryFailed(self.session, into: &outbox) }
        }
    }
}
