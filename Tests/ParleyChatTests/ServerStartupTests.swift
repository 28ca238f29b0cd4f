import Foundation
import ParleyServer
import ParleyTestSupport
import ParleyVersion
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `parley-server` itself, run as an operator runs it: what it says when it cannot start, and with which exit code.
@Suite(.timeLimit(.minutes(2))) struct ServerStartupTests {
    private func server(_ arguments: [String]) throws -> ChatProcess {
        try ChatProcess(arguments, executable: "parley-server")
    }

    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parley-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: ["parley-server", "parley", "parley-bench"])
    func versionNamesTheCommitItWasBuiltFrom(binary: String) async throws {
        let process = try ChatProcess(["--version"], executable: binary)
        #expect(try await process.exitStatus() == 0)
        #expect(process.text.hasPrefix("\(binary) \(ParleyVersion.version) ("))
        // A git checkout: the abbreviated commit (the tests run from one); "-modified" when the tree had changes.
        let commit = process.text.split(separator: "(").last?.split(separator: ")").first.map(String.init) ?? ""
        let hash = commit.hasSuffix("-modified") ? String(commit.dropLast("-modified".count)) : commit
        #expect(hash.count == 12 && hash.allSatisfy(\.isHexDigit), "commit '\(commit)'")
    }

    @Test func aDataDirectoryThatIsAFileIsNamedWithWhatToDo() async throws {
        let file = try self.scratch().appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: file)
        let process = try self.server(["127.0.0.1", "--port", "0", "--data-dir", file.path])
        #expect(try await process.exitStatus() == 73)
        #expect(process.text.contains("cannot use the data directory \(file.path): it exists and is not a directory"))
    }

    @Test func aDataDirectoryThisUserCannotWriteIsNamed() async throws {
        // As root the server runs as nobody, who must be able to reach the directory to find it read-only: the
        // usual scratch place may sit under a private (0700) directory (a clone made in a `mktemp -d`), so this one
        // is made right under /tmp.
        let parent =
            geteuid() == 0
            ? URL(fileURLWithPath: "/tmp").appendingPathComponent("parley-startup-\(UUID().uuidString)")
            : try self.scratch()
        defer { if geteuid() == 0 { try? FileManager.default.removeItem(at: parent) } }
        let data = parent.appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: data.path)
        let arguments = ["127.0.0.1", "--port", "0", "--data-dir", data.path]
        // Root may write anywhere: as root (CI's containers), the server runs as nobody, as an operator's would.
        let process =
            geteuid() == 0
            ? try ChatProcess(
                [
                    "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    ChatProcess.binary(named: "parley-server").path,
                ] + arguments,
                executable: "/usr/bin/env"
            )
            : try self.server(arguments)
        #expect(try await process.exitStatus() == 73)
        #expect(process.text.contains("cannot use the data directory \(data.path): it cannot be written by this user"))
    }

    @Test func aPortInUseIsNamedWithWhatToDo() async throws {
        let running = try await TestServer.start()
        defer { Task { await running.stop() } }
        let data = try self.scratch()
        let process = try self.server(["127.0.0.1", "--port", "\(running.port)", "--data-dir", data.path])
        #expect(try await process.exitStatus() == 69)
        #expect(process.text.contains("cannot listen on 127.0.0.1:\(running.port): the port is already in use"))
        #expect(process.text.contains("--port"))
    }

    @Test func anAddressThisMachineDoesNotHaveIsNamed() async throws {
        let data = try self.scratch()
        // 192.0.2.0/24 is TEST-NET-1: never an address of this machine.
        let process = try self.server(["192.0.2.1", "--port", "0", "--data-dir", data.path])
        #expect(try await process.exitStatus() == 69)
        #expect(process.text.contains("cannot listen on 192.0.2.1:"))
        #expect(process.text.contains("no such address"))
    }

    @Test func aDatabaseThatCannotBeReadIsNamedWithItsOwnExitCode() async throws {
        let data = try self.scratch()
        try Data("this is not a database, it is a note".utf8).write(to: data.appendingPathComponent("parley.sqlite"))
        let process = try self.server(["127.0.0.1", "--port", "0", "--data-dir", data.path])
        #expect(try await process.exitStatus() == 74)
        #expect(process.text.contains("cannot open the database \(data.path)/parley.sqlite"))
    }

    @Test func theStartLineSaysWhatIsOnWithTLS() async throws {
        let data = try self.scratch()
        let process = try self.server(["127.0.0.1", "--port", "0", "--data-dir", data.path, "--tls-self-signed"])
        defer { process.terminate() }
        try await process.waitFor("in a browser")
        let text = process.text
        #expect(text.contains("Parley listening on ircs://127.0.0.1:"))
        #expect(text.contains("(self-signed, SHA-256 "))
        #expect(text.contains("--tls-ca \(data.path)/tls-cert.pem`"))
        #expect(text.contains(" -tls`"))
        #expect(text.contains("open https://127.0.0.1:"))
        #expect(!text.contains("http://"))
    }

    @Test func aSecondServerOnOneDataDirectoryIsRefusedNamingTheFirst() async throws {
        let data = try self.scratch()
        let first = try self.server(["127.0.0.1", "--port", "0", "--data-dir", data.path])
        defer { first.terminate() }
        try await first.waitFor("Parley listening")
        let second = try self.server(["127.0.0.1", "--port", "0", "--data-dir", data.path])
        #expect(try await second.exitStatus() == 75)
        #expect(second.text.contains("the data directory \(data.path) is in use by another parley-server (pid "))
        #expect(second.text.contains("--data-dir"))
    }

    @Test func aMissingTLSCertificateIsNamedWithItsOwnExitCode() async throws {
        let data = try self.scratch()
        let missing = data.appendingPathComponent("no-such-cert.pem").path
        let key = data.appendingPathComponent("key.pem").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: key))
        let process = try self.server([
            "127.0.0.1", "--port", "0", "--data-dir", data.path, "--tls-cert", missing, "--tls-key", key,
        ])
        #expect(try await process.exitStatus() == 78)
        #expect(process.text.contains("TLS cannot be set up: the certificate file \(missing) does not exist"))
    }

    @Test func aKeyThatIsNotTheCertificatesIsNamed() async throws {
        let one = try SelfSignedCertificate.ensure(in: try self.scratch().path, hostName: "one.test")
        let other = try SelfSignedCertificate.ensure(in: try self.scratch().path, hostName: "other.test")
        let data = try self.scratch()
        let process = try self.server([
            "127.0.0.1", "--port", "0", "--data-dir", data.path, "--tls-cert", one.certificatePath, "--tls-key",
            other.keyPath,
        ])
        #expect(try await process.exitStatus() == 78)
        #expect(
            process.text.contains(
                "the private key \(other.keyPath) does not belong to the certificate \(one.certificatePath)"
            )
        )
    }

    @Test func aDatabaseNewerThanThisServerIsNamed() async throws {
        let data = try self.scratch()
        // A database a later Parley left: its schema version is past the newest this binary knows.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 9999'); c.commit()",
            data.appendingPathComponent("parley.sqlite").path,
        ]
        try sqlite.run()
        sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0)
        let process = try self.server(["127.0.0.1", "--port", "0", "--data-dir", data.path])
        #expect(try await process.exitStatus() == 74)
        #expect(process.text.contains("schema version 9999, newer than this Parley knows"))
    }

    @Test func aMissingMOTDFileIsNamed() async throws {
        let data = try self.scratch()
        let missing = data.appendingPathComponent("motd.txt").path
        let process = try self.server(["127.0.0.1", "--port", "0", "--data-dir", data.path, "--motd-file", missing])
        #expect(try await process.exitStatus() == 78)
        #expect(process.text.contains("cannot read the motd-file \(missing)"))
    }
}

