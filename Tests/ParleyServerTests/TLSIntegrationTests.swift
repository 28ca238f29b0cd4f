import Foundation
import NIOSSL
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

    /// A TLS 1.2 client gets an AEAD suite or nothing: one offering only CBC/SHA-1 suites is refused.
    @Test func tls12OffersOnlyAuthenticatedEncryption() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files)
        func welcomed(_ suites: [NIOTLSCipher]) async throws -> Bool {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(files.certificatePath)
            configuration.maximumTLSVersion = .tlsv12
            configuration.cipherSuiteValues = suites
            let raw = try await RawConnection.connect(
                port: server.port,
                tls: try NIOSSLContext(configuration: configuration),
                serverHostname: "localhost"
            )
            try? await raw.send("NICK tls\(suites.count)\r\nUSER x 0 * :x\r\n")
            let welcome = try? await raw.read(timeout: .seconds(5)) { bytes in
                String(decoding: bytes, as: UTF8.self).contains(" 001 ") ? (bytes.count, true) : nil
            }
            await raw.close()
            return welcome == true
        }
        #expect(
            try await !welcomed([.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]),
            "CBC/SHA-1 is refused"
        )
        #expect(
            try await welcomed([.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]),
            "AES-GCM is taken"
        )
        await server.stop()
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

    @Test func tlsOlderThan12IsRefused() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.start(files)
        defer { Task { await server.stop() } }
        var old = TLSConfiguration.makeClientConfiguration()
        old.certificateVerification = .none
        old.minimumTLSVersion = .tlsv1
        old.maximumTLSVersion = .tlsv11
        let refused = try await RawConnection.connect(port: server.port, tls: try NIOSSLContext(configuration: old))
        try? await refused.send("NICK old\r\nUSER old 0 * :x\r\n")
        let bytes = try await refused.readUntilClosed()
        #expect(bytes.isEmpty, "no IRC over TLS 1.1")
        var current = old
        current.maximumTLSVersion = .tlsv12
        let accepted = try await RawConnection.connect(
            port: server.port,
            tls: try NIOSSLContext(configuration: current)
        )
        try await accepted.send("NICK new\r\nUSER new 0 * :x\r\n")
        let welcome = try await accepted.read { bytes -> (count: Int, value: Bool)? in
            String(decoding: bytes, as: UTF8.self).contains(" 001 ") ? (bytes.count, true) : nil
        }
        #expect(welcome)
        await accepted.close()
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

    @Test func stsSendsPlaintextClientsToTheTLSPortAndTellsTLSClientsHowLongToStay() async throws {
        let (files, directory) = try Self.certificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await TestServer.start { configuration in
            configuration.tlsCertificatePath = files.certificatePath
            configuration.tlsKeyPath = files.keyPath
            configuration.sts = true
            configuration.stsDuration = 3600
        }
        defer { Task { await server.stop() } }
        let plain = try await server.connect()
        try await plain.send("CAP LS 302")
        let plainList = try await plain.expect(.cap).parameters.last ?? ""
        // The port bound (the configuration said 0: any free port), which takes TLS as well as plain IRC.
        #expect(plainList.split(separator: " ").contains("sts=port=\(server.port)"))
        let secure = TestClient(
            try await IRCClient.connect(
                host: "localhost",
                port: server.port,
                tls: .trusting(certificateFile: files.certificatePath)
            )
        )
        try await secure.send("CAP LS 302")
        let secureList = try await secure.expect(.cap).parameters.last ?? ""
        #expect(secureList.split(separator: " ").contains("sts=duration=3600"))
        await plain.close()
        await secure.close()
    }
}

