import ParleyClient
import ParleyIRC

/// Typing notices (IRCv3 `+typing`): what this person sends while composing a line; who else is typing is in
/// ``ChatState/typists`` and shown on the status line.
extension ChatApp {
    /// The spec's limit: `active` no more often than every 3 s.
    static let typingRepeat: Int64 = 3_000

    /// The input line changed: tells the current window `active` (at most every 3 s) while the line holds text that
    /// is not a command, and `done` once it is emptied or the person moved to another window.
    func inputChanged() async {
        let text = self.editor.text
        let typing = !text.allSatisfy(\.isWhitespace) && !text.hasPrefix("/")
        let target = self.windows.currentName.flatMap { name in
            !IRCName.isChannel(name) || self.state.channel(name) != nil ? name : nil
        }
        if let sent = self.typingSent, sent.target != target || !typing {
            self.typingSent = nil
            await self.sendTyping("done", to: sent.target)
        }
        guard typing, let target else { return }
        let now = ChatConnection.now()
        if let sent = self.typingSent, now - sent.at < Self.typingRepeat { return }
        self.typingSent = (target, now)
        await self.sendTyping("active", to: target)
    }

    /// A line was submitted: a message ends the notice where it arrives; a command does not, so `done` follows it.
    func inputSubmitted(_ line: String) async {
        guard let sent = self.typingSent else { return }
        self.typingSent = nil
        if line.hasPrefix("/") && !line.lowercased().hasPrefix("/me ") {
            await self.sendTyping("done", to: sent.target)
        }
    }

    /// Best effort, like typing notices everywhere: one that cannot be sent is not worth an error line.
    private func sendTyping(_ value: String, to target: String) async {
        guard self.state.capabilities.contains("message-tags"), let connection = self.connection else { return }
        var message = IRCMessage(.tagmsg, target)
        message.tags = [IRCTag("+typing", value)]
        try? await connection.client.send(message)
    }

    /// Once a second (interactive only): lapsed notices go from the status line, which is redrawn only if one did.
    func typingTick() {
        if self.state.typists.expire(now: ChatConnection.now()) { self.redraw() }
    }
}
