import ParleyClient
import ParleyIRC

/// What the chat client does with server messages, keys and typed lines.
extension ChatApp {
    /// Applies one server message and shows what it means.
    func receive(_ message: IRCMessage) async {
        if message.command == .pong, let draining = self.draining, message.parameters.last == draining.token {
            self.draining = nil
            await self.quit(draining.reason)
            return
        }
        let fromMe = CaseMapping.fold(message.sourceNick ?? "") == CaseMapping.fold(self.state.nick)
        let oldNick = message.sourceNick ?? ""
        var lines = self.state.apply(message, now: ChatConnection.now())
        if self.quitting && message.command == .error { lines = [] }  // the server's goodbye to our QUIT
        var closing: String?
        switch message.command {
        case .join where fromMe:
            if let channel = message.parameter(0) {
                let index = self.windows.open(channel)
                if self.switchOnJoin.remove(CaseMapping.fold(channel)) != nil && index != self.windows.current {
                    self.windows.select(index)
                    self.repaint()
                }
                self.awaitingNames.insert(CaseMapping.fold(channel))
            }
        case .part where fromMe:
            closing = message.parameter(0)
            lines = lines.map {
                var line = $0
                line.window = nil
                return line
            }
        case .nick where !fromMe:
            if let newNick = message.parameter(0) { self.windows.rename(oldNick, to: newNick) }
        case .rename:
            if let old = message.parameter(0), let new = message.parameter(1) {
                self.windows.rename(old, to: new)
                self.repaint()
            }
        case .tagmsg:
            self.redraw()  // who is typing may have changed
        case .markread:
            if let target = message.parameter(0) { self.readMarkerArrived(target) }
        case IRCCommand(.rplEndOfNames):
            if let channel = message.parameter(1), self.awaitingNames.remove(CaseMapping.fold(channel)) != nil {
                let others = max((self.state.channel(channel)?.members.count ?? 1) - 1, 0)
                let people = others == 1 ? "1 other" : "\(others) others"
                var text = "You are in \(channel) with \(people)."
                if !self.greeted { text += " Type to chat, /help for commands, quit to leave." }
                self.greeted = true
                lines.append(ChatLine(window: channel, time: ChatConnection.now(), kind: .info, text: text))
                self.show(lines)
                // A person joining sees what was said just before (servers without chathistory replay it
                // themselves); scripts get only what arrives from now on.
                if self.options.interactive && self.state.capabilities.contains("draft/chathistory") {
                    await self.send(IRCMessage(.chathistory, "LATEST", channel, "*", "10"))
                }
                await self.becomeReady()
                return
            }
        case IRCCommand(.errNoSuchChannel), IRCCommand(.errTooManyChannels), IRCCommand(.errChannelIsFull),
            IRCCommand(.errInviteOnlyChan), IRCCommand(.errBannedFromChan), IRCCommand(.errBadChannelKey),
            IRCCommand(.errBadChanMask):
            // The first channel could not be joined: scripts still go on (their lines then get errors).
            self.show(lines)
            await self.becomeReady()
            return
        default:
            break
        }
        self.show(lines)
        if let closing {
            self.windows.close(closing)
            self.repaint()
        }
    }

    /// Once the first channel is joined, lines a script gave early are sent.
    private func becomeReady() async {
        guard !self.ready else { return }
        self.ready = true
        // A script's /join holds back the lines after it until the channel is joined, so they go there.
        while self.ready && !self.quitting && !self.pendingLines.isEmpty {
            await self.submit(self.pendingLines.removeFirst())
        }
        if self.ready && self.inputEnded && !self.quitting { await self.finishScript(nil) }
    }

    /// One key from the keyboard.
    func press(_ key: Key) async {
        let action = self.editor.handle(key) { word, atStart in self.completions(for: word, atStart: atStart) }
        switch action {
        case .none, .scroll:
            break
        case .changed:
            self.redraw()
            await self.inputChanged()
        case .submit(let line):
            self.redraw()
            await self.inputSubmitted(line)
            await self.submit(line)
        case .endOfInput, .interrupt:
            await self.quit(nil)
        case .repaint:
            self.screen?.updateSize()
            self.repaint()
        case .switchWindow(let number):
            self.switchWindow(to: number - 1)
        case .paste(let text):
            self.redraw()
            await self.sendPaste(text)
        }
    }

    func completions(for word: String, atStart: Bool) -> [String] {
        guard !word.isEmpty else { return [] }
        let lowered = word.lowercased()
        if word.hasPrefix("/") && atStart {
            return ChatCommand.names.filter { $0.hasPrefix(lowered.dropFirst()) }.map { "/" + $0 }
        }
        if word.hasPrefix("#") {
            return self.windows.windows.map(\.name).filter { $0.lowercased().hasPrefix(lowered) }
        }
        var nicks: [String] = []
        if let name = self.windows.currentName {
            nicks = self.state.members(of: name).map(\.nick)
        }
        nicks += self.windows.windows.filter { !$0.isChannel }.map(\.name)
        let own = CaseMapping.fold(self.state.nick)
        var seen = Set<String>()
        return nicks.filter {
            $0.lowercased().hasPrefix(lowered) && CaseMapping.fold($0) != own && seen.insert($0.lowercased()).inserted
        }
    }

