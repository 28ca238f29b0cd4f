import Logging
import NIOCore
import NIOPosix
import ParleyCore
import ParleyStore

/// Work the core asks for that waits on something slow (the store, a password hash): started here, its result
/// handed back to the core through `perform`, the same ordered path as everything else.
extension CoreHost {
    func startAsynchronous(_ work: Work) {
        switch work {
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
        case .queryHistory(let query):
            self.answer(query)
        case .deliverPending(let id, let account):
            guard let store = self.history?.store else { return }
            self.track {
                do {
                    let pending = try await store.pendingDeliveries(for: account)
                    let through = pending.map(\.sequence).max() ?? 0
                    let messages = pending.map(\.relayed)
                    self.perform { core, outbox in
                        core.pendingDelivered(id, messages: messages, through: through, into: &outbox)
                    }
                } catch {
                    self.logger.error("offline delivery failed", metadata: ["parley.error": "\(error)"])
                    self.perform { core, outbox in core.pendingDeliveryFailed(id, into: &outbox) }
                }
            }
        case .acknowledgePending(let account, let through):
            guard let store = self.history?.store else { return }
            self.track {
                do {
                    try await store.acknowledgeDeliveries(for: account, through: through)
                } catch {
                    // They stay kept: the next login gets them again rather than never.
                    self.logger.error("acknowledging offline delivery failed", metadata: ["parley.error": "\(error)"])
                }
            }
        case .readMarker(let request):
            guard let accounts = self.accounts else { return }
            self.track {
                do {
                    let time = try await accounts.readMarker(request)
                    self.perform { core, outbox in core.readMarkerLoaded(request, time: time, into: &outbox) }
                } catch {
                    self.logger.error("read marker failed", metadata: ["parley.error": "\(error)"])
                    self.perform { core, outbox in core.readMarkerFailed(request, into: &outbox) }
                }
            }
        case .account(let request):
            guard let accounts = self.accounts else { return }
            self.track {
                let outcome = await accounts.perform(request, now: Self.now().millisecondsSince1970)
                self.perform { core, outbox in core.accountCompleted(request, outcome, now: Self.now(), into: &outbox) }
            }
        case .sasl(let id, let mechanism, let response, let address, let certificate):
            guard let accounts = self.accounts else { return }
            self.track {
                let step = await accounts.sasl(
                    id,
                    mechanism: mechanism,
                    response: response,
                    address: address,
                    certificate: certificate,
                    now: Self.now().millisecondsSince1970
                )
                self.perform { core, outbox in
                    switch step {
                    case .challenge(let challenge): core.saslChallenge(id, challenge, into: &outbox)
                    case .success(let account): core.saslSucceeded(id, account: account, now: Self.now(), into: &outbox)
                    case .failure(let reason): core.saslFailed(id, reason: reason, into: &outbox)
                    }
                }
            }
        case .send, .close:
            preconditionFailure("sends and closes are carried out in place, not started")
        }
    }

    /// Asks the store, then hands the answer to the core (through the same ordered path as everything else).
    private func answer(_ query: HistoryQuery) {
        guard let store = self.history?.store else {
            self.perform { core, outbox in core.historyFailed(query, reason: "no store", into: &outbox) }
            return
        }
        self.track {
            do {
                if case .targets(let from, let to) = query.kind {
                    let targets = try await store.targets(
                        channels: query.channels,
                        directFor: query.owner,
                        from: from,
                        to: to,
                        limit: query.limit
                    )
                    .filter { $0.time > query.since[$0.target] ?? Int64.min }
                    self.perform { core, outbox in core.historyTargetsLoaded(query, targets: targets, into: &outbox) }
                } else {
                    // What an asker may not read (an earlier incarnation of a channel) is left out here.
                    let messages = try await store.answer(query)
                        .filter { $0.time > query.since[$0.target] ?? Int64.min }
                        .map(\.relayed)
                    self.perform { core, outbox in core.historyLoaded(query, messages: messages, into: &outbox) }
                }
            } catch {
                self.logger.error("history query failed", metadata: ["parley.error": "\(error)"])
                self.perform { core, outbox in core.historyFailed(query, reason: "the store failed", into: &outbox) }
            }
        }
    }
}
