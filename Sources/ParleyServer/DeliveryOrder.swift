import ParleyCore

/// Which output of the core may leave now and which must wait, as a plain value (no locks, no I/O).
///
/// The rules (DESIGN.md, "Ordering"): each client's replies leave in the order of its commands; a message leaves only
/// once it is committed, and what happens to one history target (a channel, a conversation) leaves in order. Nothing
/// else waits. Each handled event's output is admitted with the keys it must be ordered by (the session that caused it,
/// the targets it stores to); it waits only for earlier groups that share one of its keys. A PING answered while
/// another user's message waits for a stalled store therefore leaves at once.
///
/// A group is one of two kinds. Work is carried out once it is committed (or at once when nothing is stored) and
/// every group it follows is done. An effect (a history query, a password check, an account change) is started once
/// the groups it follows are done, and keeps its place until its result is ``complete(_:with:committed:)``d: the
/// replies of a client's later commands wait for it.
struct DeliveryOrder<Payload> {
    /// What groups are ordered by.
    enum Key: Hashable {
        case session(SessionID)
        /// A history target's storage key.
        case target(String)
    }

    /// What to do with a group whose turn has come.
    enum Step {
        case carryOut(UInt64, Payload)
        case start(UInt64, Payload)
    }

    fileprivate enum Phase {
        /// Work waiting for its commit.
        case committing
        /// Work that may be carried out once it follows nothing.
        case ready
        /// Work handed out by ``next()``, not yet ``finished(_:)``.
        case carrying
        /// An effect not started yet.
        case effect
        /// An effect started, waiting for its result.
        case running
    }

    fileprivate struct Group {
        var payload: Payload
        var phase: Phase
        let keys: [Key]
        /// How many earlier groups this one still follows.
        var following: Int
        var followers: [UInt64] = []
    }

    private var groups: [UInt64: Group] = [:]
    /// The latest group admitted under each key that is not finished.
    private var latest: [Key: UInt64] = [:]
    /// Groups whose turn has come, not yet handed out.
    private var due: [UInt64] = []
    private var nextID: UInt64 = 0

    /// How many groups are held (waiting, running or being carried out).
    var count: Int { self.groups.count }
    var isEmpty: Bool { self.groups.isEmpty }

    /// Admits work; returns `nil` when it may be carried out at once (nothing to commit, nothing it follows held),
    /// else the id to ``committed(_:)`` it by. Work that comes back `nil` is not held: it does not order later groups.
    mutating func admit(work payload: Payload, keys: [Key], committing: Bool) -> UInt64? {
        if !committing && !keys.contains(where: { self.latest[$0] != nil }) { return nil }
        return self.insert(payload, keys: keys, phase: committing ? .committing : .ready)
    }

    /// Admits an effect; it comes out of ``next()`` as `.start` when it follows nothing.
    mutating func admit(effect payload: Payload, keys: [Key]) -> UInt64 {
        self.insert(payload, keys: keys, phase: .effect)
    }

    /// Work's commit is done; `update` may change its payload (to say the commit failed).
    mutating func committed(_ id: UInt64, _ update: (inout Payload) -> Void = { _ in }) {
        guard var group = self.groups[id], case .committing = group.phase else { return }
        update(&group.payload)
        group.phase = .ready
        self.groups[id] = group
        if group.following == 0 { self.due.append(id) }
    }

    /// An effect's result is in, as `payload`: it becomes work in the effect's place, carried out when `committed` (or
    /// once ``committed(_:_:)`` when the result itself stores something).
    mutating func complete(_ id: UInt64, with payload: Payload, committed: Bool) {
        guard var group = self.groups[id], case .running = group.phase else { return }
        group.payload = payload
        group.phase = committed ? .ready : .committing
        self.groups[id] = group
        if committed { self.due.append(id) }  // a running effect already follows nothing
    }

    /// The next group whose turn has come, oldest first. Work stays held (later groups still follow it) until
    /// ``finished(_:)``; an effect until its result is complete and carried out.
    mutating func next() -> Step? {
        guard let index = self.due.indices.min(by: { self.due[$0] < self.due[$1] }) else { return nil }
        let id = self.due.remove(at: index)
        guard var group = self.groups[id] else { return nil }
        switch group.phase {
        case .ready:
            group.phase = .carrying
            self.groups[id] = group
            return .carryOut(id, group.payload)
        case .effect:
            group.phase = .running
            self.groups[id] = group
            return .start(id, group.payload)
        case .committing, .carrying, .running:
            preconditionFailure("a group is due only when ready or an unstarted effect")
        }
    }

    /// Every group whose turn has come, oldest first (as ``next()`` would hand them out one by one). No two of them
    /// share a key: a group is due only when no earlier group with one of its keys is held.
    mutating func allDue() -> [Step] {
        var steps: [Step] = []
        while let step = self.next() { steps.append(step) }
        return steps
    }

    /// Work handed out by ``next()`` has been carried out: the groups that followed it may go.
    mutating func finished(_ id: UInt64) {
        guard let group = self.groups.removeValue(forKey: id) else { return }
        for key in group.keys where self.latest[key] == id { self.latest[key] = nil }
        for follower in group.followers {
            guard var next = self.groups[follower] else { continue }
            next.following -= 1
            self.groups[follower] = next
            if next.following == 0 {
                switch next.phase {
                case .ready, .effect: self.due.append(follower)
                case .committing, .carrying, .running: break
                }
            }
        }
    }

    /// Forgets every held group and returns their payloads, oldest first (shutdown giving up on a stalled store).
    mutating func removeAll() -> [Payload] {
        let payloads = self.groups.sorted { $0.key < $1.key }.map(\.value.payload)
        self = DeliveryOrder()
        return payloads
    }

    private mutating func insert(_ payload: Payload, keys: [Key], phase: Phase) -> UInt64 {
        let id = self.nextID
        self.nextID += 1
        var leaders: [UInt64] = []
        for key in keys {
            if let leader = self.latest[key], leader != id, !leaders.contains(leader) { leaders.append(leader) }
            self.latest[key] = id
        }
        for leader in leaders { self.groups[leader]?.followers.append(id) }
        self.groups[id] = Group(payload: payload, phase: phase, keys: keys, following: leaders.count)
        if leaders.isEmpty {
            switch phase {
            case .ready, .effect: self.due.append(id)
            case .committing, .carrying, .running: break
            }
        }
        return id
    }
}

extension DeliveryOrder: Sendable where Payload: Sendable {}
extension DeliveryOrder.Group: Sendable where Payload: Sendable {}
