import ParleyIRC

extension ChatState {
    /// The metadata keys a chat client subscribes to (`METADATA * SUB`): the ones it shows.
    public static let metadataKeys = ["display-name"]

    /// IRCv3 metadata replies and notifications (761 a value, 766 none): a user's display name is kept for the
    /// lines it says. - Returns: whether `message` was one (nothing to show for it).
    mutating func applyMetadata(_ message: IRCMessage) -> Bool {
        if message.command == .nick, let old = message.sourceNick, let new = message.parameter(0),
            let name = self.displayNames.removeValue(forKey: CaseMapping.fold(old))
        {
            self.displayNames[CaseMapping.fold(new)] = name
            return false
        }
        if [IRCNumeric.rplMetadataSubOK, .rplMetadataUnsubOK, .rplMetadataSubs].map(IRCCommand.init).contains(
            message.command
        ) {
            return true  // the answers to its own SUB: nothing to show
        }
        let isValue = message.command == IRCCommand(.rplKeyValue)
        guard isValue || message.command == IRCCommand(.rplKeyNotSet) else { return false }
        guard let target = message.parameter(1), !IRCName.isChannel(target), message.parameter(2) == "display-name"
        else { return true }
        let value = isValue ? message.parameter(4).flatMap { $0.isEmpty ? nil : String($0.prefix(64)) } : nil
        self.displayNames[CaseMapping.fold(target)] = value
        return true
    }
}
