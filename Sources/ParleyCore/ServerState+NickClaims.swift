import ParleyIRC

/// A nick asked of the cluster and not yet answered.
struct NickClaim: Sendable {
    let session: SessionID
    let nick: String
    /// A rename the server imposes (a registered nick's grace ran out): on refusal the next guest nick is tried.
    let forced: Bool
}

/// How the cluster answered a nick claim (see ``ServerState/nickClaimed(_:nick:_:now:into:)``).
public enum NickClaimAnswer: Sendable, Equatable {
    case granted
    /// Another node holds the nick.
    case taken
    /// The cluster's database did not answer.
    case unavailable
}

/// In a cluster every nick in use is claimed in the shared database (one row per folded nick, naming the node), so
/// two nodes never give out the same nick. A node claims a nick before a session of its own takes it, unless the
/// node already holds it, and gives it back once no session of its own uses it. The claims and releases are carried
/// out in the order they are asked for, so a release followed by a claim of the same nick reaches the database in
/// that order.
extension ServerState {
    var claimsNicks: Bool { self.configuration.nodeName != nil }

    /// Gives `nick` to session `id` now when no claim is needed; otherwise asks the cluster and answers later
    /// through ``nickClaimed(_:nick:_:now:into:)``.
    mutating func takeOrClaimNick(_ id: SessionID, _ nick: String, now: Timestamp, into outbox: inout Outbox) {
        let key = NickKey(nick)
        guard self.claimsNicks, self.nickHolders[key.folded] == nil else {
            self.takeNick(id, nick, now: now, into: &outbox)
            return
        }
        if let pending = self.nickClaims[key.folded] {
            if pending.session != id {
                self.reply(id, .errNicknameInUse, nick, "Nickname is already in use", into: &outbox)
            }
            return
        }
        // A claim would wait for the database's answer (up to its deadline): say so now.
        if self.databaseAway {
            self.reply(
                id,
                .errUnavailResource,
                nick,
                "Nick is temporarily unavailable: the database cannot be reached; try again shortly",
                into: &outbox
            )
            return
        }
        self.nickClaims[key.folded] = NickClaim(session: id, nick: nick, forced: false)
        if self.sessions[id]?.heldLines == nil { self.sessions[id]?.heldLines = [] }
        // A registered nick may be held for its owner on another node: only its owner's claim passes then.
        let byOwner = self.sessions[id]?.account.map(NickKey.init) == key
        let respectingHolds = self.registeredAccounts.contains(key.folded) && !byOwner
        outbox.actions.append(.claimNick(id, nick: nick, folded: key.folded, respectingHolds: respectingHolds))
    }

    /// Lines held past this many while a claim is out are handled at once (out of order, but not lost).
    static let heldLineLimit = 100

    /// The claim is answered: handles the lines the session sent meanwhile, in order (one of them may ask for
    /// another nick and hold the rest again).
    private mutating func releaseHeldLines(_ id: SessionID, now: Timestamp, into outbox: inout Outbox) {
        guard let lines = self.sessions[id]?.heldLines else { return }
        self.sessions[id]?.heldLines = nil
        for (index, line) in lines.enumerated() {
            if self.sessions[id]?.heldLines != nil {
                self.sessions[id]?.heldLines?.append(contentsOf: lines[index...])
                return
            }
            self.handle(line, from: id, now: now, into: &outbox)
        }
    }

