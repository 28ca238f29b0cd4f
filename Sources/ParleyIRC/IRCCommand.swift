/// An IRC command name or numeric, stored uppercased.
///
/// Commands are compared as values (`message.command == .privmsg`), never as loose strings.
public struct IRCCommand: Hashable, Sendable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The uppercased command text, e.g. `PRIVMSG` or `001`.
    public let rawValue: String

    /// Creates a command, uppercasing ASCII letters.
    public init(rawValue: String) {
        var needsUppercase = false
        for byte in rawValue.utf8 where byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") {
            needsUppercase = true
            break
        }
        self.rawValue = needsUppercase ? CaseMapping.asciiUppercased(rawValue) : rawValue
    }

    /// Creates a command from a literal.
    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }

    /// Creates the command for a numeric reply.
    public init(_ numeric: IRCNumeric) {
        self.rawValue = numeric.text
    }

    /// The command text.
    public var description: String { self.rawValue }

    /// Whether this is a three-digit numeric reply.
    public var isNumeric: Bool {
        let utf8 = self.rawValue.utf8
        return utf8.count == 3 && utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

extension IRCCommand {
    public static let admin: IRCCommand = "ADMIN"
    public static let authenticate: IRCCommand = "AUTHENTICATE"
    public static let away: IRCCommand = "AWAY"
    public static let batch: IRCCommand = "BATCH"
    public static let cap: IRCCommand = "CAP"
    public static let chathistory: IRCCommand = "CHATHISTORY"
    public static let chghost: IRCCommand = "CHGHOST"
    public static let error: IRCCommand = "ERROR"
    public static let fail: IRCCommand = "FAIL"
    public static let info: IRCCommand = "INFO"
    public static let invite: IRCCommand = "INVITE"
    public static let ison: IRCCommand = "ISON"
    public static let join: IRCCommand = "JOIN"
    public static let kick: IRCCommand = "KICK"
    public static let kill: IRCCommand = "KILL"
    public static let links: IRCCommand = "LINKS"
    public static let list: IRCCommand = "LIST"
    public static let lusers: IRCCommand = "LUSERS"
    public static let mode: IRCCommand = "MODE"
    public static let motd: IRCCommand = "MOTD"
    public static let names: IRCCommand = "NAMES"
    public static let nick: IRCCommand = "NICK"
    public static let note: IRCCommand = "NOTE"
    public static let notice: IRCCommand = "NOTICE"
    public static let oper: IRCCommand = "OPER"
    public static let part: IRCCommand = "PART"
    public static let pass: IRCCommand = "PASS"
    public static let ping: IRCCommand = "PING"
    public static let pong: IRCCommand = "PONG"
    public static let privmsg: IRCCommand = "PRIVMSG"
    public static let quit: IRCCommand = "QUIT"
    public static let markread: IRCCommand = "MARKREAD"
    public static let search: IRCCommand = "SEARCH"
    public static let isupport: IRCCommand = "ISUPPORT"
    public static let redact: IRCCommand = "REDACT"
    public static let rename: IRCCommand = "RENAME"
    public static let metadata: IRCCommand = "METADATA"
    public static let register: IRCCommand = "REGISTER"
    public static let verify: IRCCommand = "VERIFY"
    public static let account: IRCCommand = "ACCOUNT"
    public static let setname: IRCCommand = "SETNAME"
    public static let tagmsg: IRCCommand = "TAGMSG"
    public static let time: IRCCommand = "TIME"
    public static let topic: IRCCommand = "TOPIC"
    public static let user: IRCCommand = "USER"
    public static let userhost: IRCCommand = "USERHOST"
    public static let version: IRCCommand = "VERSION"
    public static let wallops: IRCCommand = "WALLOPS"
    public static let warn: IRCCommand = "WARN"
    public static let who: IRCCommand = "WHO"
    public static let whois: IRCCommand = "WHOIS"
    public static let whowas: IRCCommand = "WHOWAS"
}
