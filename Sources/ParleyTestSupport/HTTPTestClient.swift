public import NIOSSL

/// One HTTP response as a test sees it.
public struct HTTPReply: Sendable {
    public var status: Int
    /// Header names in lower case; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]
    public var text: String { String(decoding: self.body, as: UTF8.self) }
}

/// Minimal HTTP/1.1 over a ``RawConnection``: enough to check what the server answers, byte for byte.
public enum HTTPTestClient {
    /// Sends `request` (a whole request, as bytes on the wire) and reads one response.
    public static func exchange(
        port: Int,
        request: String,
        tls: NIOSSLContext? = nil,
        serverHostname: String? = nil
    ) async throws -> HTTPReply {
        let connection = try await RawConnection.connect(port: port, tls: tls, serverHostname: serverHostname)
        defer { Task { await connection.close() } }
        try await connection.send(request)
        return try await Self.readReply(from: connection, headOnly: request.hasPrefix("HEAD "))
    }

    /// `GET path` with the given extra header lines.
    public static func get(
        port: Int,
        _ path: String,
        headers: [String] = [],
        tls: NIOSSLContext? = nil,
        serverHostname: String? = nil
    ) async throws -> HTTPReply {
        let lines = ["GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)"] + headers + ["", ""]
        return try await Self.exchange(
            port: port,
            request: lines.joined(separator: "\r\n"),
            tls: tls,
            serverHostname: serverHostname
        )
    }

    /// Reads a status line, headers, and a body of `Content-Length` bytes.
    public static func readReply(from connection: RawConnection, headOnly: Bool = false) async throws -> HTTPReply {
        let (status, headers) = try await Self.readHead(from: connection)
        let length = headOnly || status == 304 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        let body = try await connection.read { bytes in
            bytes.count >= length ? (length, Array(bytes.prefix(length))) : nil
        }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    /// Reads a status line and headers (up to the empty line).
    public static func readHead(from connection: RawConnection) async throws -> (Int, [String: String]) {
        let head = try await connection.read { bytes -> (count: Int, value: String)? in
            guard let end = Self.endOfHead(bytes) else { return nil }
            return (end, String(decoding: bytes.prefix(end), as: UTF8.self))
        }
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers[line[..<colon].lowercased()] = String(value)
        }
        return (status, headers)
    }

    private static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}