    /// The cluster's answer to a claim of `nick` for session `id`.
    public mutating func nickClaimed(
        _ id: SessionID,
        nick: String,
        _ answer: NickClaimAnswer,
        now: Timestamp,
        into outbox: inout Outbox
    ) {
        let key = NickKey(nick)
        guard let claim = self.nickClaims[key.folded], claim.session == id else { return }
        self.nickClaims[key.folded] = nil
        defer { if !claim.forced { self.releaseHeldLines(id, now: now, into: &outbox) } }
        guard let session = self.sessions[id] else {
            if answer == .granted { self.letGoOfNick(key, by: id, into: &outbox) }
            return
        }
        switch answer {
        case .granted where claim.forced:
            // The user may have logged in or moved to another nick meanwhile; then the guest nick is not needed.
            guard self.holdsReservedNick(session) else {
                self.letGoOfNick(key, by: id, into: &outbox)
                return
            }
            self.renameToGuest(id, nick, now: now, into: &outbox)
        case .granted:
            self.takeNick(id, nick, now: now, into: &outbox)
        case .taken where claim.forced:
            self.claimGuestNick(id, now: now, into: &outbox)
        case .unavailable where claim.forced:
            // Try again in a while rather than asking a database that does not answer for guest after guest.
            self.sessions[id]?.renameAt = Timestamp(millisecondsSince1970: now.millisecondsSince1970 + 10_000)
        case .taken:
            self.reply(id, .errNicknameInUse, nick, "Nickname is already in use", into: &outbox)
        case .unavailable:
            self.reply(id, .errUnavailResource, nick, "Nick is temporarily unavailable", into: &outbox)
        }
    }

    /// Every nick this node holds in the cluster, folded: claimed again after the node had to rejoin.
    public var heldNicks: [String: String] {
        self.nickHolders.reduce(into: [:]) { held, entry in
            held[entry.key] = entry.value.first.flatMap { self.sessions[$0]?.nick } ?? entry.key
        }
    }

    /// Session `id` now uses `nick` (registered or not): NICK to it and its peers, or registration goes on.
    mutating func takeNick(_ id: SessionID, _ nick: String, now: Timestamp, into outbox: inout Outbox) {
        guard let session = self.sessions[id] else { return }
        guard session.isRegistered, session.nick != nil else {
            let old = session.nick
            self.holdNick(NickKey(nick), by: id)
            self.sessions[id]?.nick = nick
            self.sessions[id]?.refreshPrefix()
            if let old, NickKey(old) != NickKey(nick) { self.letGoOfNick(NickKey(old), by: id, into: &outbox) }
            self.completeRegistration(id, now: now, into: &outbox)
            return
        }
        self.changeNick(id, to: nick, now: now, into: &outbox)
    }

    /// Marks `key` as used by session `id` (a cluster node keeps its claim while any session of its own uses it).
    mutating func holdNick(_ key: NickKey, by id: SessionID) {
        guard self.claimsNicks else { return }
        self.nickHolders[key.folded, default: []].insert(id)
    }

    /// Session `id` no longer uses `key`; the last one to let go gives the nick back to the cluster.
    mutating func letGoOfNick(_ key: NickKey, by id: SessionID, into outbox: inout Outbox) {
        guard self.claimsNicks else { return }
        self.nickHolders[key.folded]?.remove(id)
        guard self.nickHolders[key.folded]?.isEmpty ?? true else { return }
        self.nickHolders[key.folded] = nil
        outbox.actions.append(.releaseNick(folded: key.folded))
    }

    /// Picks the next guest nick free here and claims it for a forced rename.
    mutating func claimGuestNick(_ id: SessionID, now: Timestamp, into outbox: inout Outbox) {
        var guest: String
        repeat {
            self.guestCounter += 1
            guest = "Guest\(self.guestCounter)"
        } while self.nicks[NickKey(guest)] != nil || self.nickClaims[NickKey(guest).folded] != nil
        guard self.claimsNicks else {
            self.renameToGuest(id, guest, now: now, into: &outbox)
            return
        }
        let key = NickKey(guest)
        if self.nickHolders[key.folded] != nil {
            self.renameToGuest(id, guest, now: now, into: &outbox)
            return
        }
        self.nickClaims[key.folded] = NickClaim(session: id, nick: guest, forced: true)
        outbox.actions.append(.claimNick(id, nick: guest, folded: key.folded, respectingHolds: false))
    }
}
