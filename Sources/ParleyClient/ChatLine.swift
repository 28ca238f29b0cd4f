/// One line to show a person: a message or an event, in a window (a channel or a query), at a time.
public struct ChatLine: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// `<nick> text`
        case message
        /// `* nick text` (CTCP ACTION, `/me`).
        case action
        /// `-nick- text`
        case notice
        /// Joins, parts, quits, nick, topic and mode changes: shown dimmed.
        case event
        /// Server replies and client information.
        case info
        /// Errors from the server or the client.
        case error
    }

    /// The channel or query nick this line belongs to; `nil` for the current window.
    public var window: String?
    /// Milliseconds since 1970 (the server-time tag when present).
    public var time: Int64
    public var kind: Kind
    /// Who said it, for messages, actions and notices.
    public var nick: String?
    public var text: String
    /// Sent by this client (seen through echo-message).
    public var isOwn: Bool
    /// Someone else mentioned our nick (or wrote to us directly).
    public var mentionsMe: Bool
    /// Fetched from the server's history (CHATHISTORY): shown, but not news (no unread count, no mention).
    public var isHistory = false
    /// The sender's display name (IRCv3 metadata), when it set one.
    public var displayName: String?

    public init(
        window: String? = nil,
        time: Int64,
        kind: Kind,
        nick: String? = nil,
        text: String,
        isOwn: Bool = false,
        mentionsMe: Bool = false
    ) {
        self.window = window
        self.time = time
        self.kind = kind
        self.nick = nick
        self.text = text
        self.isOwn = isOwn
        self.mentionsMe = mentionsMe
    }
}
