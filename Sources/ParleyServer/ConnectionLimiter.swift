import NIOConcurrencyHelpers

/// Counts open connections in total and per address, shared by all event loops.
final class ConnectionLimiter: Sendable {
    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }
    private let counts = NIOLockedValueBox(Counts())
    let maximum: Int
    let maximumPerAddress: Int

    init(maximum: Int, maximumPerAddress: Int) {
        self.maximum = maximum
        self.maximumPerAddress = maximumPerAddress
    }

    /// Takes a slot for `address`, or says why not.
    func acquire(_ address: String) -> String? {
        self.counts.withLockedValue { counts in
            if counts.total >= self.maximum { return "Too many connections to this server" }
            if counts.perAddress[address, default: 0] >= self.maximumPerAddress {
                return "Too many connections from your address"
            }
            counts.total += 1
            counts.perAddress[address, default: 0] += 1
            return nil
        }
    }

    func release(_ address: String) {
        self.counts.withLockedValue { counts in
            counts.total -= 1
            let remaining = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = remaining > 0 ? remaining : nil
        }
    }

    var total: Int { self.counts.withLockedValue { $0.total } }
}
