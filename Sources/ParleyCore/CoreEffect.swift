/// Work the core asks of the world that answers back (a store read or write, a password check): the core returns it
/// in its ``Outbox`` as ``Outbox/Action/effect(_:)``, the server runs it, and the result comes back into the core
/// through the function the effect names. The session it answers keeps its place meanwhile: its later replies wait.
///
/// A new store-backed command is its request type conforming here with the core's handlers beside it, the server's
/// `ServerEffect` conformance that runs it, and its tests: nothing else changes (see docs/ARCHITECTURE.md).
public protocol CoreEffect: Sendable {
    /// The session whose replies wait for this effect's result.
    var session: SessionID { get }
}

/// Any effect, comparable by value (the core's output is compared in tests).
public struct AnyEffect: Sendable, Equatable {
    public let base: any CoreEffect
    private let equals: @Sendable (any CoreEffect) -> Bool

    public init<Effect: CoreEffect & Equatable>(_ base: Effect) {
        self.base = base
        self.equals = { ($0 as? Effect) == base }
    }

    public static func == (lhs: AnyEffect, rhs: AnyEffect) -> Bool {
        lhs.equals(rhs.base)
    }
}