/// Logging in with a TLS client certificate: NickServ CERT ADD, then SASL EXTERNAL on later connections.
@Suite struct CertificateLoginTests {
    @Test func aRegisteredCertificateLogsInWithSASLExternal() async throws {
        let (server, client) = try TLSIntegrationTests.certificate()
        let (other, otherDirectory) = try TLSIntegrationTests.certificate()
        defer {
            try? FileManager.default.removeItem(at: client)
            try? FileManager.default.removeItem(at: otherDirectory)
        }
        let identity = try SelfSignedCertificate.ensure(in: client.path + "/client", hostName: "client")
        let stranger = try SelfSignedCertificate.ensure(in: otherDirectory.path + "/client", hostName: "stranger")
        _ = other
        let store = try await TestStore.open()
        let running = try await TestServer.start(store: store) { configuration in
            configuration.tlsCertificatePath = server.certificatePath
            configuration.tlsKeyPath = server.keyPath
        }
        func connect(_ presenting: SelfSignedCertificate.Files?) async throws -> TestClient {
            TestClient(
                try await IRCClient.connect(
                    host: "localhost",
                    port: running.port,
                    tls: .trusting(certificateFile: server.certificatePath),
                    clientCertificate: presenting.map { ($0.certificatePath, $0.keyPath) }
                )
            )
        }
        let expected = identity.fingerprint.lowercased().filter { $0 != ":" }

        // Register an account, and the certificate this connection presents.
        let owner = try await connect(identity)
        try await owner.client.startRegistration(nick: "certa", capabilities: [])
        try await owner.expect(.errNoMotd, .rplEndOfMotd)
        try await owner.send("WHOIS certa")
        let shown = try await owner.expect(.rplWhoisCertFP)
        #expect(shown.parameters.last == "has client certificate fingerprint \(expected)")
        try await owner.send("PRIVMSG NickServ :REGISTER certa-password")
        try await owner.expect(.rplLoggedIn)
        try await owner.send("PRIVMSG NickServ :CERT ADD")
        let added = try await owner.expect(.notice)
        #expect(added.parameters.last == "The certificate \(expected) now logs in to certa (SASL EXTERNAL).")
        try await owner.send("PRIVMSG NickServ :CERT LIST")
        _ = try await owner.expect(.notice)
        #expect(try await owner.expect(.notice).parameters.last == expected)

        func external(_ presenting: SelfSignedCertificate.Files?, nick: String) async throws -> IRCMessage {
            let client = try await connect(presenting)
            try await client.send("CAP LS 302")
            try await client.send("CAP REQ sasl")
            try await client.send("NICK \(nick)")
            try await client.send("USER \(nick) 0 * :x")
            try await client.expect(.cap)
            try await client.expect(.cap)
            try await client.send("AUTHENTICATE EXTERNAL")
            var first: IRCMessage
            repeat {
                first = try #require(try await client.next())
            } while first.command != .authenticate && first.command != IRCCommand(.errSaslFail)
            if first.command == .authenticate {
                #expect(first.parameters == ["+"])
                try await client.send("AUTHENTICATE +")
            } else {
                await client.close()
                return first
            }
            let result = try await client.expect(.rplSaslSuccess, .errSaslFail)
            await client.close()
            return result
        }
        let same = try await external(identity, nick: "again")
        #expect(same.command == IRCCommand(.rplSaslSuccess))
        let unknown = try await external(stranger, nick: "intruder")
        #expect(unknown.command == IRCCommand(.errSaslFail))
        #expect(unknown.parameters.last?.contains("no account has this certificate") == true)
        let none = try await external(nil, nick: "nocert")
        #expect(none.command == IRCCommand(.errSaslFail))
        #expect(none.parameters.last?.contains("needs a TLS client certificate") == true)

        try await owner.send("PRIVMSG NickServ :CERT DEL \(identity.fingerprint)")
        #expect(
            try await owner.expect(.notice).parameters.last == "The certificate \(expected) no longer logs in to certa."
        )
        let removed = try await external(identity, nick: "removed")
        #expect(removed.command == IRCCommand(.errSaslFail))
        await owner.close()
        await running.stop()
        try await store.close()
    }
}
