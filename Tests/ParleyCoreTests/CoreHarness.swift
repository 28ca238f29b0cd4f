import ParleyCore
import ParleyIRC
import Testing

/// Drives a ``ServerState`` with plain values: named clients, lines in, messages out per client.
struct CoreHarness {
    var state: ServerState
    var outbox = Outbox()
    var ids: [String: SessionID] = [:]
    var inbox: [SessionID: [IRCMessage]] = [:]
    var closed: [SessionID: String] = [:]
    /// Messages the core asked to store, with their history target.
    var persisted: [(IRCMessage, String)] = []
    /// Accounts that messages were kept for.
    var offline: [String] = []
    var acknowledged: [String] = []
    /// Effects the core asked for (``CoreEffect``), in order; the lists below pick theirs out.
    var effects: [AnyEffect] = []
    var operatorChecks: [OperatorCheck] { self.effects(OperatorCheck.self) }
    /// Accounts whose kept messages were asked for.
    var pendingRequests: [String] { self.effects(PendingDeliveryRequest.self).map(\.account) }
    var readMarkerRequests: [ReadMarkerRequest] { self.effects(ReadMarkerRequest.self) }
    var historyQueries: [HistoryQuery] { self.effects(HistoryQuery.self) }
    var accountRequests: [AccountRequest] { self.effects(AccountRequest.self) }
    /// SASL client responses handed to the host: (session, mechanism, decoded response).
    var saslResponses: [(SessionID, String, [UInt8])] {
        self.effects(SASLStep.self).map { ($0.session, $0.mechanism, $0.response) }
    }
    var savedChannels: [ChannelRegistration] = []
    var droppedChannels: [String] = []
    /// Nick claims asked of the cluster (session, nick) and nicks given back (folded), in order.
    var nickClaims: [(SessionID, String)] = []
    var nickReleases: [String] = []
    var nickHolds: [String] = []
    var claimsRespectingHolds: [String] = []
    var signals: [IRCMessage] = []
    var now = Timestamp(millisecondsSince1970: 1_795_615_041_000)
    private var nextID: UInt64 = 0

    init(configuration: CoreConfiguration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")) {
        self.state = ServerState(configuration: configuration)
    }

    /// Opens a connection named `name` without registering.
    mutating func open(_ name: String, secure: Bool = false) {
        self.nextID += 1
        let id = SessionID(self.nextID)
        self.ids[name] = id
        self.state.connect(id, host: "host-\(name)", address: "10.0.0.\(self.nextID)", secure: secure, now: self.now)
    }

    /// Opens and registers `name` (nick = name), optionally with capabilities; clears its inbox.
    mutating func connect(_ name: String, caps: [String] = []) {
        self.open(name)
        if !caps.isEmpty {
            self.send(name, "CAP LS 302")
            self.send(name, "CAP REQ :" + caps.joined(separator: " "))
        }
        self.send(name, "NICK \(name)")
        self.send(name, "USER \(name) 0 * :Real \(name)")
        if !caps.isEmpty { self.send(name, "CAP END") }
        _ = self.take(name)
    }

    mutating func send(_ name: String, _ line: String) {
        guard let id = self.ids[name] else {
            Issue.record("no client \(name)")
            return
        }
        self.outbox.removeAll()
        self.now.millisecondsSince1970 += 1
        do {
            let message = try IRCParser.parse(line)
            self.state.handle(message, from: id, now: self.now, into: &self.outbox)
        } catch {
            self.state.parseFailed(error, from: id, into: &self.outbox)
        }
        self.collect()
    }

    mutating func collect() {
        for action in self.outbox.actions {
            switch action {
            case .send(let message, let to):
                self.inbox[to, default: []].append(message)
            case .broadcast(let message, let recipients):
                for recipient in recipients { self.inbox[recipient, default: []].append(message) }
            case .close(let id, let reason):
                self.closed[id] = reason
            case .persist(let message, let target, let deliverTo):
                self.persisted.append((message, target))
                if let deliverTo { self.offline.append(deliverTo) }
            case .acknowledgePending(let account, _):
                self.acknowledged.append(account)
            case .effect(let effect):
                self.effects.append(effect)
            case .saslReset:
                break
            case .saveChannel(let registration):
                self.savedChannels.append(registration)
            case .dropChannel(let name):
                self.droppedChannels.append(name)
            case .holdNick(let folded, _):
                self.nickHolds.append(folded)
            case .claimNick(let id, let nick, _, let respectingHolds):
                if respectingHolds { self.claimsRespectingHolds.append(nick) }
                self.nickClaims.append((id, nick))
            case .releaseNick(let folded):
                self.nickReleases.append(folded)
            case .signal(let message):
                self.signals.append(message)
            }
        }
    }

    /// A core with history and accounts on (as a server with a store runs it), `accounts` registered.
    static func withAccounts(_ accounts: [String]) -> CoreHarness {
        var configuration = CoreConfiguration(serverName: "irc.test", networkName: "TestNet")
        configuration.history = .init()
        configuration.accounts = .init(nickGrace: 30, nickHold: 300)
        var harness = CoreHarness(configuration: configuration)
        harness.state.loadAccounts(accounts)
        return harness
    }

    /// `name` logs in to `account` (as NickServ IDENTIFY does once the password checked out); its replies are
    /// forgotten.
    mutating func logIn(_ name: String, as account: String) {
        guard let id = self.ids[name] else {
            Issue.record("no client \(name)")
            return
        }
        self.outbox.removeAll()
        let request = AccountRequest(
            session: id,
            kind: .identify(account: account, password: "x"),
            via: .nickServ,
            address: "10.0.0.1"
        )
        self.state.accountCompleted(request, .loggedIn(account: account), now: self.now, into: &self.outbox)
        self.collect()
        _ = self.take(name)
    }

    /// The effects of one type, in order.
    func effects<Effect: CoreEffect>(_ type: Effect.Type) -> [Effect] {
        self.effects.compactMap { $0.base as? Effect }
    }

    /// Answers the cluster's nick claim of `nick` by `name`.
    mutating func answerClaim(_ name: String, _ nick: String, _ answer: NickClaimAnswer) {
        guard let id = self.ids[name] else { return }
        self.outbox.removeAll()
        self.state.nickClaimed(id, nick: nick, answer, now: self.now, into: &self.outbox)
        self.collect()
    }

    /// Messages `name` received since the last take, and forgets them.
    mutating func take(_ name: String) -> [IRCMessage] {
        guard let id = self.ids[name] else { return [] }
        return self.inbox.removeValue(forKey: id) ?? []
    }

    /// The commands `name` received since the last take.
    mutating func commands(_ name: String) -> [String] {
        self.take(name).map(\.command.rawValue)
    }

    func isClosed(_ name: String) -> Bool {
        self.ids[name].map { self.closed[$0] != nil } ?? false
    }
}
