import Logging
import ParleyCore
import ParleyStore

/// `REDACT`: finds the message in the asker's view, checks the asker may delete it, deletes it with its copies.
extension RedactRequest: ServerEffect {
    func run(on host: CoreHost) async -> CoreHost.Resolution {
        guard let store = host.history?.store else {
            return { core, outbox in core.redactFailed(self, .unavailable, into: &outbox) }
        }
        do {
            guard let found = try await store.sender(of: self.msgid, in: self.target) else {
                return { core, outbox in core.redactFailed(self, .unknownMessage, into: &outbox) }
            }
            let owner = StoredMessageOwner(account: found.account.map { NickKey($0).folded }, sender: found.sender)
            guard self.allows(owner) else {
                return { core, outbox in core.redactFailed(self, .forbidden, into: &outbox) }
            }
            _ = try await store.delete(self.msgid, in: [self.target] + self.copies)
            return { core, outbox in core.redacted(self, now: CoreHost.now(), into: &outbox) }
        } catch {
            host.logger.error("redaction failed", metadata: ["parley.error": "\(error)"])
            return { core, outbox in core.redactFailed(self, .unavailable, into: &outbox) }
        }
    }
}
