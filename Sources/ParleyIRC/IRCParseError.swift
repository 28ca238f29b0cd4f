/// Why a line could not be parsed into an ``IRCMessage``.
public struct IRCParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case emptyLine, missingCommand, invalidSource, invalidCommand, invalidCharacter, invalidUTF8
            case invalidTags
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The line is empty or holds only spaces.
        public static let emptyLine = Code(.emptyLine)
        /// Tags or a source were given but no command.
        public static let missingCommand = Code(.missingCommand)
        /// The source prefix is empty or malformed.
        public static let invalidSource = Code(.invalidSource)
        /// The command is neither letters nor a three-digit numeric.
        public static let invalidCommand = Code(.invalidCommand)
        /// The line holds NUL, CR or LF.
        public static let invalidCharacter = Code(.invalidCharacter)
        /// A parameter or tag value is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// The tag section is malformed.
        public static let invalidTags = Code(.invalidTags)

        public var description: String { "\(self.base)" }
    }

    /// The kind of problem.
    public var code: Code
    /// The command, when the line got far enough to have one; servers use it in `FAIL` replies.
    public var command: IRCCommand?
    /// For ``Code/invalidCommand``: the word where the command should be, when it is printable ASCII (a server
    /// names it in `421`).
    public var word: String?
    /// The line's `label` tag, when its tags were read: the reply to a line that failed is labeled too.
    public var label: String?

    /// Creates an error.
    public init(_ code: Code, command: IRCCommand? = nil, word: String? = nil, label: String? = nil) {
        self.code = code
        self.command = command
        self.word = word
        self.label = label
    }

    public var description: String { "IRCParseError(\(self.code))" }
}
