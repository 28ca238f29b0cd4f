import NIOConcurrencyHelpers
import ServiceLifecycleTestKit
import Testing

@testable import ParleyServer

/// The effect owners' inbox: order, width, and what a shutdown does with what is queued.
struct EffectQueueTests {
    /// A gate jobs wait at until the test opens it.
    final class Gate: Sendable {
        private let open = NIOLockedValueBox(false)
        private let waiters = ConditionWaiters()
        func pass() async {
            _ = await self.waiters.wait(until: { self.open.withLockedValue { $0 } }, timeout: .seconds(60))
        }
        func release() {
            self.open.withLockedValue { $0 = true }
            self.waiters.signal()
        }
    }

    final class Log: Sendable {
        let entries = NIOLockedValueBox<[String]>([])
        let running = NIOLockedValueBox(0)
        let mostAtOnce = NIOLockedValueBox(0)
        let changed = ConditionWaiters()
        func add(_ entry: String) {
            self.entries.withLockedValue { $0.append(entry) }
            self.changed.signal()
        }
        func waitFor(_ count: Int) async -> Bool {
            await self.changed.wait(
                until: { self.entries.withLockedValue { $0.count } >= count },
                timeout: .seconds(60)
            )
        }
    }

    @Test func jobsStartInTheOrderQueuedAndNoMoreThanTheWidthRunAtOnce() async {
        let queue = EffectQueue("test", width: 2, clock: ShutdownClock(grace: .seconds(10)))
        let log = Log()
        let gate = Gate()
        for index in 0..<6 {
            queue.enqueue {
                log.add("start \(index)")
                let now = log.running.withLockedValue { running in
                    running += 1
                    return running
                }
                log.mostAtOnce.withLockedValue { $0 = max($0, now) }
                await gate.pass()
                log.running.withLockedValue { $0 -= 1 }
            }
        }
        #expect(await log.waitFor(2))
        // Two run, waiting at the gate; the other four wait their turn.
        #expect(log.entries.withLockedValue { $0.count } == 2)
        #expect(queue.count == 6)
        gate.release()
        #expect(await log.waitFor(6))
        let starts = log.entries.withLockedValue { $0 }
        // Each place takes the queue's next job, so starts follow the queue: 0 and 1 first, then 2…5 in order.
        #expect(Set(starts.prefix(2)) == ["start 0", "start 1"])
        #expect(Array(starts.dropFirst(2)) == ["start 2", "start 3", "start 4", "start 5"])
        #expect(log.mostAtOnce.withLockedValue { $0 } == 2)
    }

    @Test func aShutdownRefusesNewJobsAndWhatCouldNotStartBeforeItsDeadline() async {
        let clock = ShutdownClock(grace: .milliseconds(300))
        let queue = EffectQueue("test", width: 1, clock: clock)
        let log = Log()
        let gate = Gate()
        // A job that never ends before the deadline (a stalled store), and one queued behind it.
        queue.enqueue(
            .init(
                run: {
                    log.add("stuck started")
                    await gate.pass()
                },
                refuse: { log.add("stuck refused") }
            )
        )
        queue.enqueue(.init(run: { log.add("behind started") }, refuse: { log.add("behind refused") }))
        #expect(await log.waitFor(1))
        await testGracefulShutdown { trigger in
            clock.begin()
            trigger.triggerGracefulShutdown()
            await queue.run()
        }
        // The queue returned at the deadline: the job behind the stuck one was refused, not left waiting.
        #expect(log.entries.withLockedValue { $0 } == ["stuck started", "behind refused"])
        queue.enqueue(.init(run: { log.add("late started") }, refuse: { log.add("late refused") }))
        #expect(log.entries.withLockedValue { $0.last } == "late refused")
        gate.release()
    }

    @Test func aShutdownLetsQueuedJobsFinishWithinTheGraceTime() async {
        let queue = EffectQueue("test", width: 1, clock: ShutdownClock(grace: .seconds(30)))
        let log = Log()
        let gate = Gate()
        queue.enqueue {
            await gate.pass()
            log.add("first")
        }
        queue.enqueue { log.add("second") }
        await testGracefulShutdown { trigger in
            trigger.triggerGracefulShutdown()
            async let stopped: Void = queue.run()
            gate.release()
            await stopped
        }
        #expect(log.entries.withLockedValue { $0 } == ["first", "second"])
    }
}
