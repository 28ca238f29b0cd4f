import ParleyCore
import ParleyIRC
import Testing

/// REDACT as a plain value: the core names what to look up (the asker's view, the other copies, whether it moderates)
/// and ``RedactRequest/allows(_:)`` decides who may delete what; the store is the server's business.
@Suite struct RedactionEffectTests {
    private static func harness() -> CoreHarness {
        var h = CoreHarness.withAccounts(["ann"])
        h.connect("ann", caps: ["draft/message-redaction"])
        h.logIn("ann", as: "ann")
        h.connect("ben", caps: ["draft/message-redaction"])
        h.send("ann", "JOIN #Room")
        h.send("ben", "JOIN #Room")
        _ = h.take("ann")
        _ = h.take("ben")
        h.effects.removeAll()
        return h
    }

    @Test func anOperatorsRedactionInAChannelModeratesAMembersOwnDoesNot() throws {
        var h = Self.harness()
        h.send("ann", "REDACT #room m1 :typo")
        h.send("ben", "REDACT #ROOM m2")
        let requests = h.effects.compactMap { $0.base as? RedactRequest }
        try #require(requests.count == 2)
        #expect(requests[0].moderator && requests[0].target == "#room" && requests[0].name == "#Room")
        #expect(requests[0].reason == "typo" && requests[0].account == "ann")
        #expect(!requests[1].moderator && requests[1].account == nil && requests[1].sender.hasPrefix("ben!"))
    }

    @Test func aDirectMessageNamesBothCopies() throws {
        var h = Self.harness()
        h.send("ben", "REDACT ann m3")
        let request = try #require(h.effects.compactMap { $0.base as? RedactRequest }.first)
        #expect(request.target.hasSuffix("ann") && request.copies.count == 1 && request.copies[0].hasSuffix("ben"))
        #expect(request.target != request.copies[0])
    }

    @Test func aChannelTheAskerIsNotInIsRefusedWithoutAnEffect() {
        var h = Self.harness()
        h.send("ben", "REDACT #other m4")
        #expect(h.effects.isEmpty)
        #expect(h.take("ben").map { Array($0.parameters.prefix(3)) } == [["REDACT", "INVALID_TARGET", "#other"]])
    }

    @Test func onlyTheSenderOrAModeratorMayDelete() {
        let byAccount = StoredMessageOwner(account: "ann", sender: "ann!a@h")
        let byGuest = StoredMessageOwner(account: nil, sender: "ben!b@h")
        var asker = RedactRequest(
            session: SessionID(1),
            name: "#r",
            msgid: "m",
            reason: nil,
            target: "#r",
            account: "ann",
            sender: "someone!else@h"
        )
        #expect(asker.allows(byAccount), "an account's messages are its own under any nick")
        #expect(!asker.allows(byGuest))
        asker.account = nil
        #expect(!asker.allows(byAccount), "a guest never deletes an account's message")
        asker.sender = "ben!b@h"
        #expect(asker.allows(byGuest), "a guest's by the same nick!user@host")
        asker.moderator = true
        #expect(asker.allows(byAccount) && asker.allows(byGuest))
    }
}
