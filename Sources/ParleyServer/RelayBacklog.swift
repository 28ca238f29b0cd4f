import ParleyStore

/// The cluster events the feed has handed over and the relay has not handled yet. Notifications of new messages that
/// arrive one after another are merged into one, so a relay that fell behind catches up every target that moved in
/// one read instead of one read per notification. Other events keep their place: a nick claim or a node's departure
/// is handled after the messages notified before it and before those notified after it.
struct RelayBacklog: Sendable {
    private(set) var events: [ClusterEvent] = []

    mutating func add(_ event: ClusterEvent) {
        if case .newMessages(let heads) = event, case .newMessages(var merged)? = self.events.last {
            merged.merge(heads, uniquingKeysWith: max)
            self.events[self.events.count - 1] = .newMessages(merged)
        } else {
            self.events.append(event)
        }
    }

    /// Everything added so far, in order; the backlog is empty afterwards.
    mutating func take() -> [ClusterEvent] {
        defer { self.events = [] }
        return self.events
    }
}
