import Foundation
import ParleyClient
import ParleyIRC
import ParleyTestSupport
import Testing

/// `parley-server backup` and `check` on the built binary, beside a running server that is being written to.
@Suite(.timeLimit(.minutes(2))) struct BackupTests {
    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parley-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `parley-server` on `data`, once it says it is listening.
    private func runningServer(in data: URL, _ extra: [String] = []) async throws -> ChatProcess {
        let server = try ChatProcess(
            ["127.0.0.1", "--port", "0", "--data-dir", data.path] + extra,
            executable: "parley-server"
        )
        try await server.waitFor("Parley listening")
        return server
    }

    /// The msgids a SQLite file holds, read by Python's own sqlite3 (not by Parley's code).
    private func storedIDs(in path: String) async throws -> Set<String> {
        let reader = try ChatProcess(
            [
                "python3", "-c",
                "import sqlite3,sys\nfor (m,) in sqlite3.connect(sys.argv[1]).execute('SELECT msgid FROM messages'): print(m)",
                path,
            ],
            executable: "/usr/bin/env"
        )
        #expect(try await reader.exitStatus() == 0)
        return Set(reader.text.split(separator: "\n").map(String.init))
    }

    @Test func aBackupTakenWhileAClientSendsHoldsEveryAcknowledgedMessageAndPassesCheck() async throws {
        let data = try self.scratch()
        let server = try await self.runningServer(in: data, ["--flood-control", "off"])
        defer { server.terminate() }
        let banner = server.text
        let port = try #require(
            banner.split(separator: "irc://127.0.0.1:").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
        )
        let writer = TestClient(try await IRCClient.connect(host: "127.0.0.1", port: port))
        try await writer.client.startRegistration(nick: "writer", capabilities: ["echo-message", "message-tags"])
        try await writer.expect(.errNoMotd, .rplEndOfMotd)
        try await writer.send("JOIN #backup")
        try await writer.expect(.rplEndOfNames)

        // Acknowledged: echoed back, which the server does only once the message is stored.
        func acknowledge(_ count: Int) async throws -> [String] {
            var ids: [String] = []
            while ids.count < count {
                let echo = try await writer.expect(.privmsg)
                ids.append(try #require(echo.tag("msgid")))
            }
            return ids
        }
        for index in 0..<200 { try await writer.send("PRIVMSG #backup :before \(index)") }
        let before = try await acknowledge(200)
        // More lines are on their way while the copy is made.
        for index in 0..<300 { try await writer.send("PRIVMSG #backup :during \(index)") }
        let copy = data.appendingPathComponent("copy.sqlite").path
        let backup = try ChatProcess(["backup", copy, "--data-dir", data.path], executable: "parley-server")
        #expect(try await backup.exitStatus(seconds: 60) == 0)
        #expect(backup.text.contains("Backed up \(data.path)/parley.sqlite to \(copy):"))
        #expect(backup.text.contains("check passed"))
        let during = try await acknowledge(300)
        #expect(Set(before + during).count == 500)

        let check = try ChatProcess(["check", copy], executable: "parley-server")
        #expect(try await check.exitStatus() == 0)
        #expect(check.text.contains("\(copy): ok — schema version"))
        let stored = try await self.storedIDs(in: copy)
        #expect(Set(before).isSubset(of: stored), "acknowledged before the backup but not in it")
        #expect(stored.count >= 200)
        await writer.close()
    }

    @Test func checkFindsADamagedDatabase() async throws {
        let data = try self.scratch()
        let server = try await self.runningServer(in: data)
        defer { server.terminate() }
        // A backup is one whole file (no write-ahead log beside it): the page overwritten below is surely in it.
        let path = data.appendingPathComponent("copy.sqlite").path
        let backup = try ChatProcess(["backup", path, "--data-dir", data.path], executable: "parley-server")
        #expect(try await backup.exitStatus() == 0)
        // Overwrite every page but the first and the last: the header stays, so SQLite opens it and finds the damage.
        let file = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try file.seekToEnd()
        try #require(size >= 3 * 4096)
        try file.seek(toOffset: 4096)
        file.write(Data(repeating: 0xA5, count: Int(size) - 2 * 4096))
        try file.close()
        let check = try ChatProcess(["check", path], executable: "parley-server")
        #expect(try await check.exitStatus() == 65)
        #expect(check.text.contains("\(path): damaged"))
        #expect(!check.text.contains(": ok"))
    }

    @Test func backupRefusesToOverwriteAFile() async throws {
        let data = try self.scratch()
        let server = try await self.runningServer(in: data)
        defer { server.terminate() }
        let existing = data.appendingPathComponent("precious.txt")
        try Data("keep me".utf8).write(to: existing)
        let backup = try ChatProcess(["backup", existing.path, "--data-dir", data.path], executable: "parley-server")
        #expect(try await backup.exitStatus() == 74)
        #expect(backup.text.contains("\(existing.path) already exists; give the name of a new file"))
        #expect(try String(contentsOf: existing, encoding: .utf8) == "keep me")
    }
}
