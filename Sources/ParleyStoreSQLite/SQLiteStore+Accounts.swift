import NIOCore
import ParleyStore
import SQLiteNIO

extension SQLiteStore {
    public func create(_ account: Account) async throws -> Bool {
        try await self.gate.run {
            let existing = try await self.connection.query(
                "SELECT name FROM accounts WHERE name = ?",
                [.text(account.name)]
            )
            guard existing.isEmpty else { return false }
            _ = try await self.connection.query(
                "INSERT INTO accounts (name, display_name, email, created_at, scram_salt, scram_iterations, "
                    + "scram_stored_key, scram_server_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(account.name), .text(account.displayName), account.email.map { .text($0) } ?? .null,
                    .integer(Int(account.createdAt)), Self.blob(account.credentials.salt),
                    .integer(account.credentials.iterations), Self.blob(account.credentials.storedKey),
                    Self.blob(account.credentials.serverKey),
                ]
            )
            return true
        }
    }

    public func account(named name: String) async throws -> Account? {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT name, display_name, email, created_at, scram_salt, scram_iterations, scram_stored_key, "
                    + "scram_server_key FROM accounts WHERE name = ?",
                [.text(name)]
            )
            guard let row = rows.first else { return nil }
            return Account(
                name: row.column("name")?.string ?? name,
                displayName: row.column("display_name")?.string ?? name,
                email: row.column("email")?.string,
                createdAt: Int64(row.column("created_at")?.integer ?? 0),
                credentials: Account.Credentials(
                    salt: Self.bytes(row.column("scram_salt")),
                    iterations: Int(row.column("scram_iterations")?.integer ?? 0),
                    storedKey: Self.bytes(row.column("scram_stored_key")),
                    serverKey: Self.bytes(row.column("scram_server_key"))
                )
            )
        }
    }

    public func setCredentials(_ credentials: Account.Credentials, for name: String) async throws -> Bool {
        try await self.gate.run {
            guard try await self.account(named: name) != nil else { return false }
            _ = try await self.connection.query(
                "UPDATE accounts SET scram_salt = ?, scram_iterations = ?, scram_stored_key = ?, scram_server_key = ? "
                    + "WHERE name = ?",
                [
                    Self.blob(credentials.salt), .integer(credentials.iterations), Self.blob(credentials.storedKey),
                    Self.blob(credentials.serverKey), .text(name),
                ]
            )
            return true
        }
    }

    public func drop(_ name: String) async throws -> Bool {
        try await self.gate.run {
            guard try await self.account(named: name) != nil else { return false }
            _ = try await self.connection.query("DELETE FROM accounts WHERE name = ?", [.text(name)])
            _ = try await self.connection.query("DELETE FROM account_certificates WHERE account = ?", [.text(name)])
            return true
        }
    }

    public func accountNames() async throws -> [String] {
        try await self.gate.run {
            try await self.connection.query("SELECT name FROM accounts").compactMap { $0.column("name")?.string }
        }
    }

    public func addCertificate(_ fingerprint: String, to account: String) async throws -> Bool {
        try await self.gate.run {
            let existing = try await self.connection.query(
                "SELECT account FROM account_certificates WHERE fingerprint = ?",
                [.text(fingerprint)]
            )
            guard existing.isEmpty else { return false }
            _ = try await self.connection.query(
                "INSERT INTO account_certificates (fingerprint, account) VALUES (?, ?)",
                [.text(fingerprint), .text(account)]
            )
            return true
        }
    }

    public func removeCertificate(_ fingerprint: String, from account: String) async throws -> Bool {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "DELETE FROM account_certificates WHERE fingerprint = ? AND account = ? RETURNING fingerprint",
                [.text(fingerprint), .text(account)]
            )
            return !rows.isEmpty
        }
    }

    public func certificates(of account: String) async throws -> [String] {
        try await self.gate.run {
            try await self.connection.query(
                "SELECT fingerprint FROM account_certificates WHERE account = ? ORDER BY fingerprint",
                [.text(account)]
            ).compactMap { $0.column("fingerprint")?.string }
        }
    }

    public func account(withCertificate fingerprint: String) async throws -> Account? {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT account FROM account_certificates WHERE fingerprint = ?",
                [.text(fingerprint)]
            )
            guard let name = rows.first?.column("account")?.string else { return nil }
            return try await self.account(named: name)
        }
    }

    private static func blob(_ bytes: [UInt8]) -> SQLiteData {
        .blob(ByteBuffer(bytes: bytes))
    }

    private static func bytes(_ data: SQLiteData?) -> [UInt8] {
        guard case .blob(let buffer)? = data else { return [] }
        return Array(buffer.readableBytesView)
    }
}
