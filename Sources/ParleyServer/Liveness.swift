import NIOCore

/// Whether a connection is alive, as plain state: registering (with a deadline), heard from recently, or sent a PING
/// it has not answered. The loop's sweep asks it what to do.
struct Liveness: Equatable {
    enum State: Equatable {
        case registering(since: NIODeadline, heard: NIODeadline)
        case active(heard: NIODeadline)
        case pinged(heard: NIODeadline, at: NIODeadline)
    }

    /// What the sweep should do.
    enum Action: Equatable {
        case none
        /// Registration took longer than allowed: close unless the core registered it without a line from the client
        /// (then call ``registered()`` and sweep again).
        case checkRegistration
        case sendPing
        case timeOut(silentFor: TimeAmount)
    }

    private(set) var state: State

    init(connectedAt: NIODeadline) {
        self.state = .registering(since: connectedAt, heard: connectedAt)
    }

    var isRegistered: Bool {
        if case .registering = self.state { return false }
        return true
    }

    /// Any bytes from the client: an outstanding PING counts as answered.
    mutating func heard(at now: NIODeadline) {
        switch self.state {
        case .registering(let since, _): self.state = .registering(since: since, heard: now)
        case .active, .pinged: self.state = .active(heard: now)
        }
    }

    mutating func registered() {
        if case .registering(_, let heard) = self.state { self.state = .active(heard: heard) }
    }

    /// How long registration may take, how long a quiet client goes before a PING, and how long a PING may go
    /// unanswered.
    struct Limits {
        var registration: TimeAmount
        var pingInterval: TimeAmount
        var pingTimeout: TimeAmount
    }

    mutating func sweep(now: NIODeadline, limits: Limits) -> Action {
        switch self.state {
        case .registering(let since, _):
            return now - since > limits.registration ? .checkRegistration : .none
        case .active(let heard):
            guard now - heard > limits.pingInterval else { return .none }
            self.state = .pinged(heard: heard, at: now)
            return .sendPing
        case .pinged(let heard, let sentAt):
            return now - sentAt > limits.pingTimeout ? .timeOut(silentFor: now - heard) : .none
        }
    }
}
