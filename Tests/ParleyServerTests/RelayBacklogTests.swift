import ParleyStore
import Testing

@testable import ParleyServer

/// What the cluster relay has yet to handle, as a plain value: notifications of new messages in a row become one read
/// of every target they name, and nothing else changes place.
struct RelayBacklogTests {
    @Test func notificationsInARowMergeKeepingEachTargetsHighestHead() {
        var backlog = RelayBacklog()
        backlog.add(.newMessages(["#a": 3]))
        backlog.add(.newMessages(["#a": 2, "#b": 1]))
        backlog.add(.newMessages(["#b": 4]))
        #expect(backlog.take() == [.newMessages(["#a": 3, "#b": 4])])
        #expect(backlog.take().isEmpty, "taken once")
    }

    @Test func otherEventsKeepTheirPlaceBetweenNotifications() {
        var backlog = RelayBacklog()
        backlog.add(.connected)
        backlog.add(.newMessages(["#a": 1]))
        backlog.add(.nickClaimed(node: "n2", nick: "bob", display: "Bob"))
        backlog.add(.newMessages(["#a": 2]))
        backlog.add(.newMessages(["#c": 5]))
        backlog.add(.disconnected)
        #expect(
            backlog.take() == [
                .connected, .newMessages(["#a": 1]), .nickClaimed(node: "n2", nick: "bob", display: "Bob"),
                .newMessages(["#a": 2, "#c": 5]), .disconnected,
            ]
        )
    }
}
