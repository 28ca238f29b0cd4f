public import NIOCore
import NIOPosix
public import ParleyIRC
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a chat client connects.
public struct ChatEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var tls: ClientTLS

    public init(host: String, port: Int, tls: ClientTLS = .off) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// Reads `host`, `host:port`, `[v6]:port` or a bare IPv6 address; `defaultPort` fills in a missing port.
    public static func parse(_ text: String, defaultPort: Int, tls: ClientTLS = .off) -> ChatEndpoint? {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, !trimmed.contains(" ") else { return nil }
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            let host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if rest.isEmpty { return ChatEndpoint(host: host, port: defaultPort, tls: tls) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return ChatEndpoint(host: host, port: port, tls: tls)
        }
        let colons = trimmed.filter { $0 == ":" }.count
        if colons == 1, let colon = trimmed.firstIndex(of: ":") {
            guard let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            return ChatEndpoint(host: String(trimmed[..<colon]), port: port, tls: tls)
        }
        return ChatEndpoint(host: trimmed, port: defaultPort, tls: tls)
    }
}

/// An account to log in to while registering (SASL SCRAM-SHA-256, or PLAIN where the server offers only that).
public struct ChatLogin: Sendable, Equatable {
    public var account: String
    public var password: String

    public init(account: String, password: String) {
        self.account = account
        self.password = password
    }
}

/// How registration ended.
public enum RegistrationOutcome: Sendable, Equatable {
    /// Welcome received and the message of the day read; `lines` are notices that came with it.
    case welcomed(lines: [ChatLine])
    /// The nick was refused; `reason` says why in plain words. Call ``ChatConnection/retry(nick:state:)``.
    case nickRefused(reason: String)
}

/// One connection of a chat client: connects, negotiates capabilities, registers, then hands out server messages.
/// One task reads it at a time (the stream has a single consumer); any task may send.
public final class ChatConnection: Sendable {
    /// Capabilities a chat client asks for when the server has them.
    public static let wantedCapabilities: Set<String> = [
        "server-time", "echo-message", "message-tags", "multi-prefix", "batch", "invite-notify", "cap-notify",
        "away-notify", "draft/chathistory", "labeled-response", "soju.im/search", "draft/read-marker",
        "draft/message-redaction", "draft/multiline", "draft/channel-rename", "draft/metadata-3",
    ]

    public let client: IRCClient
    /// Where it is connected (and whether with TLS).
    public let endpoint: ChatEndpoint
    /// Negotiation carries on across ``retry(nick:state:)``: a refused nick can arrive before the server's CAP ACK,
    /// and the login must still happen after it.
    private let negotiation = Mutex<Negotiation?>(nil)

    private init(client: IRCClient, endpoint: ChatEndpoint) {
        self.client = client
        self.endpoint = endpoint
    }

    /// Opens a connection.
    public static func open(
        _ endpoint: ChatEndpoint,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ChatConnection {
        do {
            let client = try await IRCClient.connect(
                host: endpoint.host,
                port: endpoint.port,
                group: group,
                tls: endpoint.tls
            )
            return ChatConnection(client: client, endpoint: endpoint)
        } catch {
            throw ParleyClientError("Cannot connect to \(endpoint.host):\(endpoint.port): \(Self.describe(error))")
        }
    }

    /// A connection failure in a few words ("Connection refused"), not NIO's full report.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return self.describe(first.error) }
            return "the name could not be resolved"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        return "\(error)"
    }

    /// The next message from the server, or `nil` once the connection is closed.
    public func next() async -> IRCMessage? {
        // A fresh iterator per call reads the same single-consumer stream; it keeps this type Sendable.
        var iterator = self.client.messages.makeAsyncIterator()
        return await iterator.next()
    }

    public func send(_ message: IRCMessage) async throws {
        try await self.client.send(message)
    }

    public func close() async {
        await self.client.close()
    }

