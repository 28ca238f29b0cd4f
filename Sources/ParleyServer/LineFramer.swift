import NIOCore

/// Cuts a connection's bytes into lines, as plain state: what was read and not yet cut, and whether the rest of an
/// over-long line is being skipped.
///
/// A line ends at `\n` (a `\r` before it is dropped). Bytes that reach `limit` without a line end are an over-long
/// line: it is reported once and skipped up to its end, so the client gets one error and the next line is read as a
/// line of its own.
struct LineFramer {
    /// What ``next(limit:)`` found.
    enum Cut: Equatable {
        case line(ByteBuffer)
        case tooLong
    }

    private var pending: ByteBuffer?
    private var discarding = false

    /// Bytes read and not yet handed out as lines.
    var pendingBytes: Int { self.pending?.readableBytes ?? 0 }

    mutating func append(_ bytes: inout ByteBuffer) {
        if self.pending == nil {
            self.pending = bytes
        } else {
            self.pending!.writeBuffer(&bytes)
        }
    }

    /// The next line, an over-long line to report, or `nil` when a whole line has not arrived yet.
    mutating func next(limit: Int) -> Cut? {
        while var buffer = self.pending {
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                guard buffer.readableBytes > limit else { return nil }
                self.pending = nil
                defer { self.discarding = true }
                return self.discarding ? nil : .tooLong
            }
            var line = buffer.readSlice(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            self.pending = buffer.readableBytes > 0 ? buffer : nil
            if self.discarding {
                // The end of a line already reported: skip it and read on.
                self.discarding = false
                continue
            }
            if line.readableBytes > 0 && line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r")
            {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            return .line(line)
        }
        return nil
    }

    /// Puts a line taken by ``next(limit:)`` back in front, to be cut again later (flood control held it).
    mutating func putBack(_ line: ByteBuffer) {
        var restored = line
        restored.writeInteger(UInt8(ascii: "\n"))
        if var remaining = self.pending { restored.writeBuffer(&remaining) }
        self.pending = restored
    }
}
