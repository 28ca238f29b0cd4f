import ParleyCore
import ParleyIRC
import Testing

/// Limits on what one client may do to accounts: registrations per address, certificates, dropped accounts'
/// channels.
@Suite struct AccountAbuseTests {
    private static func harness() -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.accounts = .init(registrationsPerHour: 3)
        return CoreHarness(configuration: configuration)
    }

    private func complete(_ name: String, _ outcome: AccountOutcome, _ h: inout CoreHarness) {
        guard let id = h.ids[name] else { return }
        h.outbox.removeAll()
        let request = AccountRequest(session: id, kind: .info(account: name), via: .nickServ, address: "10.0.0.1")
        h.state.accountCompleted(request, outcome, now: h.now, into: &h.outbox)
        h.collect()
    }

    @Test func oneAddressRegistersOnlySoManyAccountsAnHour() {
        var h = Self.harness()
        h.connect("spammer")
        for index in 0..<5 {
            h.send("spammer", "REGISTER bot\(index) * long-enough-password")
        }
        #expect(h.accountRequests.count == 3, "only three reach the password hashing")
        let refusals = h.take("spammer").filter { $0.command == .fail }
        #expect(refusals.count == 2)
        #expect(refusals.allSatisfy { $0.parameters[1] == "TEMPORARILY_UNAVAILABLE" })
        h.send("spammer", "PRIVMSG NickServ :REGISTER long-enough-password")
        #expect(h.accountRequests.count == 3)
        #expect(h.take("spammer").last?.parameters.last?.contains("Too many accounts registered") == true)
        h.now.millisecondsSince1970 += 3_600_001
        h.send("spammer", "REGISTER later * long-enough-password")
        #expect(h.accountRequests.count == 4, "an hour later it may again")
    }

    @Test func onlyTheConnectionsOwnCertificateCanBeAdded() {
        var h = Self.harness()
        h.connect("alice")
        self.complete("alice", .loggedIn(account: "alice"), &h)
        _ = h.take("alice")
        let stranger = String(repeating: "ab", count: 32)
        h.send("alice", "PRIVMSG NickServ :CERT ADD \(stranger)")
        #expect(h.accountRequests.isEmpty, "a fingerprint typed in is not added")
        #expect(h.take("alice").last?.parameters.last?.contains("no TLS client certificate") == true)
    }

    @Test func droppingAnAccountDropsItsChannelRegistrations() {
        var h = Self.harness()
        h.state.loadAccounts(["alice"])
        h.state.loadChannels([
            ChannelRegistration(name: "#mine", founder: "alice", registeredAt: 1),
            ChannelRegistration(name: "#theirs", founder: "bob", registeredAt: 1),
        ])
        h.connect("alice")
        self.complete("alice", .loggedIn(account: "alice"), &h)
        self.complete("alice", .dropped(account: "alice"), &h)
        #expect(h.droppedChannels == ["#mine"])
        #expect(h.state.registeredChannels[ChannelKey("#mine")] == nil)
        #expect(h.state.registeredChannels[ChannelKey("#theirs")] != nil)
    }
}
