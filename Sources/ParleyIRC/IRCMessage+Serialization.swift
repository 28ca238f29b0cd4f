public import NIOCore

extension IRCMessage {
    /// Appends the wire form of the message, with CR LF, to `buffer`.
    ///
    /// - Parameters:
    ///   - buffer: The buffer to append to.
    ///   - includeTag: Decides which tags this recipient may see (by the capabilities it negotiated).
    public func write(to buffer: inout ByteBuffer, includeTag: (IRCTag) -> Bool = { _ in true }) {
        var wroteTag = false
        for tag in self.tags where includeTag(tag) {
            buffer.writeInteger(wroteTag ? ASCII.semicolon : ASCII.at)
            buffer.writeString(tag.key)
            if !tag.value.isEmpty {
                buffer.writeInteger(ASCII.equals)
                buffer.writeString(IRCTagEscaping.escape(tag.value))
            }
            wroteTag = true
        }
        if wroteTag { buffer.writeInteger(ASCII.space) }
        if let source = self.source {
            buffer.writeInteger(ASCII.colon)
            buffer.writeString(source)
            buffer.writeInteger(ASCII.space)
        }
        buffer.writeString(self.command.rawValue)
        for (index, parameter) in self.parameters.enumerated() {
            buffer.writeInteger(ASCII.space)
            if index == self.parameters.count - 1 && Self.needsTrailingColon(parameter) {
                buffer.writeInteger(ASCII.colon)
            }
            buffer.writeString(parameter)
        }
        buffer.writeInteger(ASCII.cr)
        buffer.writeInteger(ASCII.lf)
    }

    /// The wire form without the trailing CR LF, with every tag.
    public var line: String {
        var buffer = ByteBuffer()
        self.write(to: &buffer)
        buffer.moveWriterIndex(to: buffer.writerIndex - 2)
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    static func needsTrailingColon(_ parameter: String) -> Bool {
        guard let first = parameter.utf8.first else { return true }
        return first == ASCII.colon || parameter.utf8.contains(ASCII.space)
    }
}
