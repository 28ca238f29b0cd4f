import Logging
import ParleyCore
import ParleyStore

/// Work the core asks for that waits on something slow (the store, a password hash): an effect, started here when
/// its turn comes (``DeliveryOrder``), its result handed back to the core through `resolve`, which puts what the
/// core answers in the effect's place. Every path resolves its effect, or the session's later replies would wait for
/// ever.
extension CoreHost {
    func startAsynchronous(_ work: Work, effect: UInt64) {
        guard case .effect(let request) = work else {
            preconditionFailure("sends and closes are carried out in place, acknowledgements started detached")
        }
        guard let runnable = request.base as? any ServerEffect else {
            // A programming error, not the client's: its session must not wait for ever for it.
            self.logger.error("no ServerEffect conformance", metadata: ["parley.effect": "\(type(of: request.base))"])
            return self.resolve(effect) { _, _ in }
        }
        let queue = runnable.family == .accounts ? self.effects.accounts : self.effects.store
        queue.enqueue(
            .init(
                run: {
                    let apply = await runnable.run(on: self)
                    self.resolve(effect, apply)
                },
                // The server is stopping: the session is being closed, but its later output must not wait for ever.
                refuse: { self.resolve(effect) { _, _ in } }
            )
        )
    }

    /// Work whose result nobody waits for.
    func startDetached(_ work: Work) {
        switch work {
        case .acknowledgePending(let account, let through):
            guard let store = self.history?.store else { return }
            self.effects.store.enqueue {
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
}

extension CoreHost.Work {
    /// The session an effect answers.
    var session: SessionID? {
        switch self {
        case .effect(let request): request.base.session
        case .send, .close, .acknowledgePending: nil
        }
    }
}
