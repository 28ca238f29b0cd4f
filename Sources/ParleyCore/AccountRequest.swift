/// Something about an account that needs the store or a slow password hash: the host carries it out off the event
/// loop and answers with ``ServerState/accountCompleted(_:_:now:into:)``.
public struct AccountRequest: CoreEffect, Equatable {
    public enum Kind: Sendable, Equatable {
        case register(account: String, email: String?, password: String)
        case identify(account: String, password: String)
        case drop(account: String, password: String)
        case setPassword(account: String, password: String)
        case info(account: String)
        /// NickServ CERT: which TLS client certificates (SHA-256 fingerprints) log in to `account`.
        case certificate(account: String, change: CertificateChange)
    }

    public enum CertificateChange: Sendable, Equatable {
        case add(String)
        case remove(String)
        case list
    }

    /// Which command asked: it decides how the answer is worded.
    public enum Via: Sendable, Equatable {
        case nickServ
        /// The IRCv3 `REGISTER` command (`draft/account-registration`).
        case registerCommand
    }

    public var session: SessionID
    public var kind: Kind
    public var via: Via
    /// The client's address, for rate limits.
    public var address: String

    public init(session: SessionID, kind: Kind, via: Via, address: String) {
        self.session = session
        self.kind = kind
        self.via = via
        self.address = address
    }
}

/// How an ``AccountRequest`` ended.
public enum AccountOutcome: Sendable, Equatable {
    /// Created; the session is now logged in to it. The name is as registered.
    case registered(account: String)
    case loggedIn(account: String)
    case dropped(account: String)
    case passwordChanged(account: String)
    case info(account: String, registeredAt: Int64)
    case certificateAdded(account: String, fingerprint: String)
    case certificateRemoved(account: String, fingerprint: String)
    case certificates(account: String, fingerprints: [String])
    case failed(AccountFailure)
}

public enum AccountFailure: Sendable, Equatable {
    case exists
    case noSuchAccount
    case wrongPassword
    /// Too many failed attempts for this account or address; retry after this many seconds.
    case rateLimited(seconds: Int)
    case unavailable(String)
    /// The fingerprint already logs in to an account.
    case certificateInUse
    case noSuchCertificate
}
