import ParleyIRC

/// A `draft/multiline` batch a client opened: its lines gather here until `BATCH -reference`.
struct MultilineBatch: Sendable {
    var reference: String
    var target: String
    /// PRIVMSG or NOTICE, set by the first line; every line must use the same.
    var command: IRCCommand?
    var text = MultilineText(lines: [])
    /// Client-only tags of the opening `BATCH`: they belong to the whole message.
    var tags: [IRCTag]
    /// The opening line's label: the answer to the whole message carries it.
    var label: String?
    /// Refused already (a `FAIL` was sent): the rest of its lines and its end go without another word.
    var refused = false
}

/// `draft/multiline`: a client sends one message as a batch of lines; members with the capability get it as one
/// batch, others as separate lines (blank ones left out), and history keeps it as one message.
extension ServerState {
    /// A `BATCH` line, or any line tagged with a client batch.
    mutating func clientBatch(_ request: Request, label: String?, into outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        guard session.isRegistered else {
            self.reply(request.id, .errNotRegistered, "You have not registered", into: &outbox)
            return
        }
        if request.message.command == .batch {
            self.batchCommand(request, session: session, label: label, into: &outbox)
        } else {
            self.batchedLine(request, session: session, into: &outbox)
        }
    }

    private mutating func batchCommand(
        _ request: Request,
        session: Session,
        label: String?,
        into outbox: inout Outbox
    ) {
        let parameters = request.parameters
        guard let reference = parameters.first, reference.count > 1, let sign = reference.first,
            sign == "+" || sign == "-"
        else {
            self.reply(request.id, .errNeedMoreParams, "BATCH", "Not enough parameters", into: &outbox)
            return
        }
        let name = String(reference.dropFirst())
        if sign == "-" {
            guard let batch = session.multilineBatch, batch.reference == name else {
                self.refuseBatch(request.id, "MULTILINE_INVALID", [], "No batch \(name) is open", into: &outbox)
                return
            }
            self.sessions[request.id]?.multilineBatch = nil
            if !batch.refused { self.sendMultiline(batch, from: request, into: &outbox) }
            return
        }
        guard parameters.count >= 3, parameters[1] == MultilineText.batchType else {
            let type = parameters.count > 1 ? parameters[1] : ""
            let what = type.isEmpty ? "A batch needs a type and a target" : "Batch type \(type) is not supported"
            self.refuseBatch(
                request.id,
                "MULTILINE_INVALID",
                [],
                "\(what): use \(MultilineText.batchType) TARGET",
                into: &outbox
            )
            return
        }
        guard session.caps.isSuperset(of: [.multiline, .batch]) else {
            self.refuseBatch(
                request.id,
                "MULTILINE_INVALID",
                [],
                "Negotiate \(MultilineText.batchType) and batch before sending a multiline message",
                into: &outbox
            )
            return
        }
        if let open = session.multilineBatch, !open.refused {
            self.refuseBatch(
                request.id,
                "MULTILINE_INVALID",
                [],
                "Batch \(open.reference) was never closed; it is discarded",
                into: &outbox
            )
        }
        self.sessions[request.id]?.multilineBatch = MultilineBatch(
            reference: name,
            target: parameters[2],
            tags: request.message.tags.filter(\.isClientOnly),
            label: label
        )
    }

    /// A line of the open batch: checked against the batch and the limits, and kept.
    private mutating func batchedLine(_ request: Request, session: Session, into outbox: inout Outbox) {
        let reference = request.message.tag("batch") ?? ""
        guard var batch = session.multilineBatch, batch.reference == reference else {
            if var open = session.multilineBatch {
                guard !open.refused else { return }
                open.refused = true
                self.sessions[request.id]?.multilineBatch = open
                self.refuseBatch(
                    request.id,
                    "MULTILINE_INVALID",
                    [],
                    "A line for batch \(reference) came while batch \(open.reference) is open; both are discarded",
                    into: &outbox
                )
            } else {
                self.refuseBatch(request.id, "MULTILINE_INVALID", [], "No batch \(reference) is open", into: &outbox)
            }
            return
        }
        guard !batch.refused else { return }
        func refuse(_ code: String, _ context: [String], _ text: String) {
            batch.refused = true
            self.sessions[request.id]?.multilineBatch = batch
            self.refuseBatch(request.id, code, context, text, into: &outbox)
        }
        let command = request.message.command
        guard command == .privmsg || command == .notice, batch.command == nil || batch.command == command else {
            return refuse("MULTILINE_INVALID", [], "A multiline batch holds PRIVMSG or NOTICE lines, all the same")
        }
        guard request.parameters.count >= 2 else {
            return refuse("MULTILINE_INVALID", [], "\(command.rawValue) needs a target and text")
        }
        let target = request.parameters[0]
        guard Self.sameTarget(target, batch.target) else {
            return refuse("MULTILINE_INVALID_TARGET", [batch.target, target], "Invalid multiline target")
        }
        let concat = request.message.tags.contains { $0.key == MultilineText.concatTag }
        let text = request.parameters[1]
        if concat && text.isEmpty {
            return refuse("MULTILINE_INVALID", [], "A blank line cannot be joined to the one before")
        }
        batch.command = command
        batch.text.lines.append(MultilineText.Line(text, concat: concat))
        let limits = self.configuration.multiline
        if batch.text.lines.count > limits.maximumLines {
            return refuse(
                "MULTILINE_MAX_LINES",
                [String(limits.maximumLines)],
                "Multiline batch max-lines exceeded"
            )
        }
        if batch.text.byteCount > limits.maximumBytes {
            return refuse(
                "MULTILINE_MAX_BYTES",
                [String(limits.maximumBytes)],
                "Multiline batch max-bytes exceeded"
            )
        }
        self.sessions[request.id]?.multilineBatch = batch
    }

