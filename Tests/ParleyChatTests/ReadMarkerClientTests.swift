import Foundation
import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

/// `parley` and draft/read-marker: what it reads is told to the person's other devices, and what they read clears
/// its unread counts.
@Suite(.timeLimit(.minutes(2))) struct ReadMarkerClientTests {
    /// The text after the last status-line entry for `window` (`1:#lobby 1 │ …` when it has one unread line).
    private func statusAfter(_ window: String, in text: String) -> String {
        guard let range = text.range(of: window, options: .backwards) else { return "" }
        return String(text[range.upperBound...].prefix(4))
    }

    @Test func readingHereMovesTheMarkerAndReadingElsewhereClearsTheCount() async throws {
        let store = try await TestStore.open()
        let server = try await TestServer.start(store: store)
        defer {
            Task {
                await server.stop()
                try? await store.close()
            }
        }
        let registrar = try await server.register("owner")
        try await registrar.send("PRIVMSG NickServ :REGISTER correct-horse")
        _ = try await registrar.expect(.rplLoggedIn)
        try await registrar.send("QUIT")
        _ = try await registrar.drainUntilClosed()

        // The same person's phone: logged in, with the capability.
        let phone = try await server.register("phone", caps: ["draft/read-marker"])
        try await phone.send("PRIVMSG NickServ :IDENTIFY owner correct-horse")
        _ = try await phone.expect(.rplLoggedIn)
        let speaker = try await server.register("speaker")
        try await server.join("#lobby", speaker)

        let terminal = try ChatProcess(
            ["127.0.0.1:\(server.port)", "--nick", "owner", "--account", "owner"],
            terminal: true,
            environment: ["PARLEY_ACCOUNT_PASSWORD": "correct-horse"]
        )
        defer { terminal.terminate() }
        try await terminal.waitFor("[#lobby]")
        try await speaker.send("PRIVMSG #lobby :seen on the terminal")
        try await terminal.waitFor("seen on the terminal")
        // On screen, so read: the terminal says so, and the phone hears it.
        let marker = try await phone.expect(.markread)
        #expect(marker.parameters.first == "#lobby")
        #expect(marker.parameters.last?.hasPrefix("timestamp=") == true)

        terminal.write("/join #elsewhere\r")
        try await terminal.waitFor("[#elsewhere]")
        try await speaker.send("PRIVMSG #lobby :unread on the terminal")
        try await terminal.waitFor("1:#lobby 1")
        // Read on the phone: the terminal's count for #lobby goes.
        let now = IRCTimestamp.format(millisecondsSince1970: Int64(Date().timeIntervalSince1970 * 1000) + 1000)
        try await phone.send("MARKREAD #lobby timestamp=\(now)")
        let deadline = ContinuousClock.now + .seconds(10)
        while self.statusAfter("1:#lobby", in: terminal.text).hasPrefix(" 1"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!self.statusAfter("1:#lobby", in: terminal.text).hasPrefix(" 1"), "\(terminal.text.suffix(300))")
        terminal.write("quit\r")
        #expect(try await terminal.exitStatus() == 0)
    }
}
