import ParleyCore
import ParleyIRC
import Testing

/// Secret channels, `+i` users, bans and invite-only channels are never revealed to outsiders: one test per path.
@Suite struct LeakTests {
    /// alice (`+i`) is in `#hidden` (`+s`, key `k3y`, topic set) and `#closed` (`+i`, topic set); carol is in none.
    private static func world() -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.history = .init()
        var h = CoreHarness(configuration: configuration)
        h.connect("alice")
        h.connect("carol")
        h.send("alice", "MODE alice +i")
        h.send("alice", "JOIN #hidden,#closed")
        h.send("alice", "MODE #hidden +sk k3y")
        h.send("alice", "TOPIC #hidden :the plan")
        h.send("alice", "MODE #closed +i")
        h.send("alice", "TOPIC #closed :members only")
        h.send("alice", "PRIVMSG #hidden :secret words")
        _ = (h.take("alice"), h.take("carol"))
        return h
    }

    private func everything(_ messages: [IRCMessage]) -> String {
        messages.map { $0.parameters.joined(separator: " ") }.joined(separator: "\n")
    }

    @Test func who() {
        var h = Self.world()
        for mask in ["#hidden", "*", "alice*", "*.*", "0"] {
            h.send("carol", "WHO \(mask)")
            let replies = h.take("carol")
            let shown = replies.filter { $0.command == IRCCommand(.rplWhoReply) }.map { $0.parameters[5] }
            #expect(!shown.contains("alice"), "WHO \(mask): \(shown)")
        }
    }

    @Test func whois() {
        var h = Self.world()
        h.send("carol", "WHOIS alice")
        let text = self.everything(h.take("carol"))
        #expect(!text.contains("#hidden"))
        // #closed is invite-only, not secret, but alice is +i and shares no channel with carol: none is listed.
        #expect(!text.contains("#closed"))
    }

    @Test func list() {
        var h = Self.world()
        h.send("carol", "LIST")
        #expect(!self.everything(h.take("carol")).contains("#hidden"))
        h.send("carol", "LIST #hidden")
        #expect(!self.everything(h.take("carol")).contains("#hidden 1"))
    }

    @Test func names() {
        var h = Self.world()
        h.send("carol", "NAMES #hidden")
        #expect(!self.everything(h.take("carol")).contains("alice"))
        h.send("carol", "NAMES")
        #expect(!self.everything(h.take("carol")).contains("alice"))
    }

    @Test func topic() {
        var h = Self.world()
        h.send("carol", "TOPIC #hidden")
        let replies = h.take("carol")
        #expect(!self.everything(replies).contains("the plan"))
        #expect(replies.first?.command == IRCCommand(.errNotOnChannel))
    }

    @Test func modeDoesNotShowTheKey() {
        var h = Self.world()
        h.send("carol", "MODE #hidden")
        #expect(!self.everything(h.take("carol")).contains("k3y"))
    }

    @Test func chathistory() {
        var h = Self.world()
        for channel in ["#hidden", "#closed"] {
            h.send("carol", "CHATHISTORY LATEST \(channel) * 10")
            let reply = h.take("carol").first
            #expect(reply?.command == .fail && reply?.parameters[1] == "INVALID_TARGET", "\(channel)")
        }
        h.send("carol", "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00Z timestamp=2100-01-01T00:00:00Z 10")
        #expect(h.historyQueries.last?.channels == [])
    }

    @Test func search() {
        var h = Self.world()
        h.send("carol", "SEARCH in=#hidden;text=secret")
        #expect(h.take("carol").first?.command == .fail)
        h.send("carol", "SEARCH text=secret")
        // Without in=, only the searcher's own channels (none) and DMs are searched.
        let query = h.historyQueries.last
        #expect(query?.channels == [])
        #expect(query?.owner == h.state.historyOwner(of: h.ids["carol"]!))
        #expect(query?.owner.hasPrefix("c:") == true, "carol has no account: only this connection's DMs")
    }

    @Test func bannedAndUninvitedUsersCannotJoinOrRead() {
        var h = Self.world()
        h.send("alice", "MODE #hidden +b carol!*@*")
        h.send("carol", "JOIN #hidden k3y")
        #expect(h.commands("carol") == [IRCCommand(.errBannedFromChan).rawValue])
        h.send("carol", "JOIN #closed")
        #expect(h.commands("carol") == [IRCCommand(.errInviteOnlyChan).rawValue])
        h.send("carol", "CHATHISTORY LATEST #closed * 10")
        #expect(h.take("carol").first?.parameters[1] == "INVALID_TARGET")
    }
}

