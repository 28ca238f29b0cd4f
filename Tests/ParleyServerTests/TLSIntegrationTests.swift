import Foundation
import ParleyClient
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// TLS on the sniffing port and on extra listeners, with a self-signed certificate checked by the clients.
@Suite struct TLSIntegrationTests {
    static func certificate() throws -> (SelfSignedCertificate.Files, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-tls-\(UUID())")
        let files = try SelfSignedCertificate.ensure(in: directory.path, hostName: "localhost")
        return (files, directory)
    }

    static func start(
        _ files: SelfSignedCertificate.Files,
        listeners: [ServerConfiguration.Listener] = []
    )
        async throws -> TestServer
    {
        try await TestServer.start { configuration in
            configuration.tlsCertificatePath = files.certificatePath
            configuration.tlsKeyPath = files.keyPath
            configuration.listeners = listeners
        }
    }

    @Test func theSelfSignedCertificateIsKeptAndItsFingerprintIsStable() throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let again = try SelfSignedCertificate.ensure(in: directory.path, hostName: "localhost")
        #expect(again.fingerprint == files.fingerprint)
        #expect(files.fingerprint.split(separator: ":").count == 32)
        let mode = try FileManager.default.attributesOfItem(atPath: files.keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func ircOverTLSWithAVerifiedCertificateAndPlainIRCOnTheSamePort() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files)
        defer { Task { await server.stop() } }
        let secure = TestClient(
            try await IRCClient.connect(
                host: "localhost",
                port: server.port,
                tls: .trusting(certificateFile: files.certificatePath)
            )
        )
        try await secure.client.startRegistration(nick: "secure", capabilities: [])
        try await secure.expect(.errNoMotd, .rplEndOfMotd)
        let plain = try await server.register("plain")
        try await plain.send("WHOIS secure")
        let whois = try await plain.expect(.rplWhoisSecure)
        #expect(whois.parameters.last == "is using a secure connection")
        try await plain.send("WHOIS plain")
        let end = try await plain.expect(.rplWhoisSecure, .rplEndOfWhois)
        #expect(end.command.rawValue == "318", "a plain connection is not marked secure")
        await secure.close()
        await plain.close()
    }

    @Test func aClientThatDoesNotTrustTheCertificateFails() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files)
        defer { Task { await server.stop() } }
        let client = try? await IRCClient.connect(host: "localhost", port: server.port, tls: .verified)
        if let client {
            // The handshake fails after connect: nothing but a close comes back.
            try? await client.send(raw: "NICK x")
            try? await client.send(raw: "USER x 0 * :x")
            let test = TestClient(client)
            let messages = try await test.drainUntilClosed()
            #expect(!messages.contains { $0.command.rawValue == "001" })
        }
    }

    @Test func httpsAndSecureWebSocketOnTheSamePort() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files)
        defer { Task { await server.stop() } }
        let tls = try RawConnection.trusting(certificateFile: files.certificatePath)
        let health = try await HTTPTestClient.get(port: server.port, "/healthz", tls: tls, serverHostname: "localhost")
        #expect(health.status == 200)
        let socket = try await WebSocketTestClient.connect(
            port: server.port,
            protocols: ["text.ircv3.net"],
            tls: tls,
            serverHostname: "localhost"
        )
        try await socket.send("NICK wss")
        try await socket.send("USER wss 0 * :x")
        _ = try await socket.receive(containing: "MOTD")
        try await socket.send("WHOIS wss")
        _ = try await socket.receive(containing: " 671 ")
        let metrics = try WebIntegrationTests.samples(try await HTTPTestClient.get(port: server.port, "/metrics"))
        #expect(metrics["parley_connections{transport=\"websocket+tls\"}"] == 1)
        await socket.close()
    }

    @Test func extraListenersSpeakOnlyWhatTheyAreFor() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files, listeners: [.init(port: 0, mode: .plain), .init(port: 0, mode: .tls)])
        defer { Task { await server.stop() } }
        let ports = server.server.extraPorts
        try #require(ports.count == 2)
        // The plain port does not serve HTTP: the request line is an unknown IRC command.
        let plain = try await RawConnection.connect(port: ports[0])
        try await plain.send("GET / HTTP/1.1\r\n")
        let answer = try await plain.read { bytes -> (count: Int, value: String)? in
            guard let end = bytes.firstIndex(of: 10) else { return nil }
            return (end + 1, String(decoding: bytes[...end], as: UTF8.self))
        }
        #expect(!answer.hasPrefix("HTTP/"))
        await plain.close()
        // The TLS port refuses plain text and serves IRC inside TLS.
        let refused = try await RawConnection.connect(port: ports[1])
        try await refused.send("NICK x\r\nUSER x 0 * :x\r\n")
        let bytes = try await refused.readUntilClosed()
        #expect(!String(decoding: bytes, as: UTF8.self).contains(" 001 "))
        let secure = TestClient(
            try await IRCClient.connect(
                host: "localhost",
                port: ports[1],
                tls: .trusting(certificateFile: files.certificatePath)
            )
        )
        try await secure.client.startRegistration(nick: "tlsonly", capabilities: [])
        try await secure.expect(.errNoMotd, .rplEndOfMotd)
        await secure.close()
    }

    @Test func reloadPicksUpANewCertificate() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files)
        defer { Task { await server.stop() } }
        // Replace the files with a new certificate, as an operator renewing it would, then reload.
        try FileManager.default.removeItem(atPath: files.certificatePath)
        let renewed = try SelfSignedCertificate.ensure(in: directory.path, hostName: "localhost")
        #expect(renewed.fingerprint != files.fingerprint)
        try server.server.reloadTLS()
        let client = TestClient(
            try await IRCClient.connect(
                host: "localhost",
                port: server.port,
                tls: .trusting(certificateFile: renewed.certificatePath)
            )
        )
        try await client.client.startRegistration(nick: "renewed", capabilities: [])
        try await client.expect(.errNoMotd, .rplEndOfMotd)
        await client.close()
        // A broken file is refused and the working certificate stays.
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: renewed.certificatePath))
        #expect(throws: TLSSetupError.self) { try server.server.reloadTLS() }
    }
}
