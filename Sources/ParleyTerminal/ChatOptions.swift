public import ParleyClient

/// What the `parley` command line asked for.
public struct ChatOptions: Sendable {
    /// The server; `nil` asks for it (interactive) or uses `127.0.0.1:1060`.
    public var endpoint: ChatEndpoint?
    public var tls: ClientTLS = .off
    public var defaultPort = 1060
    /// The nickname; `nil` asks for it.
    public var nick: String?
    public var channel = "#lobby"
    public var password: String?
    /// The account to log in to, on the first connection and on every reconnect.
    public var login: ChatLogin?
    public var colors = true
    /// Whether standard input is a terminal (line editor, status line) or a script (plain lines).
    public var interactive = true

    public init() {}
}
