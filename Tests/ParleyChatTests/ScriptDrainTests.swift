import Foundation
import Testing

/// `parley` in a script when the server goes away before confirming the last lines: it must not claim success.
@Suite(.timeLimit(.minutes(2))) struct ScriptDrainTests {
    /// A server that welcomes one client, takes its lines, and hangs up on its first PING instead of answering:
    /// the lines sent before it were never confirmed.
    private static let hangingServer = """
        import socket
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        print(listener.getsockname()[1], flush=True)
        connection, _ = listener.accept()
        nick = "*"
        for raw in connection.makefile("rb"):
            words = raw.decode().strip().split(" ")
            command = words[0].upper()
            if command == "CAP" and words[1:2] == ["LS"]:
                connection.sendall(b":fake.test CAP * LS :\\r\\n")
            elif command == "NICK":
                nick = words[1]
            elif command == "USER":
                connection.sendall(f":fake.test 001 {nick} :Welcome\\r\\n:fake.test 422 {nick} :No MOTD\\r\\n".encode())
            elif command == "JOIN":
                connection.sendall(f":{nick}!u@h JOIN {words[1]}\\r\\n:fake.test 366 {nick} {words[1]} :End\\r\\n".encode())
            elif command == "PRIVMSG":
                print("got", " ".join(words[2:]), flush=True)
            elif command == "PING":
                print("hanging up", flush=True)
                connection.close()
                break
        """

    @Test func aConnectionLostWhileDrainingExitsOneAndSaysSo() async throws {
        let server = try ChatProcess(["python3", "-c", Self.hangingServer], executable: "/usr/bin/env")
        defer { server.terminate() }
        try await server.waitFor("\n")
        let port = try #require(Int(server.text.split(separator: "\n").first ?? ""))
        let client = try ChatProcess(["127.0.0.1:\(port)", "--nick", "scripted"])
        client.write("first line\nsecond line\n")
        try client.closeInput()
        #expect(try await client.exitStatus() == 1)
        #expect(client.text.contains("Connection to the server lost before it confirmed every line."))
        try await server.waitFor("hanging up")
        #expect(server.text.contains("got :first line"))
    }
}
