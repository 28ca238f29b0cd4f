/// A registered account. The password is kept only as SCRAM-SHA-256 credentials (RFC 5802/7677): a salt, an
/// iteration count and the two derived keys, from which neither the password nor a login can be recovered; SASL
/// PLAIN is checked by deriving the stored key again.
public struct Account: Sendable, Equatable {
    /// The case-folded name (the key).
    public var name: String
    /// The name as registered.
    public var displayName: String
    public var email: String?
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var credentials: Credentials

    public struct Credentials: Sendable, Equatable {
        public var salt: [UInt8]
        public var iterations: Int
        public var storedKey: [UInt8]
        public var serverKey: [UInt8]

        public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
            self.salt = salt
            self.iterations = iterations
            self.storedKey = storedKey
            self.serverKey = serverKey
        }
    }

    public init(name: String, displayName: String, email: String? = nil, createdAt: Int64, credentials: Credentials) {
        self.name = name
        self.displayName = displayName
        self.email = email
        self.createdAt = createdAt
        self.credentials = credentials
    }
}

/// What the server needs from storage for accounts.
public protocol AccountStore: Sendable {
    /// Creates `account`. - Returns: `false` when the name is taken.
    func create(_ account: Account) async throws -> Bool
    func account(named name: String) async throws -> Account?
    /// Replaces the credentials. - Returns: `false` when there is no such account.
    func setCredentials(_ credentials: Account.Credentials, for name: String) async throws -> Bool
    /// Deletes the account. - Returns: `false` when there was none.
    func drop(_ name: String) async throws -> Bool
    /// Every account's name (folded), for the server to know at start which nicks are registered.
    func accountNames() async throws -> [String]
    /// The read marker of `account` for `target` (milliseconds since 1970), if any.
    func readMarker(account: String, target: String) async throws -> Int64?
    /// Moves the marker forward (never back); returns the marker as stored afterwards.
    func setReadMarker(account: String, target: String, time: Int64) async throws -> Int64
    /// Lets a TLS client certificate (its SHA-256 fingerprint, lower-case hex) log in to `account`.
    /// - Returns: `false` when the fingerprint already belongs to an account.
    func addCertificate(_ fingerprint: String, to account: String) async throws -> Bool
    /// - Returns: `false` when `account` had no such fingerprint.
    func removeCertificate(_ fingerprint: String, from account: String) async throws -> Bool
    /// The fingerprints that log in to `account`.
    func certificates(of account: String) async throws -> [String]
    /// The account a fingerprint logs in to, if any.
    func account(withCertificate fingerprint: String) async throws -> Account?
}

/// Everything the server keeps: history and accounts in one place.
public protocol ParleyStorage: MessageStore, AccountStore, ChannelStore {}
