import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import ParleyCore
import ParleyIRC
import ParleyStore

/// Carries out account requests and SASL exchanges for the core: store access, password hashing on NIO's thread
/// pool, and limits on failed logins per account and per address.
final class AccountService: Sendable {
    /// One step's answer in a SASL exchange.
    enum SASLStep: Sendable, Equatable {
        case challenge([UInt8])
        case success(account: String)
        case failure(String?)
    }

    private struct State {
        var exchanges: [SessionID: Scram.Exchange] = [:]
        /// When each SCRAM exchange's attempt was reserved (``AccountService/reserveAttempt(account:address:now:)``).
        var scramStarted: [SessionID: Int64] = [:]
        /// Accounts whose SCRAM server-final was sent: the client's empty response completes the login.
        var verified: [SessionID: String] = [:]
        /// Times (ms) of recent login attempts that did not succeed (or are still being checked), by
        /// `pair:NAME IP`, `address:IP` and `account:NAME`.
        var failures: [String: [Int64]] = [:]
    }

    private let store: any ParleyStorage
    private let state = NIOLockedValueBox(State())
    let iterations: Int
    /// The secret decoy salts are derived with (see ``decoy(_:)``).
    private let decoyKey: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }

    /// Failed logins allowed per window before further attempts are refused: per account from one address, per
    /// address, and per account from everywhere (higher, so that guesses from one place never lock the owner out
    /// elsewhere, while a crowd of addresses is still bounded).
    static let failuresPerAccountAndAddress = 5
    static let failuresPerAddress = 20
    static let failuresPerAccount = 100
    static let window: Int64 = 60_000

    init(store: any ParleyStorage, iterations: Int = Scram.iterations) {
        self.store = store
        self.iterations = iterations
    }

    func perform(_ request: AccountRequest, now: Int64) async -> AccountOutcome {
        do {
            switch request.kind {
            case .register(let name, let email, let password):
                let iterations = self.iterations
                let credentials = try await NIOThreadPool.singleton.runIfActive {
                    try Scram.credentials(for: password, iterations: iterations)
                }
                let account = Account(
                    name: NickKey(name).folded,
                    displayName: name,
                    email: email,
                    createdAt: now,
                    credentials: credentials
                )
                return try await self.store.create(account) ? .registered(account: name) : .failed(.exists)
            case .identify(let name, let password):
                switch try await self.login(name, password: password, address: request.address, now: now) {
                case .success(let account): return .loggedIn(account: account.displayName)
                case .failure(let failure): return .failed(failure)
                }
            case .drop(let name, let password):
                switch try await self.login(name, password: password, address: request.address, now: now) {
                case .success(let account):
                    _ = try await self.store.drop(account.name)
                    return .dropped(account: account.displayName)
                case .failure(let failure): return .failed(failure)
                }
            case .setPassword(let name, let password):
                let iterations = self.iterations
                let credentials = try await NIOThreadPool.singleton.runIfActive {
                    try Scram.credentials(for: password, iterations: iterations)
                }
                guard try await self.store.setCredentials(credentials, for: NickKey(name).folded) else {
                    return .failed(.noSuchAccount)
                }
                return .passwordChanged(account: name)
            case .info(let name):
                guard let account = try await self.store.account(named: NickKey(name).folded) else {
                    return .failed(.noSuchAccount)
                }
                return .info(account: account.displayName, registeredAt: account.createdAt)
            case .certificate(let name, let change):
                let folded = NickKey(name).folded
                switch change {
                case .add(let fingerprint):
                    return try await self.store.addCertificate(fingerprint, to: folded)
                        ? .certificateAdded(account: name, fingerprint: fingerprint) : .failed(.certificateInUse)
                case .remove(let fingerprint):
                    return try await self.store.removeCertificate(fingerprint, from: folded)
                        ? .certificateRemoved(account: name, fingerprint: fingerprint) : .failed(.noSuchCertificate)
                case .list:
                    return .certificates(account: name, fingerprints: try await self.store.certificates(of: folded))
                }
            }
        } catch {
            return .failed(.unavailable("\(error)"))
        }
    }

    private enum LoginResult {
        case success(Account)
        case failure(AccountFailure)
    }

    /// Checks a password, within the limits on failures. An unknown account is answered as a wrong password is.
    private func login(_ name: String, password: String, address: String, now: Int64) async throws -> LoginResult {
        let folded = NickKey(name).folded
        if let wait = self.reserveAttempt(account: folded, address: address, now: now) {
            return .failure(.rateLimited(seconds: wait))
        }
        guard let account = try await self.store.account(named: folded) else { return .failure(.wrongPassword) }
        let credentials = account.credentials
        let matches = try await NIOThreadPool.singleton.runIfActive { Scram.verify(password, against: credentials) }
        guard matches else { return .failure(.wrongPassword) }
        self.attemptSucceeded(account: folded, address: address, now: now)
        return .success(account)
    }

    private static func attemptKeys(account: String, address: String) -> [(key: String, limit: Int)] {
        [
            ("pair:\(account) \(address)", Self.failuresPerAccountAndAddress),
            ("address:" + address, Self.failuresPerAddress), ("account:" + account, Self.failuresPerAccount),
        ]
    }

    /// Counts an attempt as failed before its password is checked, so guesses in flight count against the limits
    /// (checking first and counting after let parallel guesses through); returns the seconds to wait instead when
    /// a limit is reached, and then nothing is hashed.
    private func reserveAttempt(account: String, address: String, now: Int64) -> Int? {
        self.state.withLockedValue { state in
            var wait: Int64 = 0
            for (key, limit) in Self.attemptKeys(account: account, address: address) {
                let recent = (state.failures[key] ?? []).filter { now - $0 < Self.window }
                state.failures[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first {
                    wait = max(wait, oldest + Self.window - now)
                }
            }
            guard wait == 0 else { return Int((wait + 999) / 1000) }
            for (key, _) in Self.attemptKeys(account: account, address: address) {
                state.failures[key, default: []].append(now)
            }
            return nil
        }
    }

    /// The attempt reserved at `now` succeeded: it is not a failure.
    private func attemptSucceeded(account: String, address: String, now: Int64) {
        self.state.withLockedValue { state in
            for (key, _) in Self.attemptKeys(account: account, address: address) {
                guard let index = state.failures[key]?.lastIndex(of: now) else { continue }
                state.failures[key]?.remove(at: index)
                if state.failures[key]?.isEmpty == true { state.failures[key] = nil }
            }
        }
    }

    /// Reads or moves a read marker; returns it as stored.
    func readMarker(_ request: ReadMarkerRequest) async throws -> Int64? {
        if let time = request.set {
            return try await self.store.setReadMarker(account: request.account, target: request.target, time: time)
        }
        return try await self.store.readMarker(account: request.account, target: request.target)
    }

    // MARK: SASL

    func sasl(
        _ id: SessionID,
        mechanism: String,
        response: [UInt8],
        address: String,
        certificate: String?,
        now: Int64
    ) async -> SASLStep {
        do {
            switch mechanism {
            case "PLAIN":
                // authzid NUL authcid NUL password; an authzid, if any, must name the same account.
                let fields = response.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3, let user = String(validating: fields[1], as: UTF8.self),
                    let password = String(validating: fields[2], as: UTF8.self),
                    fields[0].isEmpty || Array(fields[0]) == Array(fields[1])
                else { return .failure("malformed PLAIN response") }
                switch try await self.login(user, password: password, address: address, now: now) {
                case .success(let account): return .success(account: account.displayName)
                case .failure(let failure): return .failure(Self.describe(failure))
                }
            case "SCRAM-SHA-256":
                return try await self.scram(id, response: response, address: address, now: now)
            case "EXTERNAL":
                // The TLS handshake already proved the certificate; the response may only name the same account.
                guard let certificate else { return .failure("EXTERNAL needs a TLS client certificate") }
                guard let account = try await self.store.account(withCertificate: certificate) else {
                    return .failure("no account has this certificate (NickServ CERT ADD registers it)")
                }
                let authzid = String(decoding: response, as: UTF8.self)
                guard authzid.isEmpty || NickKey(authzid).folded == account.name else {
                    return .failure("the certificate belongs to another account")
                }
                return .success(account: account.displayName)
            default:
                return .failure("unknown mechanism")
            }
        } catch {
            self.reset(id)
            return .failure("accounts are unavailable")
        }
    }

    private func scram(_ id: SessionID, response: [UInt8], address: String, now: Int64) async throws -> SASLStep {
        let text = String(decoding: response, as: UTF8.self)
        let (exchange, verified) = self.state.withLockedValue { ($0.exchanges[id], $0.verified[id]) }
        if let verified {
            self.reset(id)
            return response.isEmpty ? .success(account: verified) : .failure("unexpected data after the proof")
        }
        guard let exchange else {
            guard let first = SCRAMMessage.clientFirst(text) else {
                return .failure("malformed client-first message (channel binding is not offered)")
            }
            let folded = NickKey(first.user).folded
            if let wait = self.reserveAttempt(account: folded, address: address, now: now) {
                return .failure(Self.describe(.rateLimited(seconds: wait)))
            }
            // An unknown account goes through the same exchange with credentials no password matches (its salt the
            // same each time), so the server's first answer does not tell whether the account exists.
            let account = try await self.store.account(named: folded) ?? self.decoy(folded)
            let started = Scram.Exchange(
                account: account,
                gs2Header: first.gs2Header,
                clientFirstBare: first.bare,
                clientNonce: first.nonce
            )
            self.state.withLockedValue {
                $0.exchanges[id] = started
                $0.scramStarted[id] = now
            }
            return .challenge(Array(started.serverFirst.utf8))
        }
        guard let serverFinal = exchange.finish(text) else {
            self.reset(id)
            return .failure(Self.describe(.wrongPassword))
        }
        let started = self.state.withLockedValue { state in
            state.exchanges[id] = nil
            state.verified[id] = exchange.account.displayName
            return state.scramStarted.removeValue(forKey: id)
        }
        if let started { self.attemptSucceeded(account: exchange.account.name, address: address, now: started) }
        return .challenge(Array(serverFinal.utf8))
    }

    /// Credentials for an account that does not exist: a salt derived from the name with this process's secret,
    /// keys that match no password.
    private func decoy(_ folded: String) -> Account {
        let salt = Array(
            HMAC<SHA256>.authenticationCode(for: Array(folded.utf8), using: SymmetricKey(data: self.decoyKey)).prefix(
                16
            )
        )
        let credentials = Account.Credentials(
            salt: salt,
            iterations: self.iterations,
            storedKey: (0..<32).map { _ in UInt8.random(in: 0...255) },
            serverKey: (0..<32).map { _ in UInt8.random(in: 0...255) }
        )
        return Account(name: folded, displayName: folded, createdAt: 0, credentials: credentials)
    }

    func reset(_ id: SessionID) {
        self.state.withLockedValue { state in
            state.exchanges[id] = nil
            state.verified[id] = nil
            state.scramStarted[id] = nil
        }
    }

    static func describe(_ failure: AccountFailure) -> String {
        switch failure {
        case .exists: "the account exists"
        // The same words for both, so a failed login does not tell whether the account exists.
        case .noSuchAccount: "wrong account name or password"
        case .wrongPassword: "wrong account name or password"
        case .rateLimited(let seconds): "too many failed attempts; try again in \(seconds) s"
        case .unavailable(let reason): "accounts unavailable: \(reason)"
        case .certificateInUse: "the certificate already logs in to an account"
        case .noSuchCertificate: "no such certificate"
        }
    }
}