@Suite struct OperatorLimitTests {
    @Test func failedOperAttemptsAreLimitedPerAddress() {
        var h = CoreHarness(
            configuration: CoreConfiguration(
                serverName: "irc.test",
                operators: [.init(name: "root", passwordHash: "h")]
            )
        )
        h.connect("mallory")
        let id = h.ids["mallory"]!
        for _ in 0..<5 {
            h.send("mallory", "OPER root guess")
            h.outbox.removeAll()
            h.state.operatorVerified(id, name: "root", success: false, now: h.now, into: &h.outbox)
            h.collect()
        }
        h.effects.removeAll()
        _ = h.take("mallory")
        h.send("mallory", "OPER root right")
        let refusal = h.take("mallory")
        #expect(refusal.first?.command == IRCCommand(.errPasswdMismatch))
        #expect(refusal.first?.parameters.last?.contains("Too many failed OPER attempts") == true)
        #expect(h.operatorChecks.isEmpty, "no password check while limited")
        h.now.millisecondsSince1970 += 61_000
        h.send("mallory", "OPER root right")
        #expect(h.operatorChecks.count == 1)
    }
}

@Suite struct GuessLimitTests {
    /// Guesses sent before any answer came back count too: the limit holds against pipelined guesses.
    @Test func pipelinedOperGuessesAreCheckedNoMoreThanTheLimit() {
        var h = CoreHarness(
            configuration: CoreConfiguration(
                serverName: "irc.test",
                operators: [.init(name: "root", passwordHash: "h")]
            )
        )
        h.connect("mallory")
        for index in 0..<30 { h.send("mallory", "OPER root guess\(index)") }
        #expect(h.operatorChecks.count == 5)
        let replies = h.take("mallory")
        #expect(replies.count == 30 - 5)
        #expect(replies.allSatisfy { $0.parameters.last?.contains("Too many failed OPER attempts") == true })
    }

    @Test func anUnknownOperatorNameIsAnsweredAsAWrongPasswordIs() {
        var h = CoreHarness(
            configuration: CoreConfiguration(
                serverName: "irc.test",
                operators: [.init(name: "root", passwordHash: "h")]
            )
        )
        h.connect("mallory")
        h.send("mallory", "OPER nobody guess")
        let unknown = h.take("mallory")
        h.send("mallory", "OPER root guess")
        h.outbox.removeAll()
        h.state.operatorVerified(h.ids["mallory"]!, name: "root", success: false, now: h.now, into: &h.outbox)
        h.collect()
        let wrong = h.take("mallory")
        #expect(unknown.map(\.command) == wrong.map(\.command))
        #expect(unknown.map { $0.parameters.last } == wrong.map { $0.parameters.last })
    }

    @Test func connectionPasswordGuessesFromOneAddressAreLimited() throws {
        var configuration = CoreConfiguration(serverName: "irc.test")
        configuration.password = "sesame"
        var state = ServerState(configuration: configuration)
        var now = Timestamp(millisecondsSince1970: 1_000_000)
        func attempt(_ id: UInt64, _ password: String) throws -> [String] {
            var outbox = Outbox()
            let session = SessionID(id)
            state.connect(session, host: "h", address: "10.9.9.9", now: now)
            for line in ["PASS \(password)", "NICK n\(id)", "USER u 0 * :U"] {
                state.handle(try IRCParser.parse(line), from: session, now: now, into: &outbox)
            }
            return outbox.actions.compactMap {
                if case .send(let message, _) = $0, message.command == IRCCommand(.errPasswdMismatch) {
                    return message.parameters.last
                }
                return nil
            }
        }
        for id: UInt64 in 1...5 { #expect(try attempt(id, "guess") == ["Password incorrect"]) }
        #expect(try attempt(6, "sesame").first?.contains("Too many wrong passwords") == true, "not even checked")
        now.millisecondsSince1970 += 61_000
        #expect(try attempt(7, "sesame").isEmpty, "the right password after the window")
    }
}

@Suite struct AmplificationTests {
    @Test func aListOrNamesIsSentOncePerRequestHoweverOftenItIsAskedFor() {
        var h = CoreHarness()
        h.connect("op")
        h.send("op", "JOIN #c")
        for index in 0..<10 { h.send("op", "MODE #c +b spam\(index)!*@*") }
        _ = h.take("op")
        h.send("op", "MODE #c +" + String(repeating: "b", count: 200))
        let bans = h.take("op").filter { $0.command == IRCCommand(.rplBanList) }
        #expect(bans.count == 10, "one list, not 200")
        h.send("op", "NAMES " + Array(repeating: "#c", count: 100).joined(separator: ",") + ",#C,#other")
        let names = h.take("op")
        #expect(names.filter { $0.command == IRCCommand(.rplNamReply) }.count == 1, "#c listed once, not 101 times")
        #expect(names.filter { $0.command == IRCCommand(.rplEndOfNames) }.count == 1, "one end for the list")
    }
}
