import NIOCore
import Testing

@testable import ParleyIRC

@Suite struct ParserTests {
    @Test func parsesTagsSourceCommandAndTrailing() throws {
        let message = try IRCParser.parse(
            "@time=2026-01-01T00:00:00.000Z;+x=a\\sb :nick!u@h PRIVMSG #chan :hello there"
        )
        #expect(message.tags == [IRCTag("time", "2026-01-01T00:00:00.000Z"), IRCTag("+x", "a b")])
        #expect(message.source == "nick!u@h")
        #expect(message.command == .privmsg)
        #expect(message.parameters == ["#chan", "hello there"])
        #expect(message.sourceNick == "nick")
    }

    @Test func commandsAreUppercased() throws {
        #expect(try IRCParser.parse("privmsg a b").command == .privmsg)
        #expect(try IRCParser.parse("001 a b").command.isNumeric)
    }

    @Test func parsesFromByteBuffer() throws {
        let message = try IRCParser.parse(ByteBuffer(string: "NICK alice"))
        #expect(message.command == .nick)
        #expect(message.parameters == ["alice"])
    }

    @Test(arguments: [
        ("", IRCParseError.Code.emptyLine),
        ("    ", .emptyLine),
        ("@a=b", .missingCommand),
        ("@a=b   ", .missingCommand),
        (":source", .missingCommand),
        (": PRIVMSG x", .invalidSource),
        ("PRIV-MSG x", .invalidCommand),
        ("12 x", .invalidCommand),
        ("1234 x", .invalidCommand),
        ("PRIVMSG #a :nul\u{0}inside", .invalidCharacter),
        ("PRIVMSG #a :cr\rinside", .invalidCharacter),
        ("PRIVMSG #a :lf\ninside", .invalidCharacter),
        ("@=x PING a", .invalidTags),
    ])
    func rejectsMalformedLines(line: String, code: IRCParseError.Code) {
        do {
            _ = try IRCParser.parse(line)
            Issue.record("accepted a malformed line: \(line.debugDescription)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func invalidUTF8IsRejectedWithItsCommand() {
        let bytes: [UInt8] = Array("PRIVMSG #a :".utf8) + [0xC3, 0x28]
        do {
            _ = try IRCParser.parse(ByteBuffer(bytes: bytes))
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.command == .privmsg)
        }
    }

    @Test func controlCharacterErrorNamesTheCommand() {
        do {
            _ = try IRCParser.parse("@a=b :src PRIVMSG #a :x\u{0}y")
            Issue.record("NUL was accepted")
        } catch {
            #expect(error.code == .invalidCharacter)
            #expect(error.command == .privmsg)
        }
    }

    @Test func fifteenthParameterTakesTheRestOfTheLine() throws {
        let parameters = (1...20).map { "p\($0)" }
        let message = try IRCParser.parse("CMD " + parameters.joined(separator: " "))
        #expect(message.parameters.count == 15)
        #expect(message.parameters[13] == "p14")
        #expect(message.parameters[14] == "p15 p16 p17 p18 p19 p20")
    }

    @Test func duplicateTagsKeepTheLastValue() throws {
        let message = try IRCParser.parse("@a=1;b;a=2 PING x")
        #expect(message.tags == [IRCTag("a", "2"), IRCTag("b", "")])
    }

    @Test func serializesTrailingParametersOnlyWhenNeeded() {
        #expect(IRCMessage(.privmsg, "#a", "hi").line == "PRIVMSG #a hi")
        #expect(IRCMessage(.privmsg, "#a", "hi there").line == "PRIVMSG #a :hi there")
        #expect(IRCMessage(.privmsg, "#a", "").line == "PRIVMSG #a :")
        #expect(IRCMessage(.privmsg, "#a", ":)").line == "PRIVMSG #a ::)")
        #expect(IRCMessage(source: "srv", .ping, "x").line == ":srv PING x")
    }

    @Test func serializationFiltersTags() {
        let message = IRCMessage(
            tags: [IRCTag("time", "t"), IRCTag("msgid", "m")],
            command: .privmsg,
            parameters: ["#a", "x"]
        )
        var buffer = ByteBuffer()
        message.write(to: &buffer) { $0.key == "time" }
        #expect(String(buffer: buffer) == "@time=t PRIVMSG #a x\r\n")
        buffer.clear()
        message.write(to: &buffer) { _ in false }
        #expect(String(buffer: buffer) == "PRIVMSG #a x\r\n")
    }

    @Test(arguments: [
        "PRIVMSG #chan :hello world",
        "@a=b\\:c;d :n!u@h NOTICE x :y z",
        ":srv 001 nick :Welcome home",
        "@+react=\u{1F600} TAGMSG #c",
        "JOIN #a,#b key1,key2",
    ])
    func roundTrips(line: String) throws {
        let message = try IRCParser.parse(line)
        #expect(message.line == line)
        #expect(try IRCParser.parse(message.line) == message)
    }

    @Test func tagEscapingRoundTrips() {
        let raw = "a;b c\\d\re\nf"
        let escaped = IRCTagEscaping.escape(raw)
        #expect(escaped == "a\\:b\\sc\\\\d\\re\\nf")
        #expect(IRCTagEscaping.unescape(escaped) == raw)
        #expect(IRCTagEscaping.unescape("x\\") == "x")
        #expect(IRCTagEscaping.unescape("\\b") == "b")
    }

    @Test func numericsHaveThreeDigits() {
        #expect(IRCNumeric.rplWelcome.text == "001")
        #expect(IRCNumeric.rplISupport.text == "005")
        #expect(IRCNumeric.errNeedMoreParams.text == "461")
        #expect(IRCCommand(.rplNamReply).rawValue == "353")
        let reply = IRCMessage(source: "s", command: IRCCommand(.rplWelcome), parameters: ["nick", "Welcome here"])
        #expect(reply.line == ":s 001 nick :Welcome here")
    }
}

@Suite struct NameTests {
    @Test func asciiCaseMappingFoldsOnlyLetters() {
        #expect(CaseMapping.fold("Alice[]^") == "alice[]^")
        #expect(CaseMapping.fold("ÄBC") == "Äbc")
    }

