import NIOCore
import Testing

@testable import ParleyServer

/// What `SessionHandler` keeps per connection, as plain values: line cutting, flood control, liveness.
@Suite struct ConnectionStateTests {
    static func lines(_ framer: inout LineFramer, limit: Int = 32) -> [String] {
        var out: [String] = []
        while let cut = framer.next(limit: limit) {
            switch cut {
            case .line(let line): out.append(String(buffer: line))
            case .tooLong: out.append("<too long>")
            }
        }
        return out
    }

    static func feed(_ framer: inout LineFramer, _ text: String) {
        var bytes = ByteBuffer(string: text)
        framer.append(&bytes)
    }

    @Test func linesAreCutAtLineFeedsAcrossReadsAndLoseTheirCarriageReturn() {
        var framer = LineFramer()
        Self.feed(&framer, "NICK a\r\nUSER a 0 * :")
        #expect(Self.lines(&framer) == ["NICK a"])
        #expect(framer.pendingBytes == "USER a 0 * :".utf8.count)
        Self.feed(&framer, "A\nPING x\n\nPI")
        #expect(Self.lines(&framer) == ["USER a 0 * :A", "PING x", ""])
        #expect(framer.pendingBytes == 2)
    }

    @Test func anOverlongLineIsReportedOnceAndSkippedToItsEnd() {
        var framer = LineFramer()
        Self.feed(&framer, String(repeating: "x", count: 40))
        #expect(Self.lines(&framer) == ["<too long>"])
        #expect(framer.pendingBytes == 0)
        Self.feed(&framer, String(repeating: "y", count: 40))
        #expect(Self.lines(&framer) == [], "still the same line: not reported again")
        Self.feed(&framer, "yyy\nPING after\n")
        #expect(Self.lines(&framer) == ["PING after"], "the tail of the long line is skipped, the next line is read")
    }

    @Test func aLinePutBackComesOutAgainBeforeWhatFollowed() {
        var framer = LineFramer()
        Self.feed(&framer, "ONE\r\nTWO\nTHR")
        guard case .line(let first) = framer.next(limit: 32) else {
            Issue.record("no line")
            return
        }
        framer.putBack(first)
        Self.feed(&framer, "EE\n")
        #expect(Self.lines(&framer) == ["ONE", "TWO", "THREE"])
    }

    @Test func theFloodBucketGivesItsBurstThenWaitsForItsRate() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var bucket = FloodBucket(burst: 3, now: start)
        for _ in 0..<3 { #expect(bucket.take(now: start, burst: 3, rate: 2) == .granted) }
        #expect(!bucket.isThrottled)
        #expect(bucket.take(now: start, burst: 3, rate: 2) == .wait(.milliseconds(500)))
        #expect(bucket.isThrottled)
        bucket.resume()
        #expect(!bucket.isThrottled)
        // Half a second at 2 a second is one token; a long pause refills only up to the burst.
        #expect(bucket.take(now: start + .milliseconds(500), burst: 3, rate: 2) == .granted)
        let later = start + Self.seconds(60)
        for _ in 0..<3 { #expect(bucket.take(now: later, burst: 3, rate: 2) == .granted) }
        #expect(bucket.take(now: later, burst: 3, rate: 2) != .granted)
    }

    /// Whole seconds (the server's own `TimeAmount.seconds(Double)` makes a bare `.seconds(60)` ambiguous).

    /// A multiline batch of 100 lines fits in the default burst of 20: its lines cost an eighth of a line each.
    @Test func theLinesOfAClientBatchCostAFractionOfALine() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var bucket = FloodBucket(burst: 20, now: start)
        let lines = ["BATCH +b draft/multiline #c"] + Array(repeating: "@batch=b PRIVMSG #c :x", count: 100)
        let costs = lines.map { SessionHandler.isBatched(ByteBuffer(string: $0)) ? SessionHandler.batchedLineCost : 1 }
        #expect(costs.filter { $0 < 1 }.count == 100)
        #expect(costs.allSatisfy { bucket.take(now: start, burst: 20, rate: 4, cost: $0) == .granted })
        #expect(SessionHandler.isBatched(ByteBuffer(string: "@label=1;batch=b PRIVMSG #c x")))
        #expect(!SessionHandler.isBatched(ByteBuffer(string: "@label=nobatch=b PRIVMSG #c x")))
        #expect(!SessionHandler.isBatched(ByteBuffer(string: "PRIVMSG #c :@batch=b")))
    }
    static func seconds(_ value: Int64) -> TimeAmount { .nanoseconds(value * 1_000_000_000) }

    static let limits = Liveness.Limits(
        registration: Self.seconds(60),
        pingInterval: Self.seconds(120),
        pingTimeout: Self.seconds(30)
    )

    @Test func anUnregisteredConnectionIsCheckedOnlyPastItsRegistrationTime() {
        let start = NIODeadline.uptimeNanoseconds(0)
        var liveness = Liveness(connectedAt: start)
        liveness.heard(at: start + Self.seconds(59))
        #expect(liveness.sweep(now: start + Self.seconds(59), limits: Self.limits) == .none)
        // Talking does not extend registration, and no PING goes to a client that has not registered.
        #expect(liveness.sweep(now: start + Self.seconds(61), limits: Self.limits) == .checkRegistration)
        #expect(!liveness.isRegistered)
        liveness.registered()
        #expect(liveness.isRegistered)
        #expect(liveness.sweep(now: start + Self.seconds(61), limits: Self.limits) == .none)
    }

    @Test func aQuietClientIsPingedThenTimedOutUnlessItAnswers() {
        let start = NIODeadline.uptimeNanoseconds(0)
        var liveness = Liveness(connectedAt: start)
        liveness.registered()
        #expect(liveness.sweep(now: start + Self.seconds(120), limits: Self.limits) == .none)
        #expect(liveness.sweep(now: start + Self.seconds(121), limits: Self.limits) == .sendPing)
        #expect(
            liveness.sweep(now: start + Self.seconds(140), limits: Self.limits) == .none,
            "one PING, not one a sweep"
        )
        #expect(
            liveness.sweep(now: start + Self.seconds(152), limits: Self.limits)
                == .timeOut(silentFor: Self.seconds(152))
        )
        // Any bytes count as the answer.
        liveness.heard(at: start + Self.seconds(152))
        #expect(liveness.state == .active(heard: start + Self.seconds(152)))
        #expect(liveness.sweep(now: start + Self.seconds(200), limits: Self.limits) == .none)
    }
}
