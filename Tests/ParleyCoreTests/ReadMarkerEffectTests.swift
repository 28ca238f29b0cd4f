import ParleyCore
import ParleyIRC
import Testing

/// The read marker is a ``CoreEffect``: the core asks for it as a plain value, and its result comes back through
/// `readMarkerLoaded`/`readMarkerFailed`.
@Suite struct ReadMarkerEffectTests {
    private static func loggedIn() -> CoreHarness {
        var h = CoreHarness.withAccounts(["ann"])
        h.connect("ann", caps: ["draft/read-marker"])
        h.logIn("ann", as: "ann")
        #expect(h.pendingRequests == ["ann"], "logging in asks for the DMs kept meanwhile: an effect too")
        h.effects.removeAll()
        return h
    }

    @Test func markreadAsksForTheMarkerAsAnEffectThatAnswersItsSession() {
        var h = Self.loggedIn()
        let ann = h.ids["ann"]!
        h.send("ann", "MARKREAD #Chat timestamp=2026-12-07T08:00:00.000Z")
        let expected = ReadMarkerRequest(
            session: ann,
            account: "ann",
            target: "#chat",
            name: "#Chat",
            set: IRCTimestamp.parse("2026-12-07T08:00:00.000Z")
        )
        #expect(h.effects == [AnyEffect(expected)])
        #expect(h.effects.first?.base.session == ann)
        #expect(h.take("ann").isEmpty, "nothing is answered before the store has")
        // A read and a change are different effects.
        h.send("ann", "MARKREAD #Chat")
        #expect(h.effects.count == 2)
        #expect(h.effects[1] != AnyEffect(expected))

        h.outbox.removeAll()
        h.state.readMarkerLoaded(expected, time: expected.set, into: &h.outbox)
        h.collect()
        #expect(h.take("ann").map(\.command) == [.markread])
        h.outbox.removeAll()
        h.state.readMarkerFailed(expected, into: &h.outbox)
        h.collect()
        #expect(h.take("ann").map(\.command) == [.fail])
    }
}
