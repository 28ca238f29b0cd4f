import Logging
import ParleyCore
import ParleyStore

/// Carries out a cluster node's nick claims and releases one at a time, in the order the core asked for them: a
/// release followed by a claim of the same nick must reach the database in that order, or the claim would find the
/// node's own row and the release would then delete it from under the new holder.
final class ClusterNickQueue: Sendable {
    enum Operation: Sendable {
        case claim(SessionID, nick: String, folded: String, respectingHolds: Bool)
        case release(folded: String)
        /// Hold a registered nick for its owner, on every node.
        case hold(folded: String, seconds: Int64)
        /// The cluster gave this node up: join again and claim these nicks (folded to display) again.
        case rejoin(lease: Duration, run: String, nicks: [String: String])
    }

    /// One operation that gets no answer in this long is given up (a claim is then refused as unavailable), so that
    /// a lost query cannot hold up every later claim of the node.
    static let deadline = Duration.seconds(10)

    private let stream: AsyncStream<Operation>
    private let continuation: AsyncStream<Operation>.Continuation
    let bus: any ClusterBus
    let logger: Logger

    init(bus: any ClusterBus, logger: Logger) {
        (self.stream, self.continuation) = AsyncStream.makeStream(of: Operation.self)
        self.bus = bus
        self.logger = logger
    }

    /// Queues `operation`; callers queue under the core's lock, so the queue's order is the core's.
    func enqueue(_ operation: Operation) {
        self.continuation.yield(operation)
    }

    /// Carries out the queue until ``finish()``; `answer` gets each claim's outcome.
    func run(answer: @escaping @Sendable (SessionID, String, NickClaimAnswer) -> Void) async {
        for await operation in self.stream {
            switch operation {
            case .claim(let id, let nick, let folded, let respectingHolds):
                do {
                    let granted = try await withDeadline(Self.deadline) {
                        try await self.bus.claimNick(folded, display: nick, respectingHolds: respectingHolds)
                    }
                    answer(id, nick, granted ? .granted : .taken)
                } catch {
                    self.logger.warning("cluster: cannot claim a nick: \(error)")
                    answer(id, nick, .unavailable)
                }
            case .hold(let folded, let seconds):
                do {
                    try await withDeadline(Self.deadline) { try await self.bus.holdNick(folded, forSeconds: seconds) }
                } catch {
                    // This node still holds it for the owner; another node might let someone take it meanwhile.
                    self.logger.warning("cluster: cannot hold nick \(folded) for its owner: \(error)")
                }
            case .release(let folded):
                do {
                    try await withDeadline(Self.deadline) { try await self.bus.releaseNick(folded) }
                } catch {
                    // The claim stays until this node leaves or is lost; the nick is refused elsewhere meanwhile.
                    self.logger.warning("cluster: cannot give back nick \(folded): \(error)")
                }
            case .rejoin(let lease, let run, let nicks):
                do {
                    let lost = try await withDeadline(Self.deadline) {
                        try await self.bus.rejoin(lease: lease, run: run, nicks: nicks)
                    }
                    self.logger.error(
                        "cluster: this node's lease had run out; it joined again",
                        metadata: ["parley.cluster.nicks_taken_meanwhile": "\(lost)"]
                    )
                } catch {
                    self.logger.error("cluster: cannot join again: \(error)")
                }
            }
        }
    }

    /// Ends the queue once what is queued has been carried out.
    func finish() {
        self.continuation.finish()
    }
}