/// The configuration reference printed by the binary is README's table, and names the flags `serve` really has.
@Suite(.timeLimit(.minutes(2))) struct ConfigurationReferenceOnTheBinaryTests {
    @Test func readmeHoldsExactlyTheReferenceTheServerPrints() async throws {
        let process = try ChatProcess(["config", "--reference"], executable: "parley-server")
        #expect(try await process.exitStatus() == 0)
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../README.md"),
            encoding: .utf8
        )
        let start = try #require(readme.range(of: "<!-- config-reference:"))
        let body = try #require(readme[start.upperBound...].range(of: "-->\n"))
        let end = try #require(readme.range(of: "<!-- end of config-reference -->"))
        let section = String(readme[body.upperBound..<end.lowerBound])
        #expect(section == process.text, "README's table differs from `parley-server config --reference`: paste it")
        #expect(section.contains("| `history-max-age` |"))
    }

    @Test func everyFlagInTheReferenceIsAnOptionOfServeAndEveryOptionIsAKeyOrListed() async throws {
        let help = try ChatProcess(["serve", "--help"], executable: "parley-server")
        #expect(try await help.exitStatus() == 0)
        let options = Set(
            help.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," })
                .filter { $0.hasPrefix("--") }.map { String($0.prefix { $0 == "-" || $0.isLetter }) }
        )
        let flags = Set(ServerConfiguration.reference.compactMap(\.flag).filter { $0.hasPrefix("--") })
        #expect(flags.subtracting(options).isEmpty, "in the reference but not an option: \(flags.subtracting(options))")
        // Options that set no key; README names each of them below the table.
        let notKeys: Set<String> = [
            "--config", "--tls-self-signed", "--log-level", "--log-format", "--help", "--version",
        ]
        #expect(
            options.subtracting(flags).subtracting(notKeys).isEmpty,
            "options missing from the reference: \(options.subtracting(flags).subtracting(notKeys))"
        )
    }

    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("parley-json-\(UUID().uuidString)")
        let server = try ChatProcess(
            ["127.0.0.1", "--port", "0", "--data-dir", data.path, "--log-format", "json"],
            executable: "parley-server"
        )
        defer { server.terminate() }
        try await server.waitFor("\"message\":\"listening\"")
        let logLines = server.text.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(!logLines.isEmpty)
        for line in logLines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["time"] is String, "\(line)")
        }
    }
}
