import ParleyIRC

extension ServerState {
    /// When the answer to a labeled command comes later (a history query), the label travels with the query.
    /// - Returns: Whether the label was handed on.
    mutating func deferLabel(_ label: String, for id: SessionID, from start: Int, into outbox: inout Outbox) -> Bool {
        for index in start..<outbox.actions.count {
            guard case .effect(let effect) = outbox.actions[index], var query = effect.base as? HistoryQuery,
                query.session == id, query.purpose != .join
            else { continue }
            query.label = label
            outbox.actions[index] = .effect(AnyEffect(query))
            return true
        }
        return false
    }

    /// labeled-response: one reply carries the label, none gets an `ACK`, several go in a `labeled-response` batch.
    mutating func applyLabel(_ label: String, for id: SessionID, from start: Int, into outbox: inout Outbox) {
        var replies: [IRCMessage] = []
        var firstIndex: Int?
        var rest: [Outbox.Action] = []
        for index in start..<outbox.actions.count {
            if case .send(let message, let to) = outbox.actions[index], to == id {
                if firstIndex == nil { firstIndex = index - start }
                replies.append(message)
            } else {
                rest.append(outbox.actions[index])
            }
        }
        outbox.actions.removeSubrange(start...)
        var labeled: [Outbox.Action] = []
        switch replies.count {
        case 0:
            let ack = IRCMessage(tags: [IRCTag("label", label)], source: self.configuration.serverName, command: "ACK")
            labeled.append(.send(ack, to: id))
        case 1:
            var reply = replies[0]
            reply.tags.insert(IRCTag("label", label), at: 0)
            labeled.append(.send(reply, to: id))
        default:
            let reference = self.nextMessageID()
            let open = IRCMessage(
                tags: [IRCTag("label", label)],
                source: self.configuration.serverName,
                command: .batch,
                parameters: ["+" + reference, "labeled-response"]
            )
            labeled.append(.send(open, to: id))
            for var reply in replies {
                // A reply already inside a batch of its own (ISUPPORT's) stays in it: only that batch's start and
                // end lines are nested in the labeled-response batch.
                if !reply.tags.contains(where: { $0.key == "batch" }) {
                    reply.tags.insert(IRCTag("batch", reference), at: 0)
                }
                labeled.append(.send(reply, to: id))
            }
            let close = IRCMessage(
                source: self.configuration.serverName,
                command: .batch,
                parameters: ["-" + reference]
            )
            labeled.append(.send(close, to: id))
        }
        let insertAt = min(firstIndex ?? rest.count, rest.count)
        rest.insert(contentsOf: labeled, at: insertAt)
        outbox.actions.append(contentsOf: rest)
    }
}
