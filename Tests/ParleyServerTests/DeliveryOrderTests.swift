import ParleyCore
import Testing

@testable import ParleyServer

/// The ordering rules as a plain value: what leaves when, without NIO.
@Suite struct DeliveryOrderTests {
    typealias Order = DeliveryOrder<String>
    let alice = Order.Key.session(SessionID(1))
    let bob = Order.Key.session(SessionID(2))
    let channel = Order.Key.target("#a")

    /// Drains what is due, carrying work out (finished at once) and collecting started effects.
    func drain(_ order: inout Order) -> (carried: [String], started: [(UInt64, String)]) {
        var carried: [String] = []
        var started: [(UInt64, String)] = []
        while let step = order.next() {
            switch step {
            case .carryOut(let id, let payload):
                carried.append(payload)
                order.finished(id)
            case .start(let id, let payload):
                started.append((id, payload))
            }
        }
        return (carried, started)
    }

    @Test func workWithNothingHeldLeavesAtOnce() {
        var order = Order()
        #expect(order.admit(work: "pong", keys: [alice], committing: false) == nil)
        #expect(order.isEmpty)
    }

    @Test func aMessageWaitingForItsCommitHoldsItsSenderAndTargetButNotOthers() {
        var order = Order()
        let message = order.admit(work: "alice to #a", keys: [alice, channel], committing: true)
        #expect(message != nil)
        let alicePong = order.admit(work: "pong alice", keys: [alice], committing: false)
        #expect(alicePong != nil)
        let bobMessage = order.admit(work: "bob to #a", keys: [bob, channel], committing: false)
        #expect(bobMessage != nil)
        #expect(drain(&order).carried.isEmpty)
        order.committed(message!)
        #expect(drain(&order).carried == ["alice to #a", "pong alice", "bob to #a"])
        #expect(order.isEmpty)
    }

    @Test func anotherUsersPingIsNotHeldBehindAStalledCommit() {
        var order = Order()
        _ = order.admit(work: "alice to #a", keys: [alice, channel], committing: true)
        #expect(order.admit(work: "pong bob", keys: [bob], committing: false) == nil)
        #expect(order.count == 1)
    }

    @Test func laterCommitsToOneTargetWaitForEarlierOnes() {
        var order = Order()
        let first = order.admit(work: "alice to #a", keys: [alice, channel], committing: true)!
        let second = order.admit(work: "bob to #a", keys: [bob, channel], committing: true)!
        order.committed(second)
        #expect(drain(&order).carried.isEmpty)
        order.committed(first)
        #expect(drain(&order).carried == ["alice to #a", "bob to #a"])
    }

    @Test func aFailedCommitCanChangeWhatIsCarriedOut() {
        var order = Order()
        let id = order.admit(work: "echo", keys: [alice], committing: true)!
        order.committed(id) { $0 = "FAIL" }
        #expect(drain(&order).carried == ["FAIL"])
    }

    @Test func anEffectHoldsItsSessionsLaterRepliesUntilItsResultIsCarriedOut() {
        var order = Order()
        let effect = order.admit(effect: "check password", keys: [alice])
        let pong = order.admit(work: "pong", keys: [alice], committing: false)
        #expect(pong != nil)
        let first = drain(&order)
        #expect(first.carried.isEmpty)
        #expect(first.started.map(\.1) == ["check password"])
        #expect(first.started.first?.0 == effect)
        order.complete(effect, with: "381", committed: true)
        #expect(drain(&order).carried == ["381", "pong"])
        #expect(order.isEmpty)
    }

    @Test func aKeyNamedTwiceIsOneKey() {
        var order = Order()
        let effect = order.admit(effect: "check password", keys: [alice, alice])
        #expect(drain(&order).started.map(\.0) == [effect])
    }

    @Test func anEffectStartsOnlyAfterTheWorkItFollows() {
        var order = Order()
        let message = order.admit(work: "alice to #a", keys: [alice, channel], committing: true)!
        let effect = order.admit(effect: "history of #a", keys: [alice])
        #expect(drain(&order).started.isEmpty)
        order.committed(message)
        let next = drain(&order)
        #expect(next.carried == ["alice to #a"])
        #expect(next.started.map(\.0) == [effect])
    }

    @Test func anEffectWhoseResultStoresSomethingWaitsForThatCommit() {
        var order = Order()
        let effect = order.admit(effect: "login", keys: [alice])
        _ = drain(&order)
        order.complete(effect, with: "900", committed: false)
        #expect(drain(&order).carried.isEmpty)
        order.committed(effect)
        #expect(drain(&order).carried == ["900"])
    }

    @Test func workBeingCarriedOutStillHoldsWhatFollowsIt() {
        var order = Order()
        let first = order.admit(work: "first", keys: [alice], committing: true)!
        order.committed(first)
        guard case .carryOut(let id, _) = order.next() else {
            Issue.record("the committed work is due")
            return
        }
        // Another thread handles alice's next command while the first group is being written.
        let second = order.admit(work: "second", keys: [alice], committing: false)
        #expect(second != nil)
        #expect(order.next() == nil)
        order.finished(id)
        #expect(drain(&order).carried == ["second"])
    }
}