    @Test(arguments: ["alice", "[bot]", "a-1", "`x", "_under", "Z|away"])
    func acceptsValidNicknames(nick: String) {
        #expect(IRCName.isValidNickname(nick, maximumLength: 30))
    }

    @Test(arguments: [
        "", "1abc", "-x", "a b", "a,b", "a!b", "a@b", "#chan", ":x", "é", String(repeating: "a", count: 31),
    ])
    func rejectsInvalidNicknames(nick: String) {
        #expect(!IRCName.isValidNickname(nick, maximumLength: 30))
    }

    @Test func validatesChannelNames() {
        #expect(IRCName.isValidChannelName("#lobby", maximumLength: 64))
        #expect(IRCName.isValidChannelName("#café", maximumLength: 64))
        #expect(!IRCName.isValidChannelName("#", maximumLength: 64))
        #expect(!IRCName.isValidChannelName("lobby", maximumLength: 64))
        #expect(!IRCName.isValidChannelName("#a,b", maximumLength: 64))
        #expect(!IRCName.isValidChannelName("#a b", maximumLength: 64))
        #expect(!IRCName.isValidChannelName("#a\u{7}b", maximumLength: 64))
        #expect(!IRCName.isValidChannelName("#" + String(repeating: "a", count: 64), maximumLength: 64))
    }

    @Test func wildcardsMatch() {
        #expect(IRCWildcard.matches("*!*@127.0.0.1", "nick!user@127.0.0.1"))
        #expect(IRCWildcard.matches("NICK!*@*", "nick!user@host"))
        #expect(IRCWildcard.matches("n?ck*", "nick!u@h"))
        #expect(!IRCWildcard.matches("*!*@10.*", "nick!user@127.0.0.1"))
        #expect(IRCWildcard.normalizeMask("bob") == "bob!*@*")
        #expect(IRCWildcard.normalizeMask("*@host") == "*!*@host")
    }

    @Test func formatsServerTime() {
        #expect(IRCTimestamp.format(millisecondsSince1970: 0) == "1970-01-01T00:00:00.000Z")
        #expect(IRCTimestamp.format(millisecondsSince1970: 1_795_615_041_123) == "2026-11-25T13:57:21.123Z")
        #expect(IRCTimestamp.format(millisecondsSince1970: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
    }

    @Test func parsesServerTime() {
        #expect(IRCTimestamp.parse("2026-11-25T13:57:21.123Z") == 1_795_615_041_123)
        #expect(IRCTimestamp.parse("2000-02-29T00:00:00Z") == 951_782_400_000)
        #expect(IRCTimestamp.parse("1970-01-01T00:00:00.5Z") == 500)
        // A fraction longer than an Int64 holds: read to the millisecond, not overflowed (found by FuzzCore).
        #expect(IRCTimestamp.parse("1970-01-01T00:00:00." + String(repeating: "9", count: 40) + "Z") == 999)
        #expect(IRCTimestamp.parse("1970-01-01T00:00:00.12x4Z") == nil)
        #expect(IRCTimestamp.parse("2026-11-25T13:57:21.123456Z") == 1_795_615_041_123)
        for stamp in [0, 1_795_615_041_123, 951_782_400_000, 4_102_444_800_999] as [Int64] {
            #expect(IRCTimestamp.parse(IRCTimestamp.format(millisecondsSince1970: stamp)) == stamp)
        }
        for bad in [
            "", "2026-11-25 13:57:21Z", "2026-13-25T13:57:21Z", "2026-11-25T13:57:21", "2026-11-25T1a:57:21Z",
            "2026-11-25T13:57:21.Z",
        ] {
            #expect(IRCTimestamp.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func isupportSplitsIntoLinesOfThirteenTokens() {
        let support = ISupport(tokens: (1...20).map { ("T\($0)", $0 % 2 == 0 ? "v" : nil) })
        let messages = support.messages(source: "srv", nick: "me")
        #expect(messages.count == 2)
        #expect(messages[0].parameters.count == 15)
        #expect(messages[0].parameters[2] == "T2=v")
        #expect(messages[1].parameters.last == "are supported by this server")
    }
}
