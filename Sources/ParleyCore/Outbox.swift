public import ParleyIRC

/// What the core asks its host to do. The host reuses one outbox, so handling a message allocates no array for it.
public struct Outbox: Sendable {
    /// One thing to do.
    public enum Action: Sendable, Equatable {
        /// Send a message to one session.
        case send(IRCMessage, to: SessionID)
        /// Send the same message to many sessions; the host encodes it once per capability variant.
        case broadcast(IRCMessage, to: [SessionID])
        /// Send `ERROR :<reason>` and close the connection. The core has already forgotten the session.
        case close(SessionID, reason: String)
        /// Store `message` (as relayed, with its time and msgid) in the history of `target` (a storage key). Every
        /// other action from the same command waits until it is committed: that is when the sender learns it was
        /// accepted.
        /// `deliverTo` names an offline account (folded) that gets the message when it next logs in.
        case persist(IRCMessage, target: String, deliverTo: String?)
        /// The DMs kept for `account` up to store sequence `through` reached a session of it (it answered the PING
        /// sent after them): they stop waiting.
        case acknowledgePending(account: String, through: Int64)
        /// Work that answers back (a ``CoreEffect``: a history query, an account change, a SASL step, an operator
        /// password check, offline DMs, a read marker): its session's later replies wait for its result.
        case effect(AnyEffect)
        /// Store a channel registration (created or changed).
        case saveChannel(ChannelRegistration)
        /// Forget the registration of a channel (folded name).
        case dropChannel(String)
        /// Forget the SASL exchange of a session (aborted, or the session is gone).
        case saslReset(SessionID)
        /// In a cluster: claim nick `folded` for this node, then call ``ServerState/nickClaimed(_:nick:_:now:into:)``.
        /// Claims and releases are carried out in the order they were asked for.
        case claimNick(SessionID, nick: String, folded: String, respectingHolds: Bool)
        /// In a cluster: hold the registered nick `folded` for its owner for `seconds` on every node (someone not
        /// logged in to it was just renamed away from it).
        case holdNick(folded: String, seconds: Int64)
        /// In a cluster: give nick `folded` back (no session of this node uses it any more).
        case releaseNick(folded: String)
        /// In a cluster: pass a message that is not stored (a typing notice) to the other nodes, at most once; they
        /// hand it to ``ServerState/relaySignalFromOtherNode(_:into:)``.
        case signal(IRCMessage)
    }

    /// The actions, in order.
    public var actions: [Action] = []

    public init() {}

    /// Forgets all actions but keeps the storage.
    public mutating func removeAll() {
        self.actions.removeAll(keepingCapacity: true)
    }

    mutating func send(_ message: IRCMessage, to session: SessionID) {
        self.actions.append(.send(message, to: session))
    }

    mutating func broadcast(_ message: IRCMessage, to sessions: [SessionID]) {
        guard !sessions.isEmpty else { return }
        self.actions.append(.broadcast(message, to: sessions))
    }
}
