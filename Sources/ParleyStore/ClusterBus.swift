/// What wakes a node of a cluster (see ``ClusterBus``).
public enum ClusterEvent: Sendable, Equatable {
    /// Listening (again): anything may have been missed before; catch up.
    case connected
    /// The connection that listens was lost; the feed is connecting again.
    case disconnected
    /// Each target named has messages up to the number given (one commit's targets, or several commits' merged).
    case newMessages([String: Int64])
    /// Messages one commit stored, carried in the notification itself (those that fit): a node that has seen
    /// everything before them needs no read.
    case carried([NumberedMessage])
    /// Node `node` claimed nick `nick` (folded), shown as `display`.
    case nickClaimed(node: String, nick: String, display: String)
    /// Node `node` gave nick `nick` (folded) back.
    case nickReleased(node: String, nick: String)
    /// Node `node` left (`lost` false) or its lease ran out; its nicks are free.
    case nodeGone(String, lost: Bool)
    /// Node `node` passed on `line`, a message that is not stored (a typing notice), as an IRC line.
    case signal(node: String, line: String)
}

/// A message with its number in its target's log.
public struct NumberedMessage: Sendable, Equatable {
    public var number: Int64
    public var message: StoredMessage

    public init(number: Int64, message: StoredMessage) {
        self.number = number
        self.message = message
    }
}

/// A nick claimed in the cluster.
public struct ClusterNick: Sendable, Equatable {
    /// Folded (the unique key).
    public var nick: String
    public var display: String
    /// The node whose user has it.
    public var node: String

    public init(nick: String, display: String, node: String) {
        self.nick = nick
        self.display = display
        self.node = node
    }
}

/// The longest line ``ClusterBus/signal(_:)`` passes on: PostgreSQL's NOTIFY payloads end at 8,000 bytes.
public let signalLimit = 7_900

/// How the nodes of a cluster hear of each other's messages: every stored message is numbered within its target in
/// commit order, and a commit wakes the other nodes. Implemented on PostgreSQL (`PostgresClusterBus`).
public protocol ClusterBus: Sendable {
    /// This node's name, unique in the cluster; its message ids start with it.
    var nodeID: String { get }
    /// Hands every event to `handle`, in order, until the task is cancelled; reconnects by itself.
    func listen(_ handle: @escaping @Sendable (ClusterEvent) async -> Void) async
    /// Every target's head (the number of its newest message).
    func heads() async throws -> [String: Int64]
    /// Up to `limit` messages of each target numbered after the number given for it, in the order they were stored
    /// (one round trip for any number of targets).
    func messages(
        after numbers: [String: Int64],
        limit: Int
    ) async throws
        -> [(number: Int64, message: StoredMessage)]
    /// Says this node is alive for `lease` from now; `false` when the cluster had given it up.
    func renewLease(_ lease: Duration) async throws -> Bool
    /// The nodes holding a lease that has not run out, each with the address its users may reconnect to (`HOST
    /// PORT`, empty when it gave none).
    func liveNodes() async throws -> [String: String]
    /// Leaves the cluster (a clean shutdown).
    func leave() async throws
    /// Says which run of this node is alive (`NODE.RUN`, the start of its message ids).
    func announce(run: String) async throws
    /// The runs of the nodes alive.
    func liveRuns() async throws -> Set<String>
    /// The channel events of `targets` up to their heads, in order within each target.
    func channelEvents(upTo heads: [String: Int64]) async throws -> [StoredMessage]
    /// Every nick claimed in the cluster (read after each (re)connection; events keep it current).
    func nicks() async throws -> [ClusterNick]
    /// Claims nick `folded` (shown as `display`) for this node; `false` when another node holds it, or when
    /// `respectingHolds` and it is held for its owner.
    func claimNick(_ folded: String, display: String, respectingHolds: Bool) async throws -> Bool
    /// Holds the registered nick `folded` for its owner for `seconds`, on every node.
    func holdNick(_ folded: String, forSeconds seconds: Int64) async throws
    /// Gives nick `folded` back.
    func releaseNick(_ folded: String) async throws
    /// Passes `line` (an IRC line of at most ``signalLimit`` bytes) to the other nodes without storing it: at most
    /// once, to the nodes listening at that moment.
    func signal(_ line: String) async throws
    /// Removes the nodes whose lease ran out, with their nick claims; returns their ids.
    func removeLostNodes() async throws -> [String]
    /// Joins again after the cluster gave this node up (its lease had run out) as run `run`, claiming `nicks`
    /// (folded to display) again; returns the folded nicks another node took meanwhile.
    func rejoin(lease: Duration, run: String, nicks: [String: String]) async throws -> [String]
}
