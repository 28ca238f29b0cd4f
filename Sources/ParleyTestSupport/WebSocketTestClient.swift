public import NIOSSL

/// A WebSocket client written out by hand (RFC 6455), so tests see the server's frames exactly as sent.
public final class WebSocketTestClient: Sendable {
    public struct Frame: Sendable, Equatable {
        public var fin: Bool
        public var opcode: UInt8
        public var payload: [UInt8]
        public var text: String { String(decoding: self.payload, as: UTF8.self) }

        public init(fin: Bool, opcode: UInt8, payload: [UInt8]) {
            self.fin = fin
            self.opcode = opcode
            self.payload = payload
        }

        public static let text: UInt8 = 0x1
        public static let binary: UInt8 = 0x2
        public static let close: UInt8 = 0x8
        public static let ping: UInt8 = 0x9
        public static let pong: UInt8 = 0xA
    }

    public let connection: RawConnection
    /// The handshake's answer headers (lower-case names).
    public let headers: [String: String]

    private init(connection: RawConnection, headers: [String: String]) {
        self.connection = connection
        self.headers = headers
    }

    /// Upgrades a new connection; returns the client, or throws with the HTTP status when the server refused.
    public static func connect(
        port: Int,
        path: String = "/",
        protocols: [String] = [],
        origin: String? = nil,
        tls: NIOSSLContext? = nil,
        serverHostname: String? = nil
    ) async throws -> WebSocketTestClient {
        let connection = try await RawConnection.connect(port: port, tls: tls, serverHostname: serverHostname)
        var lines = [
            "GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ]
        if !protocols.isEmpty { lines.append("Sec-WebSocket-Protocol: \(protocols.joined(separator: ", "))") }
        if let origin { lines.append("Origin: \(origin)") }
        try await connection.send((lines + ["", ""]).joined(separator: "\r\n"))
        let (status, headers) = try await HTTPTestClient.readHead(from: connection)
        guard status == 101 else {
            await connection.close()
            throw Refused(status: status)
        }
        // The accept value for the RFC's sample key, which the server must compute from it.
        guard headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" else {
            throw Refused(status: -1)
        }
        return WebSocketTestClient(connection: connection, headers: headers)
    }

    /// The server answered the upgrade with `status` instead of 101.
    public struct Refused: Error, CustomStringConvertible {
        public var status: Int
        public init(status: Int) { self.status = status }
        public var description: String { "WebSocket upgrade refused with HTTP \(self.status)" }
    }

    /// Sends one frame, masked as a client must unless `masked` is false (to test the server's refusal), with RSV1
    /// set when `rsv1`.
    public func send(
        opcode: UInt8,
        _ payload: [UInt8],
        fin: Bool = true,
        masked: Bool = true,
        rsv1: Bool = false
    ) async throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode]
        let mask: [UInt8] = masked ? [0x37, 0xFA, 0x21, 0x3D] : [0, 0, 0, 0]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            frame.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(maskBit | 126)
            frame.append(contentsOf: [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)])
        } else {
            frame.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        if masked { frame.append(contentsOf: mask) }
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index % 4]) }
        try await self.connection.send(frame)
    }

    /// Sends one IRC line as a text message.
    public func send(_ line: String) async throws {
        try await self.send(opcode: Frame.text, Array(line.utf8))
    }

    /// The next frame from the server (which must not mask).
    public func receive(timeout: Duration = .seconds(10)) async throws -> Frame {
        try await self.connection.read(timeout: timeout) { bytes -> (count: Int, value: Frame)? in
            guard bytes.count >= 2 else { return nil }
            let fin = bytes[0] & 0x80 != 0
            let opcode = bytes[0] & 0x0F
            var length = Int(bytes[1] & 0x7F)
            var offset = 2
            if length == 126 {
                guard bytes.count >= 4 else { return nil }
                length = Int(bytes[2]) << 8 | Int(bytes[3])
                offset = 4
            } else if length == 127 {
                guard bytes.count >= 10 else { return nil }
                length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
                offset = 10
            }
            guard bytes[1] & 0x80 == 0, bytes.count >= offset + length else { return nil }
            return (offset + length, Frame(fin: fin, opcode: opcode, payload: Array(bytes[offset..<(offset + length)])))
        }
    }

    /// Reads frames until one whose text contains `fragment`; returns it.
    public func receive(containing fragment: String, timeout: Duration = .seconds(10)) async throws -> Frame {
        var seen: [String] = []
        while true {
            do {
                let frame = try await self.receive(timeout: timeout)
                if frame.text.contains(fragment) { return frame }
                seen.append(frame.text)
            } catch {
                throw TimeoutError(waitingFor: "a frame with \(fragment); saw \(seen)")
            }
        }
    }

    public func close() async {
        await self.connection.close()
    }
}
