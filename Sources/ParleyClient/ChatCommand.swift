/// What a person typed into a chat client: text to say, or a `/command`. Parsing checks arguments so that a bad
/// command is explained to the person and nothing reaches the server.
public enum ChatCommand: Equatable, Sendable {
    case say(String)
    case me(String)
    case join(channel: String, key: String?)
    case part(channel: String?, reason: String?)
    case message(target: String, text: String)
    case query(String)
    case close
    case nick(String)
    case topic(String?)
    case names(String?)
    case who(String?)
    case whois(String)
    case list(String?)
    case away(String)
    case back
    case switchWindow(String)
    case history(Int)
    case search(String)
    /// Take back your last message in the current window (draft/message-redaction).
    case delete
    /// Open search hit N where it was said, with the lines around it.
    case goto(Int)
    case motd
    case raw(String)
    case help(String?)
    case quit(String?)
    /// A known command used the wrong way; the text says how to use it.
    case usage(String)
    /// A `/word` that is no command.
    case unknown(String)

    /// Every command name, for `/help` and Tab completion.
    public static let names = [
        "away", "back", "close", "delete", "goto", "help", "history", "join", "list", "me", "motd", "msg", "names",
        "nick", "part",
        "search",
        "query", "quit", "raw", "switch", "topic", "w", "who", "whois",
    ]

    /// One line of help per command.
    public static let help: [(String, String)] = [
        ("/join #channel [key]", "join a channel (it becomes the current window)"),
        ("/part [#channel] [reason]", "leave the current or the named channel"),
        ("/msg nick text", "send a private message"),
        ("/query nick", "open a window to talk with nick"),
        ("/close", "close the current query window"),
        ("/me action", "say an action (* alice waves)"),
        ("/nick name", "change your nickname"),
        ("/topic [text]", "show or set the channel topic"),
        ("/names [#channel]", "who is in the channel"),
        ("/who mask", "look people up"),
        ("/whois nick", "details about someone"),
        ("/list [mask]", "list channels"),
        ("/away reason, /back", "mark yourself away, and back"),
        ("/switch N or /w N, Alt-1..9", "go to window N (or by name)"),
        ("/history [N]", "fetch N lines from the server's history, before the oldest on screen"),
        ("/search TEXT", "search the history of your channels and conversations (hits are numbered)"),
        ("/goto N", "open search hit N where it was said, with the lines around it"),
        ("/delete", "delete your last message in this window, for everyone (when the server allows it)"),
        ("/motd", "show the server's message of the day"),
        ("/raw LINE", "send a raw IRC line"),
        ("/help", "this list"),
        ("/quit [reason], quit, Ctrl-D", "leave"),
    ]

    /// Parses one typed line. `quit` on its own leaves, as in the original app; `//text` says `/text`.
    public static func parse(_ line: String) -> ChatCommand {
        if line.lowercased() == "quit" { return .quit(nil) }
        guard line.hasPrefix("/") else { return .say(line) }
        if line.hasPrefix("//") { return .say(String(line.dropFirst())) }
        let body = line.dropFirst()
        let name = body.prefix { $0 != " " }.lowercased()
        let rest = body.dropFirst(name.count).drop { $0 == " " }
        let text = rest.isEmpty ? nil : String(rest)
        let words = rest.split(separator: " ", omittingEmptySubsequences: true).map(String.init)

        switch name {
        case "me":
            guard let text else { return .usage("/me action") }
            return .me(text)
        case "join", "j":
            guard let channel = words.first else { return .usage("/join #channel [key]") }
            let name = channel.first.map { "#&".contains($0) } == true ? channel : "#" + channel
            return .join(channel: name, key: words.count > 1 ? words[1] : nil)
        case "part", "leave":
            guard let first = words.first, first.hasPrefix("#") || first.hasPrefix("&") else {
                return .part(channel: nil, reason: text)
            }
            let reason = rest.dropFirst(first.count).drop { $0 == " " }
            return .part(channel: first, reason: reason.isEmpty ? nil : String(reason))
        case "msg", "m":
            guard words.count >= 2, let target = words.first else { return .usage("/msg nick text") }
            return .message(target: target, text: String(rest.dropFirst(target.count).dropFirst()))
        case "query", "q":
            guard words.count == 1 else { return .usage("/query nick") }
            return .query(words[0])
        case "close":
            return .close
        case "nick":
            guard words.count == 1 else { return .usage("/nick newname") }
            return .nick(words[0])
        case "topic":
            return .topic(text)
        case "names":
            return .names(words.first)
        case "who":
            return .who(words.first)
        case "whois":
            guard words.count == 1 else { return .usage("/whois nick") }
            return .whois(words[0])
        case "list":
            return .list(words.first)
        case "away":
            return text.map { .away($0) } ?? .back
        case "back":
            return .back
        case "switch", "w", "window":
            guard words.count == 1 else { return .usage("/switch N (a window number or name)") }
            return .switchWindow(words[0])
        case "history":
            guard let word = words.first else { return .history(50) }
            guard let count = Int(word), count > 0 else { return .usage("/history [N] (N a positive number)") }
            return .history(min(count, 1000))
        case "search":
            guard let text, text.contains(where: { $0 != " " }) else { return .usage("/search TEXT") }
            return .search(text)
        case "goto":
            guard words.count == 1, let number = Int(words[0]), number > 0 else {
                return .usage("/goto N (the number of a search hit)")
            }
            return .goto(number)
        case "delete":
            guard words.isEmpty else { return .usage("/delete (your last message in this window)") }
            return .delete
        case "motd":
            return .motd
        case "raw", "quote":
            guard let text else { return .usage("/raw IRC LINE") }
            return .raw(text)
        case "help", "h", "?":
            return .help(words.first)
        case "quit", "exit", "bye":
            return .quit(text)
        default:
            return .unknown(String(name))
        }
    }
}