    /// One typed line: text for the current window, or a command.
    func submit(_ line: String) async {
        guard !line.isEmpty else { return }
        switch ChatCommand.parse(line) {
        case .say(let text):
            guard let target = self.windows.currentName else {
                self.error("You are in no channel: /join #channel first.")
                return
            }
            await self.say(text, to: target, action: false)
        case .me(let text):
            guard let target = self.windows.currentName else {
                self.error("You are in no channel: /join #channel first.")
                return
            }
            await self.say(text, to: target, action: true)
        case .message(let target, let text):
            await self.say(text, to: target, action: false)
        case .join(let channel, let key):
            if let index = self.windows.index(of: channel), self.state.channel(channel) != nil {
                self.switchWindow(to: index)
                return
            }
            self.switchOnJoin.insert(CaseMapping.fold(channel))
            if await self.send(IRCMessage(command: .join, parameters: [channel] + (key.map { [$0] } ?? []))),
                self.screen == nil
            {
                self.ready = false
            }
        case .part(let channel, let reason):
            guard let name = channel ?? self.windows.currentName, IRCName.isChannel(name) else {
                self.error("This window is no channel; /close closes a query.")
                return
            }
            await self.send(IRCMessage(command: .part, parameters: [name] + (reason.map { [$0] } ?? [])))
        case .query(let nick):
            self.switchWindow(to: self.windows.open(nick))
        case .close:
            guard let name = self.windows.currentName, !IRCName.isChannel(name) else {
                self.error("Use /part to leave a channel.")
                return
            }
            self.windows.close(name)
            self.repaint()
        case .nick(let nick):
            await self.send(IRCMessage(.nick, nick))
        case .topic(let text):
            guard let name = self.windows.currentName, IRCName.isChannel(name) else {
                self.error("/topic works in a channel window.")
                return
            }
            if let text {
                await self.send(IRCMessage(.topic, name, text))
            } else {
                let topic = self.state.channel(name)?.topic ?? ""
                self.info(topic.isEmpty ? "\(name) has no topic." : "Topic of \(name): \(topic)")
            }
        case .names(let channel):
            guard let name = channel ?? self.windows.currentName else {
                self.error("Usage: /names #channel")
                return
            }
            if self.state.channel(name) != nil {
                let members = self.state.members(of: name)
                let list = members.map { $0.prefixes.prefix(1) + $0.nick }.joined(separator: " ")
                self.info("In \(name) (\(members.count)): \(list)")
            } else {
                await self.send(IRCMessage(.names, name))
            }
        case .who(let mask):
            guard let mask = mask ?? self.windows.currentName else {
                self.error("Usage: /who mask")
                return
            }
            await self.send(IRCMessage(.who, mask))
        case .whois(let nick):
            await self.send(IRCMessage(.whois, nick))
        case .list(let mask):
            await self.send(IRCMessage(command: .list, parameters: mask.map { [$0] } ?? []))
        case .away(let reason):
            await self.send(IRCMessage(.away, reason))
        case .back:
            await self.send(IRCMessage(.away))
        case .switchWindow(let which):
            if let number = Int(which) {
                self.switchWindow(to: number - 1)
            } else if let index = self.windows.index(of: which) {
                self.switchWindow(to: index)
            } else {
                self.error("No window named \(which).")
            }
        case .history(let count):
            guard let target = self.windows.currentName else {
                self.error("/history works in a channel or query window.")
                return
            }
            guard self.state.capabilities.contains("draft/chathistory") else {
                self.info("This server keeps no history that clients can fetch.")
                return
            }
            // Further back each time: before the oldest line this window shows (the latest when it shows none).
            let oldest = self.windows.currentWindow?.lines.filter { [.message, .action, .notice].contains($0.kind) }
                .map(\.time).min()
            let (subcommand, point) =
                oldest.map { ("BEFORE", "timestamp=" + IRCTimestamp.format(millisecondsSince1970: $0)) } ?? (
                    "LATEST", "*"
                )
            await self.send(IRCMessage(.init(rawValue: "CHATHISTORY"), subcommand, target, point, String(count)))
        case .search(let text):
            guard self.state.capabilities.contains("soju.im/search") else {
                self.info("This server does not offer search.")
                return
            }
            // The search syntax separates keys with ';' and '=': those in the text become spaces.
            let query = text.map { $0 == ";" || $0 == "=" ? " " : $0 }
            await self.send(IRCMessage(.init(rawValue: "SEARCH"), "text=" + String(query)))
        case .goto(let number):
            guard number <= self.state.searchHits.count else {
                self.error(
                    self.state.searchHits.isEmpty
                        ? "No search hits: /search TEXT first."
                        : "The last search found \(self.state.searchHits.count) (/goto 1 to \(self.state.searchHits.count))."
                )
                return
            }
            let hit = self.state.searchHits[number - 1]
            self.switchWindow(to: self.windows.open(hit.window))
            self.state.expectContext(in: hit.window)
            await self.send(
                IRCMessage(.init(rawValue: "CHATHISTORY"), "AROUND", hit.window, "msgid=" + hit.msgid, "11")
            )
        case .delete:
            guard self.state.capabilities.contains("draft/message-redaction") else {
                self.info("This server does not let messages be deleted.")
                return
            }
            guard let window = self.windows.currentName, let msgid = self.state.lastOwnMessage(in: window) else {
                self.info("Nothing of yours to delete in this window.")
                return
            }
            await self.send(IRCMessage(.redact, window, msgid))
        case .motd:
            await self.send(IRCMessage(.motd))
        case .raw(let text):
            guard let connection = self.connection else {
                self.error("Not connected: the line was not sent.")
                return
            }
            do { try await connection.client.send(raw: text) } catch { self.error("Not sent: \(error)") }
        case .help:
            let width = ChatCommand.help.map { $0.0.count }.max() ?? 0
            var lines = ["Commands (anything else you type goes to the current window):"]
            for (usage, meaning) in ChatCommand.help {
                lines.append("  " + usage + String(repeating: " ", count: width - usage.count) + "  " + meaning)
            }
            lines.append("Keys: Tab completes nicks and commands, Up/Down recall lines, Alt-1..9 switch windows.")
            for text in lines { self.info(text) }
        case .quit(let reason):
            if self.options.interactive { await self.quit(reason) } else { await self.finishScript(reason) }
        case .usage(let usage):
            self.error("Usage: \(usage)")
        case .unknown(let name):
            self.error("/\(name) is no command here (/help lists them; /raw sends a line to the server as is).")
        }
    }

