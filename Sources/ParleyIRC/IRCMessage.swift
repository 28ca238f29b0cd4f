/// One IRC protocol message: optional IRCv3 tags, an optional source, a command and its parameters.
///
/// The message holds decoded values: tag values are unescaped, and the last parameter carries no leading colon.
/// ``IRCParser`` builds it from bytes and ``IRCMessage/write(to:tags:)`` turns it back into a line.
public struct IRCMessage: Hashable, Sendable {
    /// The IRCv3 message tags, in the order they were given.
    public var tags: [IRCTag]
    /// The source (`nick!user@host` or a server name), if any.
    public var source: String?
    /// The command or three-digit numeric.
    public var command: IRCCommand
    /// The parameters; the last one may contain spaces.
    public var parameters: [String]

    /// Creates a message.
    /// - Parameters:
    ///   - tags: IRCv3 tags.
    ///   - source: The source prefix, without the leading colon.
    ///   - command: The command.
    ///   - parameters: The parameters, without a leading colon on the last one.
    public init(tags: [IRCTag] = [], source: String? = nil, command: IRCCommand, parameters: [String] = []) {
        self.tags = tags
        self.source = source
        self.command = command
        self.parameters = parameters
    }

    /// Creates a message from a command and a variadic list of parameters.
    /// - Parameters:
    ///   - source: The source prefix.
    ///   - command: The command.
    ///   - parameters: The parameters.
    public init(source: String? = nil, _ command: IRCCommand, _ parameters: String...) {
        self.init(source: source, command: command, parameters: parameters)
    }

    /// The parameter at `index`, or `nil` when the message has fewer parameters.
    public func parameter(_ index: Int) -> String? {
        index < self.parameters.count ? self.parameters[index] : nil
    }

    /// The value of the first tag named `key`; an empty string for a tag without a value.
    public func tag(_ key: String) -> String? {
        for tag in self.tags where tag.key == key {
            return tag.value
        }
        return nil
    }

    /// The nickname part of the source (`nick` in `nick!user@host`).
    public var sourceNick: String? {
        guard let source = self.source else { return nil }
        if let bang = source.firstIndex(where: { $0 == "!" || $0 == "@" }) {
            return String(source[..<bang])
        }
        return source
    }
}

/// One IRCv3 message tag. An empty `value` means the tag was sent without a value.
public struct IRCTag: Hashable, Sendable {
    /// The tag key, including a `+` client-only prefix and a vendor prefix if present.
    public var key: String
    /// The unescaped value; empty when the tag has no value.
    public var value: String

    /// Creates a tag.
    /// - Parameters:
    ///   - key: The key.
    ///   - value: The unescaped value.
    public init(_ key: String, _ value: String = "") {
        self.key = key
        self.value = value
    }

    /// Whether this is a client-only tag (`+` prefix), which servers relay without interpreting.
    public var isClientOnly: Bool { self.key.utf8.first == UInt8(ascii: "+") }
}
