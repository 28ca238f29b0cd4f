import ParleyClient
import ParleyIRC

/// A paste of several lines (bracketed paste mode): one draft/multiline message where the server takes it, so a
/// snippet arrives whole and stays one message in history; a message per line where it does not.
extension ChatApp {
    func sendPaste(_ text: String) async {
        guard let target = self.windows.currentName else {
            self.error("You are in no channel: /join #channel first.")
            return
        }
        guard self.state.capabilities.isSuperset(of: [MultilineText.batchType, "batch"]),
            let limits = self.state.multilineLimits
        else {
            for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
                await self.say(String(line), to: target, action: false)
            }
            return
        }
        // As `say` counts: what fits one IRC line once the server puts the sender's prefix in front.
        for message in MultilineText.messages(text, lineBytes: 400 - target.utf8.count, limits: limits) {
            guard await self.sendMultiline(message, to: target) else { return }
        }
    }

    /// Sends one multiline message as its batch. - Returns: whether it was sent.
    private func sendMultiline(_ message: MultilineText, to target: String) async -> Bool {
        let reference = "p" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        guard await self.send(IRCMessage(.batch, "+" + reference, MultilineText.batchType, target)) else {
            return false
        }
        for (index, line) in message.lines.enumerated() {
            var tags = [IRCTag("batch", reference)]
            if line.concat && index > 0 { tags.append(IRCTag(MultilineText.concatTag, "")) }
            guard await self.send(IRCMessage(tags: tags, command: .privmsg, parameters: [target, line.text])) else {
                return false
            }
        }
        guard await self.send(IRCMessage(.batch, "-" + reference)) else { return false }
        if !self.state.capabilities.contains("echo-message") {
            let own = self.state.ownLine(
                target: target,
                text: message.combined,
                action: false,
                now: ChatConnection.now()
            )
            self.show(
                own.text.split(separator: "\n", omittingEmptySubsequences: false).map {
                    var line = own
                    line.text = String($0)
                    return line
                }
            )
        }
        return true
    }
}
