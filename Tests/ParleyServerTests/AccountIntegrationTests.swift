import ParleyClient
import ParleyIRC
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct AccountIntegrationTests {
    private func withServer(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer) async throws -> Void
    ) async throws {
        try await TestServer.withHistory(configure) { server, _ in try await body(server) }
    }

    /// Connects with `caps` plus sasl, runs the SASL exchange, and returns the client and the final numeric
    /// (903 or 904), registering afterwards when `register` is true.
    private func saslLogin(
        _ server: TestServer,
        nick: String,
        _ mechanism: SASLClient.Mechanism,
        user: String,
        password: String,
        caps: [String] = []
    ) async throws -> (TestClient, IRCMessage) {
        let client = try await server.connect()
        try await client.send("CAP LS 302")
        try await client.send("NICK \(nick)")
        try await client.send("USER \(nick) 0 * :\(nick)")
        try await client.send("CAP REQ :" + (["sasl"] + caps).joined(separator: " "))
        try await client.expect(.cap)
        let ack = try await client.expect(.cap)
        #expect(ack.parameters[1] == "ACK")
        try await client.send("AUTHENTICATE \(mechanism.rawValue)")
        var sasl = SASLClient(mechanism: mechanism, user: user, password: password)
        while true {
            guard let message = try await client.next() else { throw TimeoutError(waitingFor: "SASL") }
            if message.command == .authenticate {
                let text = message.parameters.last ?? "+"
                let challenge = text == "+" ? [] : (Base64.decode(text) ?? [])
                let response = try sasl.respond(to: challenge)
                try await client.send("AUTHENTICATE " + (response.isEmpty ? "+" : Base64.encode(response)))
            } else if [IRCCommand(.rplSaslSuccess), IRCCommand(.errSaslFail)].contains(message.command) {
                try await client.send("CAP END")
                return (client, message)
            }
        }
    }

    @Test func registerWithNickServThenLogInWithPlainAndScram() async throws {
        try await self.withServer { server in
            let alice = try await server.register("alice")
            try await alice.send("PRIVMSG NickServ :REGISTER correct-horse")
            let notice = try await alice.expect(.notice)
            #expect(notice.source?.hasPrefix("NickServ!") == true)
            #expect(notice.parameters.last?.contains("registered") == true)
            let loggedIn = try await alice.expect(.rplLoggedIn)
            #expect(loggedIn.parameters[2] == "alice")
            await alice.close()

            for mechanism in [SASLClient.Mechanism.plain, .scramSHA256] {
                // Another nick: the first connection's close may not have reached the server yet.
                let (client, result) = try await self.saslLogin(
                    server,
                    nick: "alice\(mechanism.rawValue.count)",
                    mechanism,
                    user: "Alice",
                    password: "correct-horse"
                )
                #expect(result.command == IRCCommand(.rplSaslSuccess), "\(mechanism)")
                try await client.expect(.rplWelcome)
                try await client.send("WHOIS alice\(mechanism.rawValue.count)")
                let account = try await client.expect(.rplWhoisAccount)
                #expect(account.parameters[2] == "alice")
                await client.close()
            }
        }
    }

    @Test func wrongPasswordsUnknownAccountsAndTheFailureLimit() async throws {
        try await self.withServer { server in
            let owner = try await server.register("owner")
            try await owner.send("PRIVMSG NickServ :REGISTER right-password")
            try await owner.expect(.rplLoggedIn)
            for mechanism in [SASLClient.Mechanism.plain, .scramSHA256] {
                let (_, wrong) = try await self.saslLogin(
                    server,
                    nick: "x\(mechanism.rawValue.count)",
                    mechanism,
                    user: "owner",
                    password: "wrong-password"
                )
                #expect(wrong.command == IRCCommand(.errSaslFail), "\(mechanism)")
                let (_, unknown) = try await self.saslLogin(
                    server,
                    nick: "y\(mechanism.rawValue.count)",
                    mechanism,
                    user: "nobody",
                    password: "whatever-else"
                )
                #expect(unknown.command == IRCCommand(.errSaslFail))
            }
            // Two failures so far on `owner`; three more reach the limit, then even the right password is refused.
            for index in 0..<3 {
                let (_, result) = try await self.saslLogin(
                    server,
                    nick: "z\(index)",
                    .plain,
                    user: "owner",
                    password: "nope-nope-nope"
                )
                #expect(result.command == IRCCommand(.errSaslFail))
            }
            let (_, limited) = try await self.saslLogin(
                server,
                nick: "w1",
                .plain,
                user: "owner",
                password: "right-password"
            )
            #expect(limited.command == IRCCommand(.errSaslFail))
            #expect(limited.parameters.last?.contains("too many failed attempts") == true)
        }
    }

    @Test func registerCommandBeforeConnecting() async throws {
        try await self.withServer { server in
            let client = try await server.connect()
            try await client.send("CAP LS 302")
            let ls = try await client.expect(.cap)
            #expect(ls.parameters.last?.contains("draft/account-registration=before-connect") == true)
            #expect(ls.parameters.last?.contains("sasl=PLAIN,SCRAM-SHA-256,EXTERNAL") == true)
            try await client.send("NICK dana")
            try await client.send("REGISTER * * short")
            var fail = try await client.expect(.fail)
            #expect(fail.parameters.prefix(3) == ["REGISTER", "WEAK_PASSWORD", "dana"])
            try await client.send("REGISTER * dana@example.org long-enough-password")
            let success = try await client.expect(.register)
            #expect(success.parameters.prefix(2) == ["SUCCESS", "dana"])
            try await client.expect(.rplLoggedIn)
            try await client.send("USER dana 0 * :Dana")
            try await client.send("CAP END")
            try await client.expect(.rplWelcome)

            let other = try await server.register("eve")
            try await other.send("REGISTER Dana * another-password")
            fail = try await other.expect(.fail)
            #expect(fail.parameters.prefix(2) == ["REGISTER", "ACCOUNT_EXISTS"])
            try await other.send("REGISTER 9bad * another-password")
            fail = try await other.expect(.fail)
            #expect(fail.parameters.prefix(2) == ["REGISTER", "BAD_ACCOUNT_NAME"])
        }
    }

    @Test func aRegisteredNickIsTakenBackAfterTheGracePeriod() async throws {
        // Long enough for IDENTIFY (100,000 PBKDF2 rounds) to finish first even under ThreadSanitizer: with one
        // second, a sanitized run was renamed while its password was still being checked.
        let grace: (inout ServerConfiguration) -> Void = { $0.nickGrace = 4 }
        try await self.withServer(grace) { server in
            let owner = try await server.register("frank")
            try await owner.send("PRIVMSG NickServ :REGISTER frank-password")
            try await owner.expect(.rplLoggedIn)
            try await owner.send("NICK frank_away")
            try await owner.expect(.nick)

            let squatter = try await server.register("grace")
            try await squatter.send("NICK Frank")
            try await squatter.expect(.nick)
            let warning = try await squatter.expect(.notice)
            #expect(warning.parameters.last?.contains("belongs to a registered account") == true)
            let renamed = try await squatter.expect(.nick)
            #expect(renamed.parameters.first?.hasPrefix("Guest") == true)

            // Now the nick is held for its owner: no second grace period for anyone not logged in to it.
            let rightful = try await server.register("henry")
            try await rightful.send("NICK frank")
            let held = try await rightful.expect(.errNicknameInUse)
            #expect(held.parameters.last?.contains("reserved for the owner") == true)
            try await squatter.send("NICK frank")
            try await squatter.expect(.errNicknameInUse)
            // The owner, logged in, takes it at once.
            try await rightful.send("PRIVMSG NickServ :IDENTIFY frank frank-password")
            try await rightful.expect(.rplLoggedIn)
            try await rightful.send("NICK frank")
            try await rightful.expect(.nick)
            try await rightful.send("PING still-frank")
            try await Task.sleep(for: .milliseconds(4500))
            try await rightful.send("WHOIS frank")
            let whois = try await rightful.expect(.rplWhoisUser)
            #expect(whois.parameters[1] == "frank")
        }
    }

    @Test func accountsTravelWithMessagesJoinsAndLogins() async throws {
        try await self.withServer { server in
            let watcher = try await server.register(
                "ivy",
                caps: ["account-tag", "account-notify", "extended-join", "message-tags"]
            )
            let jack = try await server.register("jack")
            try await server.join("#room", watcher, jack)
            try await jack.send("PRIVMSG NickServ :REGISTER jack-password")
            let notify = try await watcher.expect(.account)
            #expect(notify.parameters == ["jack"])
            try await jack.send("PRIVMSG #room :signed")
            let message = try await watcher.expect(.privmsg)
            #expect(message.tag("account") == "jack")
            try await jack.send("PART #room")
            try await jack.send("JOIN #room")
            let join = try await watcher.expect(.join)
            #expect(join.parameters.prefix(2) == ["#room", "jack"])
            try await jack.send("PRIVMSG NickServ :LOGOUT")
            let logout = try await watcher.expect(.account)
            #expect(logout.parameters == ["*"])
        }
    }

    /// 6 connections × 5 pipelined IDENTIFY guesses at once: only the limit's worth (5 per account from one
    /// address) is checked; the rest are refused without hashing, guesses in flight counting as failures.
    @Test func parallelPipelinedGuessesAreCheckedNoMoreThanTheLimit() async throws {
        try await self.withServer { server in
            let owner = try await server.register("alice")
            try await owner.send("PRIVMSG NickServ :REGISTER right-password")
            try await owner.expect(.rplLoggedIn)
            var guessers: [TestClient] = []
            for index in 0..<6 { guessers.append(try await server.register("guesser\(index)")) }
            for guesser in guessers {
                for guess in 0..<5 { try await guesser.send("PRIVMSG NickServ :IDENTIFY alice guess\(guess)") }
            }
            var wrong = 0
            var throttled = 0
            for guesser in guessers {
                for _ in 0..<5 {
                    let text = try await guesser.expect(.notice).parameters.last ?? ""
                    if text.contains("Wrong account name or password") { wrong += 1 }
                    if text.contains("Too many failed attempts") { throttled += 1 }
                }
            }
            #expect(wrong == 5)
            #expect(throttled == 25)
        }
    }

    /// SCRAM's first answer does not tell whether an account exists: an unknown one gets a challenge too, with the
    /// same salt each time, and fails only at the proof, as a wrong password does.
    @Test func scramAnswersAnUnknownAccountAsItAnswersAKnownOne() async throws {
        try await self.withServer { server in
            func serverFirst(_ user: String) async throws -> String {
                let client = try await server.connect()
                try await client.send("CAP REQ :sasl")
                try await client.expect(.cap)
                try await client.send("AUTHENTICATE SCRAM-SHA-256")
                try await client.expect(.authenticate)
                try await client.send("AUTHENTICATE " + Base64.encode(Array("n,,n=\(user),r=abcdefghijkl".utf8)))
                let answer = try await client.expect(.authenticate, IRCCommand(.errSaslFail))
                await client.close()
                guard answer.command == .authenticate, let text = answer.parameters.last,
                    let decoded = Base64.decode(text)
                else { return "refused" }
                let first = String(decoding: decoded, as: UTF8.self)
                return String(first.split(separator: ",").first { $0.hasPrefix("s=") } ?? "no salt")
            }
            let unknown = try await serverFirst("nobody-here")
            #expect(unknown.hasPrefix("s="), "a challenge, not a refusal: \(unknown)")
            #expect(try await serverFirst("nobody-here") == unknown, "the same salt each time")
        }
    }

    @Test func nickServInfoPasswordChangeAndDrop() async throws {
        try await self.withServer { server in
            let kim = try await server.register("kim")
            try await kim.send("PRIVMSG NickServ :REGISTER first-password")
            try await kim.expect(.rplLoggedIn)
            try await kim.send("PRIVMSG NickServ :INFO")
            var notice = try await kim.expect(.notice)
            while notice.parameters.last?.contains("was registered") != true { notice = try await kim.expect(.notice) }
            try await kim.send("PRIVMSG NickServ :SET PASSWORD second-password")
            notice = try await kim.expect(.notice)
            #expect(notice.parameters.last?.contains("password of kim is changed") == true)
            let (_, old) = try await self.saslLogin(server, nick: "k1", .plain, user: "kim", password: "first-password")
            #expect(old.command == IRCCommand(.errSaslFail))
            let (_, new) = try await self.saslLogin(
                server,
                nick: "k2",
                .plain,
                user: "kim",
                password: "second-password"
            )
            #expect(new.command == IRCCommand(.rplSaslSuccess))
            try await kim.send("PRIVMSG NickServ :DROP second-password")
            try await kim.expect(.rplLoggedOut)
            try await kim.send("PRIVMSG NickServ :IDENTIFY second-password")
            notice = try await kim.expect(.notice)
            // Answered as a wrong password is: a failed login does not say whether the account exists.
            while notice.parameters.last?.contains("Wrong account name or password") != true {
                notice = try await kim.expect(.notice)
            }
        }
    }
}
