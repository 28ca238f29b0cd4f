import Foundation
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// `parley --account`: logs in with SASL on the first connection and again after the server comes back.
@Suite(.timeLimit(.minutes(2))) struct AccountLoginClientTests {
    /// Registers the account `owner` (password correct-horse) through NickServ.
    private func registerOwner(_ server: TestServer) async throws {
        let owner = try await server.register("owner")
        try await owner.send("PRIVMSG NickServ :REGISTER correct-horse")
        _ = try await owner.expect(.rplLoggedIn)
        try await owner.send("QUIT")
        _ = try await owner.drainUntilClosed()
    }

    private func watcher(_ server: TestServer) async throws -> TestClient {
        let watcher = try await server.register("watcher", caps: ["account-tag", "message-tags"])
        try await server.join("#lobby", watcher)
        return watcher
    }

    @Test func logsInAndLogsInAgainAfterTheServerRestarts() async throws {
        let store = try await TestStore.open()
        let first = try await TestServer.start(store: store)
        let port = first.port
        try await self.registerOwner(first)
        let client = try ChatProcess(
            ["127.0.0.1:\(port)", "--nick", "owner", "--account", "owner"],
            environment: ["PARLEY_ACCOUNT_PASSWORD": "correct-horse"]
        )
        defer { client.terminate() }
        try await client.waitFor("You are in #lobby")
        let watcher = try await self.watcher(first)
        client.write("before the restart\n")
        let before = try await watcher.expect(.privmsg)
        #expect(before.parameters.last == "before the restart")
        #expect(before.tag("account") == "owner")
        await watcher.close()

        await first.stop()
        let second = try await TestServer.start(store: store) { $0.port = port }
        let watcher2 = try await self.watcher(second)
        try await client.waitFor("Back on 127.0.0.1 as owner", seconds: 30)
        client.write("after the restart\n")
        let after = try await watcher2.expect(.privmsg)
        #expect(after.parameters.last == "after the restart")
        #expect(after.tag("account") == "owner", "logged in again on the new connection")
        try client.closeInput()
        #expect(try await client.exitStatus() == 0)
        await watcher2.close()
        await second.stop()
        try await store.close()
    }

    @Test func aWrongPasswordStopsWithTheReasonInsteadOfChattingAsAGuest() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store)
        try await self.registerOwner(server)
        let client = try ChatProcess(
            ["127.0.0.1:\(server.port)", "--nick", "owner", "--account", "owner"],
            environment: ["PARLEY_ACCOUNT_PASSWORD": "wrong-horse"]
        )
        try client.closeInput()
        #expect(try await client.exitStatus() == 1)
        #expect(client.text.contains("Logging in as owner failed"))
        #expect(!client.text.contains("You are in #lobby"))
        await server.stop()
        try await store.close()
    }

    @Test func thePasswordIsNeverTakenFromTheCommandLineOrAFileOthersCanRead() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pw-\(UUID().uuidString)")
        try Data("correct-horse\n".utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        let client = try ChatProcess([
            "127.0.0.1:1", "--nick", "owner", "--account", "owner", "--account-password-file", file.path,
        ])
        try client.closeInput()
        #expect(try await client.exitStatus() == 64)
        #expect(client.text.contains("can be read by others; chmod 600 it first"))
        let noPassword = try ChatProcess(["127.0.0.1:1", "--nick", "owner", "--account", "owner"])
        try noPassword.closeInput()
        #expect(try await noPassword.exitStatus() == 64)
        #expect(noPassword.text.contains("needs a password: set PARLEY_ACCOUNT_PASSWORD"))
    }
}
