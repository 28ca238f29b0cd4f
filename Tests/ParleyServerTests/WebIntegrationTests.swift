import Foundation
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// The web side of port 1060 over real sockets: the client's files, /healthz, /metrics, bad HTTP, and IRC over
/// WebSocket next to plain IRC on the same port.
@Suite struct WebIntegrationTests {
    @Test func servesTheWebClientWithItsSecurityHeadersAndRevalidation() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let page = try await HTTPTestClient.get(port: server.port, "/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.text.contains("<script type=\"module\" src=\"app.js\">"))
        let policy = try #require(page.headers["content-security-policy"])
        #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
        let etag = try #require(page.headers["etag"])
        let again = try await HTTPTestClient.get(port: server.port, "/", headers: ["If-None-Match: \(etag)"])
        #expect(again.status == 304 && again.body.isEmpty)
        let script = try await HTTPTestClient.get(port: server.port, "/app.js")
        #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8")
        let zipped = try await HTTPTestClient.get(port: server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(zipped.headers["content-encoding"] == "gzip")
        #expect(zipped.body.prefix(2) == [0x1F, 0x8B], "a gzip stream")
        #expect(zipped.body.count < script.body.count / 2)
        #expect(script.headers["content-encoding"] == nil, "not compressed for a client that did not ask")
        let missing = try await HTTPTestClient.get(port: server.port, "/no-such-file")
        #expect(missing.status == 404)
        let post = try await HTTPTestClient.exchange(
            port: server.port,
            request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        )
        #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
    }

    @Test func badHTTPGets400AndIsClosed() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let connection = try await RawConnection.connect(port: server.port)
        try await connection.send("GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n")
        let reply = try await connection.readUntilClosed()
        #expect(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        let problem = try await server.recoveryProblem()
        #expect(problem == nil)
    }

    /// A body on a handshake is refused with a reason (NIO kept such a connection's pipeline if it closed first).
    @Test func aWebSocketUpgradeRequestWithABodyGets400() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let connection = try await RawConnection.connect(port: server.port)
        try await connection.send(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Content-Length: 2\r\n\r\nab"
        )
        let reply = try await connection.read { bytes -> (count: Int, value: String)? in
            let text = String(decoding: bytes, as: UTF8.self)
            return text.hasSuffix("has no body.\n") ? (bytes.count, text) : nil
        }
        #expect(reply.hasPrefix("HTTP/1.1 400"), "\(reply)")
        await connection.close()
    }

    @Test func healthSaysWhetherTheStoreAnswers() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store)
        defer { Task { await server.stop() } }
        let alice = try await server.register("alice")
        let healthy = try await HTTPTestClient.get(port: server.port, "/healthz")
        #expect(healthy.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(healthy.body)) as? [String: Any])
        #expect(json["status"] as? String == "ok")
        #expect(json["store"] as? String == "ok")
        #expect(json["registered_clients"] as? Int == 1)
        #expect((json["connections"] as? Int ?? 0) >= 1)
        store.setFailing(true)
        let failing = try await HTTPTestClient.get(port: server.port, "/healthz")
        #expect(failing.status == 503)
        #expect(failing.text.contains("\"store\":\"failing\""))
        await alice.close()
        await server.stop()
        try await store.close()
    }

    /// Every sample line parses as Prometheus text, and the counters move with traffic.
    @Test func metricsParseAndMoveAfterTraffic() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let before = try Self.samples(try await HTTPTestClient.get(port: server.port, "/metrics"))
        let alice = try await server.register("alice")
        let bob = try await server.register("bob")
        try await server.join("#metrics", alice, bob)
        for index in 0..<5 { try await alice.send("PRIVMSG #metrics :hello \(index)") }
        for _ in 0..<5 { _ = try await bob.expect(.privmsg) }
        let reply = try await HTTPTestClient.get(port: server.port, "/metrics")
        #expect(reply.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let after = try Self.samples(reply)
        let received = after["parley_messages_received_total"] ?? 0
        #expect(
            received - (before["parley_messages_received_total"] ?? 0) >= 5 + 2 * 3,
            "five PRIVMSGs and NICK, USER, JOIN from each client"
        )
        #expect((after["parley_messages_delivered_total"] ?? 0) - (before["parley_messages_delivered_total"] ?? 0) >= 5)
        #expect((after["parley_bytes_received_total"] ?? 0) > (before["parley_bytes_received_total"] ?? 0))
        #expect((after["parley_bytes_sent_total"] ?? 0) > (before["parley_bytes_sent_total"] ?? 0))
        #expect(after["parley_connections{transport=\"irc\"}"] == 2)
        #expect(after["parley_registered_clients"] == 2)
        #expect(after["parley_channels"] == 1)
        #expect(after.keys.contains { $0.hasPrefix("parley_event_loop_lag_seconds_bucket") })
        await alice.close()
        await bob.close()
    }

    /// Parses the Prometheus text format strictly: `# HELP`/`# TYPE` comments, else `name{labels} value`.
    static func samples(_ reply: HTTPReply) throws -> [String: Double] {
        #expect(reply.status == 200)
        var samples: [String: Double] = [:]
        let pattern = try NSRegularExpression(
            pattern:
                #"^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})?) (\S+)$"#
        )
        for line in reply.text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            let range = NSRange(line.startIndex..., in: line)
            let match = try #require(pattern.firstMatch(in: line, range: range), "not Prometheus text: \(line)")
            let name = String(line[Range(match.range(at: 1), in: line)!])
            let value = try #require(Double(String(line[Range(match.range(at: 4), in: line)!])), "bad value: \(line)")
            samples[name] = value
        }
        #expect(!samples.isEmpty)
        return samples
    }

    @Test func aWebSocketClientChatsWithAPlainClientOnTheSamePort() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let socket = try await WebSocketTestClient.connect(port: server.port, protocols: ["text.ircv3.net"])
        #expect(socket.headers["sec-websocket-protocol"] == "text.ircv3.net")
        try await socket.send("NICK web")
        try await socket.send("USER web 0 * :Web user")
        let welcome = try await socket.receive(containing: " 001 ")
        #expect(welcome.opcode == WebSocketTestClient.Frame.text)
        #expect(!welcome.text.contains("\r") && !welcome.text.contains("\n"), "one line per message, no CR LF")
        _ = try await socket.receive(containing: "MOTD")
        let plain = try await server.register("plain")
        try await plain.send("JOIN #mixed")
        try await plain.expect(.rplEndOfNames)
        try await socket.send("JOIN #mixed")
        _ = try await socket.receive(containing: " 366 ")
        try await plain.send("PRIVMSG #mixed :hello browser")
        let heard = try await socket.receive(containing: "PRIVMSG")
        #expect(heard.text.hasPrefix(":plain!plain@") && heard.text.hasSuffix(" PRIVMSG #mixed :hello browser"))
        // A client that ends its line with CR LF anyway is understood.
        try await socket.send(opcode: WebSocketTestClient.Frame.text, Array("PRIVMSG #mixed :hello terminal\r\n".utf8))
        let message = try await plain.expect(.privmsg)
        #expect(message.parameters == ["#mixed", "hello terminal"])
        #expect(message.sourceNick == "web")
        await plain.close()
        await socket.close()
    }

    @Test func subprotocolChoiceAndFrameKinds() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let binary = try await WebSocketTestClient.connect(
            port: server.port,
            path: "/webirc",
            protocols: ["binary.ircv3.net", "text.ircv3.net"]
        )
        #expect(binary.headers["sec-websocket-protocol"] == "binary.ircv3.net")
        try await binary.send(opcode: WebSocketTestClient.Frame.binary, Array("PING :abc".utf8))
        let pong = try await binary.receive(containing: "PONG")
        #expect(pong.opcode == WebSocketTestClient.Frame.binary)
        #expect(pong.text == ":irc.test PONG irc.test abc")
        let none = try await WebSocketTestClient.connect(port: server.port)
        #expect(none.headers["sec-websocket-protocol"] == nil)
        try await none.send("PING :xyz")
        let textPong = try await none.receive(containing: "PONG")
        #expect(textPong.opcode == WebSocketTestClient.Frame.text)
        await binary.close()
        await none.close()
    }

    @Test func pingFramesAreAnsweredAndCloseIsEchoed() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let socket = try await WebSocketTestClient.connect(port: server.port, protocols: ["text.ircv3.net"])
        try await socket.send(opcode: WebSocketTestClient.Frame.ping, [1, 2, 3])
        let pong = try await socket.receive()
        #expect(pong == .init(fin: true, opcode: WebSocketTestClient.Frame.pong, payload: [1, 2, 3]))
        // A line split over two frames arrives whole.
        try await socket.send(opcode: WebSocketTestClient.Frame.text, Array("PING :spl".utf8), fin: false)
        try await socket.send(opcode: 0x0, Array("it".utf8))
        #expect(try await socket.receive(containing: "PONG").text.hasSuffix(" split"))
        try await socket.send(opcode: WebSocketTestClient.Frame.close, [0x03, 0xE8])
        let close = try await socket.receive()
        #expect(close.opcode == WebSocketTestClient.Frame.close)
        #expect(close.payload.prefix(2) == [0x03, 0xE8])
        _ = try await socket.connection.readUntilClosed()
        let problem = try await server.recoveryProblem()
        #expect(problem == nil)
    }

    @Test func quittingSendsTheErrorLineThenACloseFrame() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let socket = try await WebSocketTestClient.connect(port: server.port, protocols: ["text.ircv3.net"])
        try await socket.send("QUIT :bye")
        let error = try await socket.receive()
        #expect(error.text.hasPrefix("ERROR :Closing link"))
        let close = try await socket.receive()
        #expect(close.opcode == WebSocketTestClient.Frame.close && close.payload.prefix(2) == [0x03, 0xE8])
        await socket.close()
        let problem = try await server.recoveryProblem()
        #expect(problem == nil)
    }

    /// RFC 6455 §5.1, §5.2: unmasked client frames, RSV bits without an extension and reserved opcodes are
    /// protocol errors, closed with 1002.
    @Test func malformedWebSocketFramesAreClosedWithAProtocolError() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let cases: [(String, (WebSocketTestClient) async throws -> Void)] = [
            (
                "unmasked",
                { try await $0.send(opcode: WebSocketTestClient.Frame.text, Array("PING x".utf8), masked: false) }
            ),
            ("rsv1", { try await $0.send(opcode: WebSocketTestClient.Frame.text, Array("PING x".utf8), rsv1: true) }),
            ("opcode 3", { try await $0.send(opcode: 3, Array("x".utf8)) }),
            ("opcode 11", { try await $0.send(opcode: 11, []) }),
        ]
        for (name, send) in cases {
            let socket = try await WebSocketTestClient.connect(port: server.port)
            try await send(socket)
            let close = try await socket.receive()
            #expect(close.opcode == WebSocketTestClient.Frame.close, "\(name)")
            #expect(close.payload.prefix(2) == [0x03, 0xEA], "\(name): 1002")
            await socket.close()
        }
    }

    @Test func onlyTheSameOriginOrAListedOneMayOpenAWebSocket() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        await #expect(throws: WebSocketTestClient.Refused(status: 403)) {
            _ = try await WebSocketTestClient.connect(port: server.port, origin: "http://evil.example")
        }
        let same = try await WebSocketTestClient.connect(port: server.port, origin: "http://127.0.0.1:\(server.port)")
        await same.close()
        await #expect(throws: WebSocketTestClient.Refused(status: 404)) {
            _ = try await WebSocketTestClient.connect(port: server.port, path: "/elsewhere")
        }
        let listed = try await TestServer.start { $0.websocketOrigins = ["https://chat.example.org"] }
        defer { Task { await listed.stop() } }
        let allowed = try await WebSocketTestClient.connect(port: listed.port, origin: "https://chat.example.org")
        await allowed.close()
        await #expect(throws: WebSocketTestClient.Refused(status: 403)) {
            _ = try await WebSocketTestClient.connect(port: listed.port, origin: "http://127.0.0.1:\(listed.port)")
        }
    }

    /// DNS rebinding: a page on a name the attacker controls, pointed at this server, sends a Host that matches its
    /// Origin. Only IP addresses, localhost and the server's name count as the page's own origin.
    @Test func aRebindingPageWhoseHostMatchesItsOriginIsRefused() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        func upgrade(host: String) async throws -> Int {
            let request = [
                "GET / HTTP/1.1", "Host: \(host):\(server.port)", "Origin: http://\(host):\(server.port)",
                "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version: 13", "", "",
            ]
            return try await HTTPTestClient.exchange(port: server.port, request: request.joined(separator: "\r\n"))
                .status
        }
        #expect(try await upgrade(host: "evil.example") == 403)
        #expect(try await upgrade(host: "irc.test") == 101, "the server's own name")
        #expect(try await upgrade(host: "localhost") == 101)
    }

    @Test func metricsCanRequireABearerToken() async throws {
        let server = try await TestServer.start { $0.metricsToken = "s3cret" }
        defer { Task { await server.stop() } }
        #expect(try await HTTPTestClient.get(port: server.port, "/metrics").status == 401)
        let wrong = try await HTTPTestClient.get(port: server.port, "/metrics", headers: ["Authorization: Bearer nope"])
        #expect(wrong.status == 401)
        let right = try await HTTPTestClient.get(
            port: server.port,
            "/metrics",
            headers: ["Authorization: Bearer s3cret"]
        )
        #expect(right.status == 200 && right.text.contains("parley_"))
        #expect(try await HTTPTestClient.get(port: server.port, "/healthz").status == 200, "health stays open")
    }

    @Test func webOffMeansPlainIRCOnly() async throws {
        let server = try await TestServer.start { $0.web = false }
        defer { Task { await server.stop() } }
        let connection = try await RawConnection.connect(port: server.port)
        try await connection.send("GET / HTTP/1.1\r\n\r\n")
        let answer = try await connection.read { bytes -> (count: Int, value: String)? in
            guard let end = bytes.firstIndex(of: 10) else { return nil }
            return (end + 1, String(decoding: bytes[...end], as: UTF8.self))
        }
        #expect(answer.contains(" 451 ") || answer.contains(" 421 "), "an IRC numeric, not HTTP: \(answer)")
    }
}

extension WebSocketTestClient.Refused: Equatable {
    public static func == (left: Self, right: Self) -> Bool { left.status == right.status }
}
