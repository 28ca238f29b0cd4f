import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore
import Prometheus

/// How a client reached the server, for metrics and for the `secure` flag of its session.
enum Transport: String, CaseIterable, Sendable {
    case irc
    case ircTLS = "irc+tls"
    case websocket
    case websocketTLS = "websocket+tls"

    var isSecure: Bool { self == .ircTLS || self == .websocketTLS }
}

/// Counts one event loop keeps without locks; `/metrics` collects them on each loop and adds what changed.
struct LoopCounters: Sendable {
    var linesReceived = 0
    var messagesDelivered = 0
    var bytesIn = 0
    var bytesOut = 0
    var sendQDisconnects = 0
    var floodHits = 0
    var connections: [Transport: Int] = [:]

    static func + (left: LoopCounters, right: LoopCounters) -> LoopCounters {
        var sum = left
        sum.linesReceived += right.linesReceived
        sum.messagesDelivered += right.messagesDelivered
        sum.bytesIn += right.bytesIn
        sum.bytesOut += right.bytesOut
        sum.sendQDisconnects += right.sendQDisconnects
        sum.floodHits += right.floodHits
        sum.connections.merge(right.connections, uniquingKeysWith: +)
        return sum
    }
}

/// The server's Prometheus metrics, made through swift-metrics with a registry of this server's own (so several
/// servers in one process, as in the tests, keep separate counts).
///
/// Nothing here is touched per message: loops count in ``LoopCounters`` and a scrape adds the difference.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let connections: [Transport: CoreMetrics.Meter]
    private let registeredClients: Meter
    private let channels: Meter
    private let linesReceived: CoreMetrics.Counter
    private let messagesDelivered: CoreMetrics.Counter
    private let bytesIn: CoreMetrics.Counter
    private let bytesOut: CoreMetrics.Counter
    private let sendQDisconnects: CoreMetrics.Counter
    private let floodHits: CoreMetrics.Counter
    private let historyBatchSize: Recorder
    private let historyCommit: Timer
    private let loopLag: Timer
    private let reported = NIOLockedValueBox(LoopCounters())
    private let clusterNodes: Meter
    private let clusterRelayed: CoreMetrics.Counter
    private let clusterReads: CoreMetrics.Counter
    private let clusterLag: Timer

    init() {
        var factory = PrometheusMetricsFactory(registry: self.registry)
        factory.valueHistogramBuckets["parley_history_batch_messages"] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
        let small: [Duration] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        factory.durationHistogramBuckets["parley_history_commit_seconds"] = small
        factory.durationHistogramBuckets["parley_event_loop_lag_seconds"] = small
        factory.durationHistogramBuckets["parley_cluster_notify_lag_seconds"] = small
        var connections: [Transport: CoreMetrics.Meter] = [:]
        for transport in Transport.allCases {
            connections[transport] = CoreMetrics.Meter(
                label: "parley_connections",
                dimensions: [("transport", transport.rawValue)],
                factory: factory
            )
        }
        self.connections = connections
        self.registeredClients = CoreMetrics.Meter(label: "parley_registered_clients", factory: factory)
        self.channels = CoreMetrics.Meter(label: "parley_channels", factory: factory)
        self.linesReceived = CoreMetrics.Counter(label: "parley_messages_received_total", factory: factory)
        self.messagesDelivered = CoreMetrics.Counter(label: "parley_messages_delivered_total", factory: factory)
        self.bytesIn = CoreMetrics.Counter(label: "parley_bytes_received_total", factory: factory)
        self.bytesOut = CoreMetrics.Counter(label: "parley_bytes_sent_total", factory: factory)
        self.sendQDisconnects = CoreMetrics.Counter(label: "parley_sendq_disconnects_total", factory: factory)
        self.floodHits = CoreMetrics.Counter(label: "parley_flood_control_hits_total", factory: factory)
        self.historyBatchSize = CoreMetrics.Recorder(label: "parley_history_batch_messages", factory: factory)
        self.historyCommit = CoreMetrics.Timer(label: "parley_history_commit_seconds", factory: factory)
        self.loopLag = CoreMetrics.Timer(label: "parley_event_loop_lag_seconds", factory: factory)
        self.clusterNodes = CoreMetrics.Meter(label: "parley_cluster_nodes", factory: factory)
        self.clusterRelayed = CoreMetrics.Counter(label: "parley_cluster_relayed_messages_total", factory: factory)
        self.clusterReads = CoreMetrics.Counter(label: "parley_cluster_catchup_reads_total", factory: factory)
        self.clusterLag = CoreMetrics.Timer(label: "parley_cluster_notify_lag_seconds", factory: factory)
    }

    /// Cluster mode: how many nodes hold a live lease (as this node last read it).
    func clusterNodesAlive(_ count: Int) { self.clusterNodes.set(count) }

    /// Cluster mode: one read of another node's new messages, and the messages relayed from it with their lag
    /// (from the sender's server time to now, in milliseconds).
    /// Records messages from the cluster's log handed to the core: read from the database (`read`), or carried in a
    /// notification.
    func clusterRelayed(_ relayed: Int, lagsMilliseconds: [Int64], read: Bool) {
        if read { self.clusterReads.increment() }
        if relayed > 0 { self.clusterRelayed.increment(by: relayed) }
        for lag in lagsMilliseconds { self.clusterLag.recordNanoseconds(max(lag, 0) * 1_000_000) }
    }

    /// Records one committed history batch.
    func historyCommitted(messages: Int, duration: Duration) {
        self.historyBatchSize.record(messages)
        self.historyCommit.recordNanoseconds(
            Int64(duration.components.seconds) * 1_000_000_000
                + duration.components.attoseconds / 1_000_000_000
        )
    }

    /// Records how late a loop ran a task it had scheduled.
    func loopLagged(nanoseconds: Int64) {
        self.loopLag.recordNanoseconds(max(0, nanoseconds))
    }

    /// Brings the exported values up to `totals` (summed over loops) and the core's sizes, then renders them.
    ///
    /// One scrape at a time: two interleaved scrapes could otherwise report an older total after a newer one.
    func render(totals: LoopCounters, registeredClients: Int, channels: Int) -> [UInt8] {
        self.reported.withLockedValue { reported in
            func add(_ counter: CoreMetrics.Counter, _ path: WritableKeyPath<LoopCounters, Int>) {
                let delta = totals[keyPath: path] - reported[keyPath: path]
                if delta > 0 {
                    counter.increment(by: delta)
                    reported[keyPath: path] = totals[keyPath: path]
                }
            }
            add(self.linesReceived, \.linesReceived)
            add(self.messagesDelivered, \.messagesDelivered)
            add(self.bytesIn, \.bytesIn)
            add(self.bytesOut, \.bytesOut)
            add(self.sendQDisconnects, \.sendQDisconnects)
            add(self.floodHits, \.floodHits)
            for (transport, meter) in self.connections {
                meter.set(totals.connections[transport] ?? 0)
            }
            self.registeredClients.set(registeredClients)
            self.channels.set(channels)
            return self.registry.emitToBuffer()
        }
    }
}
