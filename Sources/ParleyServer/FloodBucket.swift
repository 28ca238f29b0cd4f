import NIOCore

/// Flood control for one connection, as plain state: a token bucket (a burst, then a steady rate) and whether reading
/// is paused until the next token is due.
struct FloodBucket {
    /// What ``take(now:burst:rate:)`` decided.
    enum Outcome: Equatable {
        case granted
        /// No token: pause reading and try again after this long.
        case wait(TimeAmount)
    }

    private var tokens: Double
    private var lastRefill: NIODeadline
    /// Reading is paused until the wait ``take(now:burst:rate:)`` gave has passed (``resume()``).
    private(set) var isThrottled = false

    init(burst: Int, now: NIODeadline) {
        self.tokens = Double(burst)
        self.lastRefill = now
    }

    /// Takes `cost` tokens (a line inside a multiline batch costs a fraction of one: the batch is one message).
    mutating func take(now: NIODeadline, burst: Int, rate: Double, cost: Double = 1) -> Outcome {
        let elapsed = Double((now - self.lastRefill).nanoseconds) / 1e9
        self.lastRefill = now
        self.tokens = min(Double(burst), self.tokens + elapsed * rate)
        if self.tokens >= cost {
            self.tokens -= cost
            return .granted
        }
        self.isThrottled = true
        return .wait(.nanoseconds(Int64((cost - self.tokens) / rate * 1e9)))
    }

    mutating func resume() {
        self.isThrottled = false
    }
}
