import FuzzDriver
import NIOCore
import ParleyIRC

/// The parser, the tag unescaper, base64 (AUTHENTICATE), the SCRAM message parsers and the serializer on arbitrary
/// bytes. A line that parses
/// must serialize and parse again to the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = IRCTagEscaping.unescape(text)
    _ = SCRAMMessage.clientFirst(text)
    _ = SCRAMMessage.clientFinal(text)
    if let decoded = Base64.decode(String(decoding: bytes, as: UTF8.self)) {
        precondition(Base64.decode(Base64.encode(decoded)) == decoded, "base64 round trip")
    }
    guard let message = try? IRCParser.parse(bytes) else { return 0 }
    var buffer = ByteBuffer()
    message.write(to: &buffer)
    // Without the CR LF the serializer adds.
    let line = buffer.readSlice(length: buffer.readableBytes - 2)!
    guard let again = try? IRCParser.parse(line) else {
        preconditionFailure("a parsed message did not parse again after serializing: \(message)")
    }
    precondition(again == message, "round trip changed \(message) into \(again)")
    return 0
}

runLibFuzzer { fuzz($0, $1) }