    /// Sends text as PRIVMSGs, split so that each line fits the server's 512-byte limit.
    func say(_ text: String, to target: String, action: Bool) async {
        guard self.connection != nil else {
            self.error("Not connected: the line was not sent.")
            return
        }
        for chunk in Self.split(text, maxBytes: 400 - target.utf8.count) {
            let body = action ? "\u{01}ACTION \(chunk)\u{01}" : chunk
            guard await self.send(IRCMessage(.privmsg, target, body)) else { return }
            if !self.state.capabilities.contains("echo-message") {
                self.show([self.state.ownLine(target: target, text: chunk, action: action, now: ChatConnection.now())])
            }
        }
    }

    /// Pieces of `text` of at most `maxBytes` UTF-8 bytes, cut between characters (at a space when there is one),
    /// as a multiline message's long lines are cut.
    static func split(_ text: String, maxBytes: Int) -> [String] {
        MultilineText(combined: text, lineBytes: maxBytes).lines.map(\.text)
    }

    /// Sends a message, or says why it could not be sent. - Returns: whether it was sent.
    @discardableResult
    func send(_ message: IRCMessage) async -> Bool {
        guard let connection = self.connection else {
            self.error("Not connected: \(message.command) was not sent.")
            return false
        }
        do {
            try await connection.send(message)
            return true
        } catch {
            self.error("Not sent (\(error)).")
            return false
        }
    }

    func switchWindow(to index: Int) {
        guard self.windows.windows.indices.contains(index) else {
            self.error("There is no window \(index + 1).")
            return
        }
        self.windows.select(index)
        if self.screen == nil {
            self.info("Now talking in \(self.windows.currentName ?? "")")
        } else {
            self.repaint()
        }
    }

    /// A script is done: quit once the server has handled every line it sent. The server answers a client's
    /// commands in order, so its PONG to a PING sent after the last line comes after every echo of them and every
    /// error about them, however long flood control made the lines wait. Quitting before that (or closing after a
    /// fixed wait) lost the lines still queued behind flood control.
    func finishScript(_ reason: String?) async {
        guard !self.quitting, self.draining == nil else { return }
        guard self.connection != nil else { return await self.quit(reason) }
        let token = "parley-done-\(UInt32.random(in: 0...UInt32.max))"
        self.draining = (token, reason)
        await self.send(IRCMessage(.ping, token))
    }

    /// Says goodbye to the server and waits (a few seconds at most) for it to close the connection.
    func quit(_ reason: String?) async {
        guard !self.quitting else { return }
        self.quitting = true
        guard let connection = self.connection else { return }
        await self.send(IRCMessage(.quit, reason ?? "Leaving"))
        Task {
            try? await Task.sleep(for: .seconds(3))
            await connection.close()
        }
    }
}
