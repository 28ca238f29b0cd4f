import Histogram

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the clients on one event loop measured. Touched only on that loop (wrapped in `NIOLoopBound`), so the
/// hot path takes no lock; the coordinator reads it by submitting work to the loop.
final class LoopStats {
    /// Delivery latency in microseconds, recorded while `recording` is on.
    var latency = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    var recording = false
    /// Deliveries seen while recording.
    var recordedDeliveries = 0
    /// Every delivery since the clients connected (for loss accounting).
    var totalDeliveries = 0
    var duplicates = 0
    var disconnects = 0

    func startRecording() {
        self.latency.reset()
        self.recordedDeliveries = 0
        self.recording = true
    }

    func snapshot() -> LoopSnapshot {
        LoopSnapshot(
            latency: self.latency,
            recordedDeliveries: self.recordedDeliveries,
            totalDeliveries: self.totalDeliveries,
            duplicates: self.duplicates,
            disconnects: self.disconnects
        )
    }
}

/// A copy of ``LoopStats`` taken on its loop.
struct LoopSnapshot: Sendable {
    var latency: Histogram<UInt64>
    var recordedDeliveries: Int
    var totalDeliveries: Int
    var duplicates: Int
    var disconnects: Int

    static func merged(_ snapshots: [LoopSnapshot]) -> LoopSnapshot {
        var total = LoopSnapshot(
            latency: Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three),
            recordedDeliveries: 0,
            totalDeliveries: 0,
            duplicates: 0,
            disconnects: 0
        )
        for snapshot in snapshots {
            total.latency.add(snapshot.latency)
            total.recordedDeliveries += snapshot.recordedDeliveries
            total.totalDeliveries += snapshot.totalDeliveries
            total.duplicates += snapshot.duplicates
            total.disconnects += snapshot.disconnects
        }
        return total
    }
}

/// Nanoseconds on the monotonic clock: send and receive times come from the same process, so they compare.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
