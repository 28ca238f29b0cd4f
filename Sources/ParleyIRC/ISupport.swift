/// The `RPL_ISUPPORT` (005) tokens a server advertises.
public struct ISupport: Sendable {
    /// Tokens in order; a `nil` value is a bare token such as `UTF8ONLY`.
    public var tokens: [(name: String, value: String?)]

    /// Creates a token list.
    public init(tokens: [(name: String, value: String?)] = []) {
        self.tokens = tokens
    }

    /// The 005 messages for `nick`, at most 13 tokens each (as the Modern IRC documents advise).
    public func messages(source: String, nick: String) -> [IRCMessage] {
        var result: [IRCMessage] = []
        var index = 0
        while index < self.tokens.count {
            let chunk = self.tokens[index..<min(index + 13, self.tokens.count)]
            var parameters = [nick]
            for token in chunk {
                parameters.append(token.value.map { "\(token.name)=\($0)" } ?? token.name)
            }
            parameters.append("are supported by this server")
            result.append(IRCMessage(source: source, command: IRCCommand(.rplISupport), parameters: parameters))
            index += 13
        }
        return result
    }
}
