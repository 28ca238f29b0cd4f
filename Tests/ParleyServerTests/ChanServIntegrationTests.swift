import ParleyClient
import ParleyIRC
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct ChanServIntegrationTests {
    private func account(_ server: TestServer, _ nick: String) async throws -> TestClient {
        let client = try await server.register(nick)
        try await client.send("PRIVMSG NickServ :REGISTER \(nick)-password")
        try await client.expect(.rplLoggedIn)
        return client
    }

    @Test func aRegisteredChannelKeepsItsStateAndFounderAcrossRestarts() async throws {
        let store = try await TestStore.open()
        let first = try await TestServer.start(store: store)
        let quinn = try await self.account(first, "quinn")
        try await first.join("#club", quinn)
        try await quinn.send("PRIVMSG ChanServ :REGISTER #club")
        let registered = try await quinn.expect(.notice)
        #expect(registered.parameters.last?.contains("#club is registered to quinn") == true)
        try await quinn.send("TOPIC #club :Members only")
        try await quinn.expect(.topic)
        try await quinn.send("MODE #club +ik secret")
        try await quinn.expect(.mode)
        try await quinn.send("MODE #club +b bad!*@*")
        try await quinn.expect(.mode)

        let rob = try await first.register("rob")
        try await rob.send("PRIVMSG ChanServ :REGISTER #club")
        let refused = try await rob.expect(.notice)
        #expect(refused.parameters.last?.contains("Log in first") == true)
        try await rob.send("PRIVMSG ChanServ :OP #club")
        let notFounder = try await rob.expect(.notice)
        #expect(notFounder.parameters.last?.contains("Only the founder") == true)
        await first.stop()
        try await store.close()

        let reopened = try await TestStore.open(in: store.directory)
        let second = try await TestServer.start(store: reopened)
        // A stranger creating the channel again meets its saved key and invite-only mode.
        let stranger = try await second.register("sam")
        try await stranger.send("JOIN #club")
        let blocked = try await stranger.expect(.errBadChannelKey, .errInviteOnlyChan)
        #expect(blocked.parameters[1] == "#club")

        let (founder, _) = try await self.login(second, "quinn")
        try await founder.send("JOIN #club")
        let names = try await founder.expect(.rplNamReply)
        #expect(names.parameters.last == "@quinn")
        let topic = try await self.topic(of: "#club", founder)
        #expect(topic == "Members only")
        try await founder.send("MODE #club b")
        let ban = try await founder.expect(.rplBanList)
        #expect(ban.parameters[2] == "bad!*@*")
        try await founder.send("PRIVMSG ChanServ :INFO #club")
        let info = try await founder.expect(.notice)
        #expect(info.parameters.last?.contains("founder quinn") == true)

        // OP/DEOP by the founder, seen by members.
        try await founder.send("INVITE sam #club")
        try await stranger.expect(.invite)
        try await stranger.send("JOIN #club secret")
        try await stranger.expect(.rplEndOfNames)
        try await founder.send("PRIVMSG ChanServ :OP #club sam")
        let op = try await stranger.expect(.mode)
        #expect(op.parameters == ["#club", "+o", "sam"])
        #expect(op.source?.hasPrefix("ChanServ!") == true)
        try await founder.send("PRIVMSG ChanServ :DROP #club")
        let dropped = try await founder.expect(.notice)
        #expect(dropped.parameters.last?.contains("no longer registered") == true)
        await second.stop()
        try await reopened.close()
    }

    private func login(_ server: TestServer, _ nick: String) async throws -> (TestClient, IRCMessage) {
        let client = try await server.register(nick)
        try await client.send("PRIVMSG NickServ :IDENTIFY \(nick)-password")
        let result = try await client.expect(.rplLoggedIn)
        return (client, result)
    }

    private func topic(of channel: String, _ client: TestClient) async throws -> String? {
        try await client.send("TOPIC \(channel)")
        return try await client.expect(.rplTopic).parameters.last
    }
}
