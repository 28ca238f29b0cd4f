import Foundation
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// `parley` and a server that states a strict transport security policy: the client remembers it over TLS, keeps
/// to TLS afterwards, and moves to TLS when told to on a plaintext connection, never falling back.
@Suite(.timeLimit(.minutes(2))) struct StrictTransportClientTests {
    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parley-sts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private func withSTSServer(_ body: (TestServer, SelfSignedCertificate.Files) async throws -> Void) async throws {
        let certificates = try self.scratch()
        let files = try SelfSignedCertificate.ensure(in: certificates.path, hostName: "127.0.0.1")
        let server = try await TestServer.start { configuration in
            configuration.tlsCertificatePath = files.certificatePath
            configuration.tlsKeyPath = files.keyPath
            configuration.sts = true
            configuration.stsDuration = 3600
        }
        do {
            try await body(server, files)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func thePolicySeenOverTLSIsRememberedAndAfterwardsOnlyTLSIsTried() async throws {
        try await self.withSTSServer { server, files in
            let config = try self.scratch()
            let environment = ["XDG_CONFIG_HOME": config.path]
            let first = try ChatProcess(
                ["127.0.0.1:\(server.port)", "--nick", "remembers", "--tls-ca", files.certificatePath],
                environment: environment
            )
            first.write("hello over tls\n")
            try first.closeInput()
            #expect(try await first.exitStatus() == 0)
            let saved = try String(contentsOf: config.appendingPathComponent("parley/sts"), encoding: .utf8)
            let fields = saved.split(separator: " ")
            #expect(fields.count == 3 && fields[0] == "127.0.0.1" && fields[1] == "\(server.port)", "\(saved)")
            let expires = Int64(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            let now = Int64(Date().timeIntervalSince1970)
            #expect((now + 3500)...(now + 3700) ~= expires)

            // Now plain `parley HOST:PORT`: the policy holds, so only TLS with a verified certificate is tried, and
            // the self-signed one cannot be verified against the system's roots: it stops, sending nothing.
            let second = try ChatProcess(["127.0.0.1:\(server.port)", "--nick", "pinned"], environment: environment)
            try second.closeInput()
            #expect(try await second.exitStatus() == 1)
            #expect(second.text.contains("127.0.0.1 said it accepts only TLS (strict transport security, until"))
            #expect(second.text.contains("nothing was sent"))
        }
    }

    @Test func aPlaintextConnectionIsMovedToTLSAndNeverFallsBack() async throws {
        try await self.withSTSServer { server, _ in
            let config = try self.scratch()
            let watcher = try await server.register("watcher")
            try await server.join("#lobby", watcher)
            let client = try ChatProcess(
                ["127.0.0.1:\(server.port)", "--nick", "upgraded"],
                environment: ["XDG_CONFIG_HOME": config.path]
            )
            client.write("this must not go out in plaintext\n")
            try client.closeInput()
            #expect(try await client.exitStatus() == 1)
            #expect(
                client.text.contains("asks for TLS (strict transport security): reconnecting on port \(server.port)")
            )
            #expect(client.text.contains("127.0.0.1 accepts only TLS, and the TLS connection failed"))
            // The plaintext connection never registered: no one named upgraded joined or spoke.
            try await watcher.send("WHOIS upgraded")
            let reply = try await watcher.expect(.errNoSuchNick, .rplWhoisUser)
            #expect(reply.command.rawValue == "401")
            #expect(!FileManager.default.fileExists(atPath: config.appendingPathComponent("parley/sts").path))
            await watcher.close()
        }
    }
}
