import ParleyIRC

/// SASL over `AUTHENTICATE` (IRCv3 sasl 3.2): the core frames the exchange (400-byte base64 chunks, `+`, `*`) and
/// hands each decoded client response to the host, which runs the mechanism (PLAIN, SCRAM-SHA-256, EXTERNAL).
extension ServerState {
    static let saslMechanisms = ["PLAIN", "SCRAM-SHA-256", "EXTERNAL"]
    /// Longest client response accepted, in base64 characters.
    static let saslMaximumResponse = 8192

    mutating func authenticate(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        let argument = request.parameters[0]
        guard self.configuration.accounts != nil, session.caps.contains(.sasl) else {
            self.reply(
                request.id,
                .errSaslFail,
                "SASL authentication failed: negotiate the sasl capability first",
                into: &outbox
            )
            return
        }
        guard let mechanism = session.saslMechanism else {
            guard session.account == nil else {
                self.reply(request.id, .errSaslAlready, "You have already authenticated using SASL", into: &outbox)
                return
            }
            let requested = CaseMapping.asciiUppercased(argument)
            guard Self.saslMechanisms.contains(requested) else {
                self.reply(
                    request.id,
                    .rplSaslMechs,
                    Self.saslMechanisms.joined(separator: ","),
                    "are available SASL mechanisms",
                    into: &outbox
                )
                self.reply(request.id, .errSaslFail, "SASL authentication failed", into: &outbox)
                return
            }
            if requested == "EXTERNAL" && session.certificate == nil {
                self.reply(
                    request.id,
                    .errSaslFail,
                    "SASL authentication failed: EXTERNAL needs a TLS client certificate",
                    into: &outbox
                )
                return
            }
            self.sessions[request.id]?.saslMechanism = requested
            self.sessions[request.id]?.saslBuffer = ""
            outbox.send(IRCMessage(source: self.configuration.serverName, .authenticate, "+"), to: request.id)
            return
        }
        if argument == "*" {
            self.endSasl(request.id, into: &outbox)
            outbox.actions.append(.saslReset(request.id))
            self.reply(request.id, .errSaslAborted, "SASL authentication aborted", into: &outbox)
            return
        }
        // 905 is for one AUTHENTICATE longer than a chunk; a response that grows past any mechanism's need is a
        // failed authentication (904), as IRCv3 SASL 3.1 has it.
        guard argument.utf8.count <= 400 else {
            self.endSasl(request.id, into: &outbox)
            outbox.actions.append(.saslReset(request.id))
            self.reply(request.id, .errSaslTooLong, "SASL message too long", into: &outbox)
            return
        }
        if argument != "+" { self.sessions[request.id]?.saslBuffer += argument }
        let gathered = self.sessions[request.id]?.saslBuffer ?? ""
        guard gathered.utf8.count <= Self.saslMaximumResponse else {
            self.endSasl(request.id, into: &outbox)
            outbox.actions.append(.saslReset(request.id))
            self.reply(
                request.id,
                .errSaslFail,
                "SASL authentication failed: the response is longer than \(Self.saslMaximumResponse) bytes",
                into: &outbox
            )
            return
        }
        // A 400-byte chunk means more follows (a final `+` if the response was a multiple of 400).
        if argument.utf8.count == 400 { return }
        self.sessions[request.id]?.saslBuffer = ""
        guard let response = gathered.isEmpty ? [] : Base64.decode(gathered) else {
            self.endSasl(request.id, into: &outbox)
            outbox.actions.append(.saslReset(request.id))
            self.reply(
                request.id,
                .errSaslFail,
                "SASL authentication failed: the response is not base64",
                into: &outbox
            )
            return
        }
        let step = SASLStep(
            session: request.id,
            mechanism: mechanism,
            response: response,
            address: session.address,
            certificate: session.certificate
        )
        outbox.actions.append(.effect(AnyEffect(step)))
    }

    private mutating func endSasl(_ id: SessionID, into outbox: inout Outbox) {
        self.sessions[id]?.saslMechanism = nil
        self.sessions[id]?.saslBuffer = ""
    }

    /// The mechanism's next challenge.
    public mutating func saslChallenge(_ id: SessionID, _ challenge: [UInt8], into outbox: inout Outbox) {
        guard self.sessions[id]?.saslMechanism != nil else { return }
        let text = Base64.encode(challenge)
        var chunks: [String] = []
        var rest = Substring(text)
        while rest.utf8.count >= 400 {
            chunks.append(String(rest.prefix(400)))
            rest = rest.dropFirst(400)
        }
        chunks.append(rest.isEmpty ? "+" : String(rest))
        for chunk in chunks {
            outbox.send(IRCMessage(source: self.configuration.serverName, .authenticate, chunk), to: id)
        }
    }

    public mutating func saslSucceeded(_ id: SessionID, account: String, now: Timestamp, into outbox: inout Outbox) {
        guard self.sessions[id]?.saslMechanism != nil else { return }
        self.endSasl(id, into: &outbox)
        self.setAccount(id, account, now: now, into: &outbox)
        self.reply(id, .rplSaslSuccess, "SASL authentication successful", into: &outbox)
    }

    public mutating func saslFailed(_ id: SessionID, reason: String? = nil, into outbox: inout Outbox) {
        guard self.sessions[id]?.saslMechanism != nil else { return }
        self.endSasl(id, into: &outbox)
        self.reply(id, .errSaslFail, "SASL authentication failed" + (reason.map { ": " + $0 } ?? ""), into: &outbox)
    }
}

/// One client response of a SASL exchange (decoded): the host keeps the mechanism's state and answers with
/// ``ServerState/saslChallenge(_:_:into:)``, ``ServerState/saslSucceeded(_:account:now:into:)`` or
/// ``ServerState/saslFailed(_:into:)``.
public struct SASLStep: CoreEffect, Equatable {
    public var session: SessionID
    public var mechanism: String
    public var response: [UInt8]
    public var address: String
    /// The fingerprint of the client's TLS certificate, for EXTERNAL.
    public var certificate: String?

    public init(session: SessionID, mechanism: String, response: [UInt8], address: String, certificate: String?) {
        self.session = session
        self.mechanism = mechanism
        self.response = response
        self.address = address
        self.certificate = certificate
    }
}
