import Logging
import NIOPosix
import ParleyStore
import PostgresNIO

/// Wakes a node when another node commits messages or claims or gives back a nick: PostgreSQL's LISTEN on a
/// connection of its own.
///
/// A notification says only which targets have a new head; the node reads what is new with
/// ``PostgresStore/messages(after:limit:)``. Notifications can be missed (the connection drops, the database
/// restarts): after every (re)connection the feed says ``Event/connected``, and the node catches up every target it
/// follows from the last number it saw. So nothing depends on a notification arriving.
public struct ClusterFeed: Sendable {
    public typealias Event = ClusterEvent

    public let url: PostgresURL
    /// How long to wait before connecting again after the connection is lost or refused.
    public var retryDelay: Duration

    public init(url: PostgresURL, retryDelay: Duration = .seconds(1)) {
        self.url = url
        self.retryDelay = retryDelay
    }

    /// Listens until the task is cancelled, handing every event to `handle` in order.
    public func run(logger: Logger = Logger(label: "parley.cluster"), _ handle: @Sendable (Event) async -> Void) async {
        while !Task.isCancelled {
            do {
                let connection = try await self.url.connect(id: 1, logger: logger)
                do {
                    try await connection.listen(on: PostgresSchema.messagesChannel) { notifications in
                        await handle(.connected)
                        for try await notification in notifications {
                            if let event = Self.event(notification.payload) { await handle(event) }
                        }
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("lost the notification connection: \(PostgresStore.describe(error))")
                        await handle(.disconnected)
                    }
                }
                try? await connection.close()
            } catch {
                logger.warning("cannot listen for notifications: \(PostgresStore.describe(error))")
            }
            try? await Task.sleep(for: self.retryDelay)
        }
    }

    /// `SEQUENCE TARGET[ SEQUENCE TARGET]…` as the append transaction sends it (targets hold no spaces), or `m …`
    /// with the messages themselves (``carried(_:)``); `+ NODE NICK
    /// DISPLAY`, `- NODE NICK`, `l NODE` and `x NODE` for nick claims, releases, nodes that left and nodes lost (node
    /// ids and nicks hold no spaces); `t NODE LINE` for a signal (the line may hold spaces).
    static func event(_ payload: String) -> Event? {
        guard let space = payload.firstIndex(of: " ") else { return nil }
        if Int64(payload[..<space]) != nil {
            let fields = payload.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count % 2 == 0 else { return nil }
            var heads: [String: Int64] = [:]
            for pair in stride(from: 0, to: fields.count, by: 2) {
                guard let head = Int64(fields[pair]), !fields[pair + 1].isEmpty else { return nil }
                heads[String(fields[pair + 1]), default: 0] = max(heads[String(fields[pair + 1]), default: 0], head)
            }
            return .newMessages(heads)
        }
        if payload.hasPrefix("m ") {
            return Self.carried(payload.dropFirst(2)).map { .carried($0) }
        }
        if payload.hasPrefix("t ") {
            let rest = payload[payload.index(after: space)...]
            guard let end = rest.firstIndex(of: " "), end > rest.startIndex else { return nil }
            let line = rest[rest.index(after: end)...]
            return line.isEmpty ? nil : .signal(node: String(rest[..<end]), line: String(line))
        }
        let fields = payload.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        switch (fields[0], fields.count) {
        case ("+", 4): return .nickClaimed(node: fields[1], nick: fields[2], display: fields[3])
        case ("-", 3): return .nickReleased(node: fields[1], nick: fields[2])
        case ("x", 2): return .nodeGone(fields[1], lost: true)
        case ("l", 2): return .nodeGone(fields[1], lost: false)
        default: return nil
        }
    }

    /// The payloads telling the other nodes of one commit's new heads: as few as fit PostgreSQL's 8,000-byte limit
    /// (one for a commit of ordinary size, however many messages it held).
    static func payloads(heads: [String: Int64]) -> [String] {
        var payloads: [String] = []
        var current = ""
        for (target, head) in heads.sorted(by: { $0.key < $1.key }) {
            let pair = "\(head) \(target)"
            if !current.isEmpty && current.utf8.count + 1 + pair.utf8.count > signalLimit {
                payloads.append(current)
                current = ""
            }
            current += current.isEmpty ? pair : " " + pair
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }
}