    /// `BATCH -reference`: the whole message goes out as one, with one msgid, stored as one.
    private mutating func sendMultiline(_ batch: MultilineBatch, from request: Request, into outbox: inout Outbox) {
        guard let command = batch.command, !batch.text.isBlank else {
            self.refuseBatch(
                request.id,
                "MULTILINE_INVALID",
                [],
                "A multiline message needs at least one line that is not blank",
                into: &outbox
            )
            return
        }
        let message = IRCMessage(tags: batch.tags, command: command, parameters: [batch.target, batch.text.combined])
        let start = outbox.actions.count
        self.message(Request(id: request.id, message: message, now: request.now), &outbox, lines: batch.text)
        guard let label = batch.label, !label.isEmpty,
            self.sessions[request.id]?.caps.contains(.labeledResponse) == true
        else { return }
        // The label goes on the opening BATCH of the echo, as the specification asks, not on a batch around it.
        for index in start..<outbox.actions.count {
            guard case .send(var reply, let to) = outbox.actions[index], to == request.id else { continue }
            if reply.command == .batch && reply.parameter(1) == MultilineText.batchType {
                reply.tags.insert(IRCTag("label", label), at: 0)
                outbox.actions[index] = .send(reply, to: to)
                return
            }
            break
        }
        self.applyLabel(label, for: request.id, from: start, into: &outbox)
    }

    private mutating func refuseBatch(
        _ id: SessionID,
        _ code: String,
        _ context: [String],
        _ text: String,
        into outbox: inout Outbox
    ) {
        outbox.send(self.fail("BATCH", code, text, context: context), to: id)
    }

    private static func sameTarget(_ one: String, _ other: String) -> Bool {
        IRCName.isChannel(one) ? ChannelKey(one) == ChannelKey(other) : NickKey(one) == NickKey(other)
    }

    // MARK: Delivery

    /// The lines of a stored or relayed message whose text cannot go out as one line, or `nil`.
    static func storedLines(_ message: IRCMessage) -> MultilineText? {
        guard message.command == .privmsg || message.command == .notice, let text = message.parameter(1),
            MultilineText.needsLines(text)
        else { return nil }
        return MultilineText(combined: text)
    }

    /// Sends `message` to `ids`: as it is, or, when it is a multiline message (`lines`), as one batch to those
    /// with the capability and as separate lines to the rest.
    mutating func deliver(
        _ message: IRCMessage,
        lines: MultilineText?,
        to ids: [SessionID],
        asReply: Bool = true,
        into outbox: inout Outbox
    ) {
        guard let lines else {
            // A broadcast is never taken for a reply to label (``applyLabel(_:for:from:into:)``).
            if ids.count == 1 && asReply {
                outbox.send(message, to: ids[0])
            } else {
                outbox.broadcast(message, to: ids)
            }
            return
        }
        var batched: [SessionID] = []
        var separate: [SessionID] = []
        for id in ids {
            if self.sessions[id]?.caps.isSuperset(of: [.multiline, .batch]) == true {
                batched.append(id)
            } else {
                separate.append(id)
            }
        }
        func put(_ pieces: [IRCMessage], _ ids: [SessionID]) {
            for piece in pieces {
                if ids.count == 1 && asReply {
                    outbox.send(piece, to: ids[0])
                } else {
                    outbox.broadcast(piece, to: ids)
                }
            }
        }
        if !batched.isEmpty { put(Self.multilineBatch(message, lines, reference: self.nextMessageID()), batched) }
        if !separate.isEmpty { put(Self.multilineFallback(message, lines), separate) }
    }

    /// `message` as `session` receives it: a multiline message becomes a batch or separate lines.
    mutating func pieces(of message: IRCMessage, for session: Session) -> [IRCMessage] {
        guard let lines = Self.storedLines(message) else { return [message] }
        if session.caps.isSuperset(of: [.multiline, .batch]) {
            return Self.multilineBatch(message, lines, reference: self.nextMessageID())
        }
        return Self.multilineFallback(message, lines)
    }

    /// The batch: its opening line carries the message's tags (msgid, time, account, client tags), each line only
    /// the batch and, where it joins the one before, the concat tag.
    static func multilineBatch(_ message: IRCMessage, _ lines: MultilineText, reference: String) -> [IRCMessage] {
        let target = message.parameter(0) ?? ""
        var pieces = [
            IRCMessage(
                tags: message.tags,
                source: message.source,
                command: .batch,
                parameters: ["+" + reference, MultilineText.batchType, target]
            )
        ]
        for line in lines.lines {
            var tags = [IRCTag("batch", reference)]
            if line.concat { tags.append(IRCTag(MultilineText.concatTag, "")) }
            pieces.append(
                IRCMessage(
                    tags: tags,
                    source: message.source,
                    command: message.command,
                    parameters: [target, line.text]
                )
            )
        }
        pieces.append(IRCMessage(source: message.source, command: .batch, parameters: ["-" + reference]))
        return pieces
    }

    /// For clients without the capability: each line that is not blank as a message of its own, the first with
    /// every tag, the others with all but the msgid (it names the whole message once).
    static func multilineFallback(_ message: IRCMessage, _ lines: MultilineText) -> [IRCMessage] {
        let target = message.parameter(0) ?? ""
        let laterTags = message.tags.filter { $0.key != "msgid" }
        var pieces: [IRCMessage] = []
        for line in lines.lines where !line.text.isEmpty {
            pieces.append(
                IRCMessage(
                    tags: pieces.isEmpty ? message.tags : laterTags,
                    source: message.source,
                    command: message.command,
                    parameters: [target, line.text]
                )
            )
        }
        return pieces
    }
}
