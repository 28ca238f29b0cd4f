import NIOConcurrencyHelpers
import Testing

@testable import ParleyServer

/// What start and shutdown wait with instead of polling: a signal wakes waiters whose condition now holds; a timeout
/// ends the wait with the condition's answer.
@Suite struct ConditionWaitersTests {
    @Test func aSignalAfterTheConditionChangedEndsTheWait() async {
        let waiters = ConditionWaiters()
        let flag = NIOLockedValueBox(false)
        async let held = waiters.wait(until: { flag.withLockedValue { $0 } }, timeout: .seconds(60))
        try? await Task.sleep(for: .milliseconds(20))
        flag.withLockedValue { $0 = true }
        waiters.signal()
        #expect(await held)
    }

    @Test func theWaitEndsAtItsTimeoutWhenTheConditionNeverHolds() async {
        let waiters = ConditionWaiters()
        let clock = ContinuousClock()
        let started = clock.now
        let held = await waiters.wait(until: { false }, timeout: .milliseconds(50))
        #expect(!held)
        #expect(clock.now - started >= .milliseconds(50))
    }

    @Test func aConditionThatAlreadyHoldsReturnsAtOnceAndSignalsWithoutWaitersAreHarmless() async {
        let waiters = ConditionWaiters()
        waiters.signal()
        #expect(await waiters.wait(until: { true }, timeout: .seconds(60)))
    }

    /// The race that matters: the condition becomes true and is signalled right after the waiter checked it and
    /// before it sleeps (here the check itself signals). The waiter must not sleep through that signal: it would be
    /// ended only by its timeout, after the watchdog below has switched the condition off, and report false.
    @Test func aSignalBetweenTheCheckAndTheSleepIsNotLost() async {
        let waiters = ConditionWaiters()
        let checks = NIOLockedValueBox(0)
        let expired = NIOLockedValueBox(false)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(10))
            expired.withLockedValue { $0 = true }
        }
        let held = await waiters.wait(
            until: {
                let check = checks.withLockedValue { count in
                    count += 1
                    return count
                }
                // 1: the check before waiting at all; 2: the check in the loop, then the signal it must not miss.
                if check == 2 { waiters.signal() }
                return check >= 3 && !expired.withLockedValue { $0 }
            },
            timeout: .seconds(60)
        )
        watchdog.cancel()
        #expect(held)
        #expect(checks.withLockedValue { $0 } == 3)
    }
}
