/// A msgid as this server gives them out: `[NODE.]RUN-COUNTER`. `RUN` (base 36 of the server's start time) keeps
/// ids unique across restarts, `NODE` (letters, digits and `-`, never `.`) across the nodes of a cluster, and
/// `COUNTER` (base 36) across one run's messages. This type is the only code that writes or reads that format.
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    /// The cluster node that gave it out, if it came from a cluster.
    public var node: String?
    public var run: String
    public var counter: UInt64

    public init(node: String?, run: String, counter: UInt64) {
        self.node = node
        self.run = run
        self.counter = counter
    }

    /// Reads a msgid this server's format; `nil` for anything else (a client's, another server's).
    public init?(_ text: String) {
        guard let dash = text.lastIndex(of: "-"),
            let counter = UInt64(text[text.index(after: dash)...], radix: 36)
        else { return nil }
        let origin = text[..<dash]
        if let dot = origin.firstIndex(of: ".") {
            self.node = String(origin[..<dot])
            self.run = String(origin[origin.index(after: dot)...])
        } else {
            self.node = nil
            self.run = String(origin)
        }
        guard !self.run.isEmpty, self.node?.isEmpty != true, !self.run.contains(".") else { return nil }
        self.counter = counter
    }

    /// `[NODE.]RUN`: one run of one server, what every msgid it gives out starts with.
    public var origin: String { Self.origin(node: self.node, run: self.run) }

    public var description: String { Self.text(origin: self.origin, counter: self.counter) }

    public static func origin(node: String?, run: String) -> String {
        node.map { $0 + "." + run } ?? run
    }

    /// Whether `msgid` was given out by `origin` (`[NODE.]RUN`), without taking it apart: asked per relayed message.
    public static func isFrom(_ origin: String, _ msgid: String) -> Bool {
        guard msgid.hasPrefix(origin) else { return false }
        let rest = msgid.utf8.dropFirst(origin.utf8.count)
        return rest.first == UInt8(ascii: "-") && rest.count > 1 && !rest.dropFirst().contains(UInt8(ascii: "-"))
    }

    /// The msgid text for `origin` (as made by ``origin(node:run:)``, computed once per run) and a counter: the one
    /// string built per message.
    public static func text(origin: String, counter: UInt64) -> String {
        origin + "-" + String(counter, radix: 36)
    }
}