    /// Starts registration (CAP LS 302, PASS, NICK, USER) and reads until it ends.
    public func register(
        nick: String,
        realname: String? = nil,
        password: String? = nil,
        login: ChatLogin? = nil,
        state: inout ChatState
    ) async throws -> RegistrationOutcome {
        do {
            try await self.send(IRCMessage(.cap, "LS", "302"))
            if let password { try await self.send(IRCMessage(.pass, password)) }
            try await self.send(IRCMessage(.nick, nick))
            try await self.send(IRCMessage(.user, nick, "0", "*", realname ?? nick))
        } catch {
            // The connection died (a failed TLS handshake, say); the reason arrives as an ERROR message.
            while let message = await self.next() {
                guard message.command == .error else { continue }
                throw ParleyClientError("The connection failed: \(message.parameter(0) ?? "")")
            }
            throw ParleyClientError("The connection failed: \(Self.describe(error))")
        }
        var negotiation = Negotiation(login: login)
        defer { self.negotiation.withLock { $0 = negotiation } }
        return try await self.readRegistration(&negotiation, state: &state)
    }

    /// Offers another nick after ``RegistrationOutcome/nickRefused(reason:)``.
    public func retry(nick: String, state: inout ChatState) async throws -> RegistrationOutcome {
        try await self.send(IRCMessage(.nick, nick))
        var negotiation = self.negotiation.withLock { $0 } ?? Negotiation(login: nil)
        defer { self.negotiation.withLock { $0 = negotiation } }
        return try await self.readRegistration(&negotiation, state: &state)
    }

    /// Registers without asking anyone: a refused nick gets `_` appended (as reconnecting clients do), up to
    /// `attempts` times.
    public func registerAutomatically(
        nick: String,
        realname: String? = nil,
        password: String? = nil,
        login: ChatLogin? = nil,
        attempts: Int = 5,
        state: inout ChatState
    ) async throws -> [ChatLine] {
        var candidate = nick
        var outcome = try await self.register(
            nick: candidate,
            realname: realname,
            password: password,
            login: login,
            state: &state
        )
        for _ in 0..<attempts {
            guard case .nickRefused = outcome else { break }
            candidate += "_"
            outcome = try await self.retry(nick: candidate, state: &state)
        }
        switch outcome {
        case .welcomed(let lines): return lines
        case .nickRefused(let reason): throw ParleyClientError(reason)
        }
    }

    /// Where capability negotiation and the login stand during one registration.
    struct Negotiation: Sendable {
        let login: ChatLogin?
        var listed: [String] = []
        /// The mechanisms the server's `sasl` capability names (empty: it did not say).
        var mechanisms: [String] = []
        var sasl: SASLClient?
        /// CAP END sent: nothing more to negotiate.
        var finished = false

        init(login: ChatLogin?) { self.login = login }
    }

    private func readRegistration(
        _ negotiation: inout Negotiation,
        state: inout ChatState
    ) async throws -> RegistrationOutcome {
        var lines: [ChatLine] = []
        while let message = await self.next() {
            let now = Self.now()
            switch message.command {
            case .cap:
                try await self.negotiate(message, &negotiation, state: &state)
                continue
            case .authenticate:
                try await self.authenticate(message, &negotiation)
                continue
            case IRCCommand(.rplSaslSuccess):
                try await self.finishNegotiation(&negotiation)
            case IRCCommand(.errSaslFail), IRCCommand(.errSaslTooLong), IRCCommand(.errSaslAborted),
                IRCCommand(.errNickLocked):
                let account = negotiation.login?.account ?? ""
                throw ParleyClientError(
                    "Logging in as \(account) failed: \(message.parameters.last ?? "refused"). Check the account name "
                        + "and password; leave out --account to chat as a guest."
                )
            case IRCCommand(.errNicknameInUse), IRCCommand(.errErroneusNickname), IRCCommand(.errNoNicknameGiven):
                if !state.isRegistered { return .nickRefused(reason: ChatState.explain(message)) }
            case IRCCommand(.errPasswdMismatch):
                throw ParleyClientError("The server needs a password, and the one given is wrong (--password).")
            case .error:
                throw ParleyClientError("The server closed the connection: \(message.parameter(0) ?? "")")
            default:
                break
            }
            lines += state.apply(message, now: now)
            if message.command == IRCCommand(.rplEndOfMotd) || message.command == IRCCommand(.errNoMotd) {
                return .welcomed(lines: lines)
            }
        }
        throw ParleyClientError("The server closed the connection during registration.")
    }

