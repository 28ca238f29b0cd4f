/// The `RPL_ISUPPORT` (005) tokens a server advertises.
public struct ISupport: Sendable {
    /// Tokens in order; a `nil` value is a bare token such as `UTF8ONLY`.
    public var tokens: [(name: String, value: String?)]

    /// Creates a token list.
    public init(tokens: [(name: String, value: String?)] = []) {
        self.tokens = tokens
    }

    /// The tokens as they are written (`NAME=VALUE` or `NAME`), at most 13 to a line (as the Modern IRC documents
    /// advise): what goes between the nick and the trailing text of each 005 line. They depend only on the tokens,
    /// so a server renders them once and builds each client's lines from them.
    public var renderedLines: [[String]] {
        stride(from: 0, to: self.tokens.count, by: 13).map { start in
            self.tokens[start..<min(start + 13, self.tokens.count)].map { token in
                token.value.map { "\(token.name)=\($0)" } ?? token.name
            }
        }
    }

    /// The 005 messages for `nick`.
    public func messages(source: String, nick: String) -> [IRCMessage] {
        Self.messages(renderedLines: self.renderedLines, source: source, nick: nick)
    }

    /// The 005 messages for `nick` from lines rendered before (``renderedLines``).
    public static func messages(renderedLines: [[String]], source: String, nick: String) -> [IRCMessage] {
        renderedLines.map { tokens in
            var parameters = [nick]
            parameters.reserveCapacity(tokens.count + 2)
            parameters.append(contentsOf: tokens)
            parameters.append("are supported by this server")
            return IRCMessage(source: source, command: IRCCommand(.rplISupport), parameters: parameters)
        }
    }
}
