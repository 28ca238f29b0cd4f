import ParleyIRC
import ParleyServer
import ParleyTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct FloodLimitIntegrationTests {
    /// Over-long lines cost a flood-control token like any other line: with a burst of 5 and (almost) no refill,
    /// 10 of them and a PING get five 417s and nothing more, where they used to get ten and the PONG at once.
    @Test func overLongLinesCountAgainstFloodControl() async throws {
        let server = try await TestServer.start {
            $0.floodControl = true
            $0.floodBurst = 5
            $0.floodRate = 0.001
        }
        do {
            let client = try await server.connect()
            let long = String(repeating: "x", count: 600)
            for _ in 0..<10 { try await client.send("PRIVMSG #nowhere :\(long)") }
            try await client.send("PING still-waiting")
            var answers: [String] = []
            while let message = try? await client.next(timeout: .seconds(2)) {
                answers.append(message.command.rawValue)
            }
            #expect(answers == Array(repeating: "417", count: 5), "\(answers)")
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct FloodHeldLinesIntegrationTests {
    /// A client that sends many lines and leaves at once (as a piped `parley` does): every line flood control held
    /// back is still carried out, and its QUIT comes after them.
    @Test func linesHeldByFloodControlAreNotDroppedWhenTheClientLeaves() async throws {
        let server = try await TestServer.start {
            $0.floodControl = true
            $0.floodBurst = 5
            $0.floodRate = 20
        }
        do {
            let reader = try await server.register("reader")
            try await reader.send("JOIN #c")
            try await reader.expect(.rplEndOfNames)
            let raw = try await RawConnection.connect(port: server.port)
            var lines = "NICK piped\r\nUSER p 0 * :p\r\nJOIN #c\r\n"
            for index in 0..<40 { lines += "PRIVMSG #c :line \(index)\r\n" }
            lines += "QUIT :done\r\n"
            try await raw.send(lines)
            await raw.close()
            var got: [String] = []
            while true {
                let message = try await reader.expect(.privmsg, .quit)
                if message.command == .quit { break }
                got.append(message.parameters[1])
            }
            #expect(got == (0..<40).map { "line \($0)" })
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }
}