    /// CAP LS (possibly several lines) → REQ what we want → ACK/NAK → (SASL) → END.
    private func negotiate(
        _ message: IRCMessage,
        _ negotiation: inout Negotiation,
        state: inout ChatState
    ) async throws {
        switch message.parameter(1) {
        case "LS":
            let more = message.parameters.count > 3 && message.parameter(2) == "*"
            for entry in (message.parameters.last ?? "").split(separator: " ") {
                negotiation.listed.append(String(entry.prefix { $0 != "=" }))
                if entry.hasPrefix("sasl=") {
                    negotiation.mechanisms = entry.dropFirst("sasl=".count).split(separator: ",").map(String.init)
                }
                if entry.hasPrefix(MultilineText.batchType + "=") {
                    state.multilineLimits = MultilineText.Limits(
                        capabilityValue: String(entry.dropFirst(MultilineText.batchType.count + 1))
                    )
                }
                if entry.hasPrefix("sts=") {
                    let policy = StrictTransportPolicy(capabilityValue: String(entry.dropFirst("sts=".count)))
                    // Over plaintext the policy is an order to move to TLS; over TLS it says how long to stay.
                    if self.endpoint.tls == .off, let port = policy.port { throw StrictTransportUpgrade(port: port) }
                    if self.endpoint.tls != .off { state.strictTransport = policy }
                }
            }
            guard !more else { return }
            var wanted = negotiation.listed.filter(Self.wantedCapabilities.contains)
            if negotiation.login != nil {
                guard negotiation.listed.contains("sasl") else {
                    throw ParleyClientError(
                        "This server does not offer logging in (SASL); leave out --account to chat as a guest."
                    )
                }
                wanted.append("sasl")
            }
            if wanted.isEmpty {
                try await self.finishNegotiation(&negotiation)
            } else {
                try await self.send(IRCMessage(.cap, "REQ", wanted.joined(separator: " ")))
            }
        case "ACK":
            let acknowledged = (message.parameters.last ?? "").split(separator: " ").map(String.init)
            state.acknowledge(capabilities: acknowledged)
            if let login = negotiation.login, acknowledged.contains("sasl") {
                // SCRAM keeps the password off the wire; PLAIN only where the server offers nothing better.
                let offered = negotiation.mechanisms
                let mechanism: SASLClient.Mechanism =
                    offered.isEmpty || offered.contains("SCRAM-SHA-256") ? .scramSHA256 : .plain
                negotiation.sasl = SASLClient(mechanism: mechanism, user: login.account, password: login.password)
                try await self.send(IRCMessage(.authenticate, mechanism.rawValue))
            } else {
                try await self.finishNegotiation(&negotiation)
            }
        case "NAK":
            if negotiation.login != nil {
                throw ParleyClientError("The server refused to negotiate SASL, so --account cannot log in.")
            }
            try await self.finishNegotiation(&negotiation)
        default:
            _ = state.apply(message, now: Self.now())
        }
    }

    private func finishNegotiation(_ negotiation: inout Negotiation) async throws {
        guard !negotiation.finished else { return }
        negotiation.finished = true
        try await self.send(IRCMessage(.cap, "END"))
    }

    /// One SASL step: the server's challenge (`+` for none) in, the response out, base64 in chunks of 400.
    private func authenticate(_ message: IRCMessage, _ negotiation: inout Negotiation) async throws {
        guard var sasl = negotiation.sasl else { return }
        let text = message.parameters.last ?? "+"
        guard let challenge = text == "+" ? [] : Base64.decode(text) else {
            throw ParleyClientError("The server sent a SASL challenge that is not base64.")
        }
        let response = try sasl.respond(to: challenge)
        negotiation.sasl = sasl
        let encoded = Base64.encode(response)
        var chunks = stride(from: 0, to: encoded.count, by: 400).map {
            String(encoded.dropFirst($0).prefix(400))
        }
        if encoded.isEmpty || encoded.count % 400 == 0 { chunks.append("+") }
        for chunk in chunks { try await self.send(IRCMessage(.authenticate, chunk)) }
    }

    /// Milliseconds since 1970 from the system clock.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// Delays between reconnection attempts: doubling from one second up to a ceiling.
public struct Backoff: Sendable {
    public private(set) var attempt = 0
    private let base: Duration
    private let ceiling: Duration

    public init(base: Duration = .seconds(1), ceiling: Duration = .seconds(30)) {
        self.base = base
        self.ceiling = ceiling
    }

    /// The delay before the next attempt.
    public mutating func next() -> Duration {
        let factor = 1 << min(self.attempt, 16)
        self.attempt += 1
        return min(self.base * factor, self.ceiling)
    }

    public mutating func reset() {
        self.attempt = 0
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
