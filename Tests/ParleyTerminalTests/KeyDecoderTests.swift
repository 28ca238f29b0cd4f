import Testing

@testable import ParleyTerminal

@Suite struct KeyDecoderTests {
    @Test func decodesPrintableControlAndEditingKeys() {
        var decoder = KeyDecoder()
        #expect(decoder.decode(Array("ab".utf8)) == [.character("a"), .character("b")])
        #expect(decoder.decode([13, 9, 127, 8]) == [.enter, .tab, .backspace, .backspace])
        #expect(
            decoder.decode([1, 5, 21, 23, 11, 4, 3]) == [
                .control("a"), .control("e"), .control("u"), .control("w"), .control("k"), .control("d"), .control("c"),
            ]
        )
    }

    @Test func decodesEscapeSequences() {
        var decoder = KeyDecoder()
        let input = "\u{1B}[A\u{1B}[B\u{1B}[C\u{1B}[D\u{1B}[H\u{1B}[F\u{1B}OH\u{1B}OF\u{1B}[3~\u{1B}[1~\u{1B}[4~"
        #expect(
            decoder.decode(Array(input.utf8)) == [
                .up, .down, .right, .left, .home, .end, .home, .end, .delete, .home, .end,
            ]
        )
        #expect(
            decoder.decode(Array("\u{1B}[1;5C\u{1B}[1;5D\u{1B}3\u{1B}b".utf8)) == [
                .wordRight, .wordLeft, .alt("3"), .wordLeft,
            ]
        )
    }

    @Test func waitsForTheRestOfASplitSequenceOrCharacter() {
        var decoder = KeyDecoder()
        let bytes = Array("é日\u{1B}[3~".utf8)
        var keys: [Key] = []
        for byte in bytes { keys += decoder.decode([byte]) }  // one byte per read, the worst case
        #expect(keys == [.character("é"), .character("日"), .delete])
        #expect(!decoder.hasPending)
    }

    @Test func loneEscapeIsFlushedAndInvalidBytesAreSkipped() {
        var decoder = KeyDecoder()
        #expect(decoder.decode([0x1B]).isEmpty)
        #expect(decoder.hasPending)
        #expect(decoder.flush() == [.escape])
        #expect(
            decoder.decode([0xFF, UInt8(ascii: "x"), 0xC3, UInt8(ascii: "y")]) == [.character("x"), .character("y")]
        )
    }

    /// Bracketed paste: the text between the markers is one key, however the reads cut it, its CRs line breaks.
    @Test func aPasteIsOneKeyWithItsLineBreaks() {
        var decoder = KeyDecoder()
        let bytes = Array("x\u{1B}[200~def f():\r    return 1\r\n\u{1B}[201~y".utf8)
        var keys: [Key] = []
        for byte in bytes { keys += decoder.decode([byte]) }
        #expect(keys == [.character("x"), .paste("def f():\n    return 1\n"), .character("y")])
        _ = decoder.decode(Array("\u{1B}[200~half".utf8))
        #expect(decoder.flush().isEmpty && decoder.hasPending, "a paste still arriving is kept")
        #expect(decoder.decode(Array(" done\u{1B}[201~".utf8)) == [.paste("half done")])
        #expect(decoder.decode([0x1B]).isEmpty && decoder.flush() == [.escape], "the Escape key still works")
    }
}
