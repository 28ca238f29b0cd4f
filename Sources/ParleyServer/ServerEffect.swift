import ParleyCore

/// The server's side of a ``CoreEffect``: run it (against the store, the account service, …) and say what the core
/// does with the result. `CoreHost` starts it when its turn in ``DeliveryOrder`` comes and carries the returned
/// change out in the effect's place; it must return one on every path, failures included.
protocol ServerEffect: CoreEffect {
    func run(on host: CoreHost) async -> CoreHost.Resolution
    /// Whose inbox it goes to (the store's, unless it says otherwise).
    var family: EffectFamily { get }
}

extension ServerEffect {
    var family: EffectFamily { .store }
}

/// The owners of effects, each an ``EffectQueue``: password work is slow on purpose, so logins queue apart from
/// history reads.
enum EffectFamily {
    case store
    case accounts
}

extension CoreHost {
    /// What the core does with an effect's result, applied under the core's lock.
    typealias Resolution = @Sendable (inout ServerState, inout Outbox) -> Void
}
