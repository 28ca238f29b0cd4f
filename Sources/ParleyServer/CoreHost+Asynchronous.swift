import Logging
import NIOCore
import NIOPosix
import ParleyCore
import ParleyStore

/// Work the core asks for that waits on something slow (the store, a password hash): an effect, started here when
/// its turn comes (``DeliveryOrder``), its result handed back to the core through `resolve`, which puts what the
/// core answers in the effect's place. Every path resolves its effect, or the session's later replies would wait for
/// ever.
extension CoreHost {
    func startAsynchronous(_ work: Work, effect: UInt64) {
        switch work {
        case .verifyOperator(let link, let name, let password, let hash):
            let eventLoop = link.context.eventLoop
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                OperatorPassword.verify(password, against: hash)
            }.whenComplete { result in
                let success = (try? result.get()) ?? false
                if !success { self.logger.notice("failed OPER", metadata: ["parley.oper.name": "\(name)"]) }
                self.resolve(effect) { core, outbox in
                    core.operatorVerified(link.id, name: name, success: success, now: Self.now(), into: &outbox)
                }
            }
        case .queryHistory(let query):
            self.answer(query, effect: effect)
        case .deliverPending(let id, let account):
            guard let store = self.history?.store else { return self.resolve(effect) { _, _ in } }
            self.track {
                do {
                    let pending = try await store.pendingDeliveries(for: account)
                    let through = pending.map(\.sequence).max() ?? 0
                    let messages = pending.map(\.relayed)
                    self.resolve(effect) { core, outbox in
                        core.pendingDelivered(id, messages: messages, through: through, into: &outbox)
                    }
                } catch {
                    self.logger.error("offline delivery failed", metadata: ["parley.error": "\(error)"])
                    self.resolve(effect) { core, outbox in core.pendingDeliveryFailed(id, into: &outbox) }
                }
            }
        case .effect(let request):
            guard let runnable = request.base as? any ServerEffect else {
                // A programming error, not the client's: its session must not wait for ever for it.
                self.logger.error(
                    "no ServerEffect conformance",
                    metadata: ["parley.effect": "\(type(of: request.base))"]
                )
                return self.resolve(effect) { _, _ in }
            }
            self.track {
                let apply = await runnable.run(on: self)
                self.resolve(effect, apply)
            }
        case .account(let request):
            guard let accounts = self.accounts else { return self.resolve(effect) { _, _ in } }
            self.track {
                let outcome = await accounts.perform(request, now: Self.now().millisecondsSince1970)
                self.resolve(effect) { core, outbox in
                    core.accountCompleted(request, outcome, now: Self.now(), into: &outbox)
                }
            }
        case .sasl(let id, let mechanism, let response, let address, let certificate):
            guard let accounts = self.accounts else { return self.resolve(effect) { _, _ in } }
            self.track {
                let step = await accounts.sasl(
                    id,
                    mechanism: mechanism,
                    response: response,
                    address: address,
                    certificate: certificate,
                    now: Self.now().millisecondsSince1970
                )
                self.resolve(effect) { core, outbox in
                    switch step {
                    case .challenge(let challenge): core.saslChallenge(id, challenge, into: &outbox)
                    case .success(let account): core.saslSucceeded(id, account: account, now: Self.now(), into: &outbox)
                    case .failure(let reason): core.saslFailed(id, reason: reason, into: &outbox)
                    }
                }
            }
        case .send, .close, .acknowledgePending:
            preconditionFailure("sends and closes are carried out in place, acknowledgements started detached")
        }
    }

    /// Work whose result nobody waits for.
    func startDetached(_ work: Work) {
        switch work {
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
        default:
            preconditionFailure("only acknowledgements are started detached")
        }
    }

    /// Asks the store, then hands the answer to the core (through the same ordered path as everything else).
    private func answer(_ query: HistoryQuery, effect: UInt64) {
        guard let store = self.history?.store else {
            self.resolve(effect) { core, outbox in core.historyFailed(query, reason: "no store", into: &outbox) }
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
                    self.resolve(effect) { core, outbox in
                        core.historyTargetsLoaded(query, targets: targets, into: &outbox)
                    }
                } else {
                    // What an asker may not read (an earlier incarnation of a channel) is left out here.
                    let messages = try await store.answer(query)
                        .filter { $0.time > query.since[$0.target] ?? Int64.min }
                        .map(\.relayed)
                    self.resolve(effect) { core, outbox in core.historyLoaded(query, messages: messages, into: &outbox)
                    }
                }
            } catch {
                self.logger.error("history query failed", metadata: ["parley.error": "\(error)"])
                self.resolve(effect) { core, outbox in
                    core.historyFailed(query, reason: "the store failed", into: &outbox)
                }
            }
        }
    }
}

extension CoreHost.Work {
    /// The session an effect answers.
    var session: SessionID? {
        switch self {
        case .verifyOperator(let link, _, _, _): link.id
        case .queryHistory(let query): query.session
        case .account(let request): request.session
        case .sasl(let id, _, _, _, _): id
        case .deliverPending(let id, _): id
        case .effect(let request): request.base.session
        case .send, .close, .acknowledgePending: nil
        }
    }
}
