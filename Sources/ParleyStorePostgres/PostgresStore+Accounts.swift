import NIOCore
import ParleyStore
import PostgresNIO

extension PostgresStore {
    public func create(_ account: Account) async throws -> Bool {
        try await self.run("creating account \(account.name)") {
            let credentials = account.credentials
            let rows = try await self.client.query(
                """
                INSERT INTO accounts (name, display_name, email, created_at, scram_salt, scram_iterations,
                    scram_stored_key, scram_server_key)
                VALUES (\(account.name), \(account.displayName), \(account.email), \(account.createdAt),
                    \(ByteBuffer(bytes: credentials.salt)), \(credentials.iterations),
                    \(ByteBuffer(bytes: credentials.storedKey)), \(ByteBuffer(bytes: credentials.serverKey)))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """,
                logger: self.logger
            )
            return try await rows.collect().count == 1
        }
    }

    public func account(named name: String) async throws -> Account? {
        try await self.run("reading account \(name)") {
            let rows = try await self.client.query(
                """
                SELECT name, display_name, email, created_at, scram_salt, scram_iterations, scram_stored_key,
                    scram_server_key FROM accounts WHERE name = \(name)
                """,
                logger: self.logger
            )
            for try await (name, displayName, email, createdAt, salt, iterations, storedKey, serverKey) in rows.decode(
                (String, String, String?, Int64, ByteBuffer, Int, ByteBuffer, ByteBuffer).self
            ) {
                return Account(
                    name: name,
                    displayName: displayName,
                    email: email,
                    createdAt: createdAt,
                    credentials: Account.Credentials(
                        salt: Array(salt.readableBytesView),
                        iterations: iterations,
                        storedKey: Array(storedKey.readableBytesView),
                        serverKey: Array(serverKey.readableBytesView)
                    )
                )
            }
            return nil
        }
    }

    public func setCredentials(_ credentials: Account.Credentials, for name: String) async throws -> Bool {
        try await self.run("changing the password of \(name)") {
            let rows = try await self.client.query(
                """
                UPDATE accounts SET scram_salt = \(ByteBuffer(bytes: credentials.salt)),
                    scram_iterations = \(credentials.iterations),
                    scram_stored_key = \(ByteBuffer(bytes: credentials.storedKey)),
                    scram_server_key = \(ByteBuffer(bytes: credentials.serverKey))
                WHERE name = \(name) RETURNING name
                """,
                logger: self.logger
            )
            return try await rows.collect().count == 1
        }
    }

    public func drop(_ name: String) async throws -> Bool {
        try await self.run("dropping account \(name)") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query(
                    "DELETE FROM account_certificates WHERE account = \(name)",
                    logger: self.logger
                )
                let rows = try await connection.query(
                    "DELETE FROM accounts WHERE name = \(name) RETURNING name",
                    logger: self.logger
                )
                return try await rows.collect().count == 1
            }
        }
    }

    public func accountNames() async throws -> [String] {
        try await self.strings("reading account names", "SELECT name FROM accounts")
    }

    /// The first column of every row, as text.
    func strings(_ what: String, _ query: PostgresQuery) async throws -> [String] {
        try await self.run(what) {
            var names: [String] = []
            for try await name in try await self.client.query(query, logger: self.logger).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    public func addCertificate(_ fingerprint: String, to account: String) async throws -> Bool {
        try await self.run("adding a certificate to \(account)") {
            let rows = try await self.client.query(
                """
                INSERT INTO account_certificates (fingerprint, account) VALUES (\(fingerprint), \(account))
                ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint
                """,
                logger: self.logger
            )
            return try await rows.collect().count == 1
        }
    }

    public func removeCertificate(_ fingerprint: String, from account: String) async throws -> Bool {
        try await self.run("removing a certificate from \(account)") {
            let rows = try await self.client.query(
                """
                DELETE FROM account_certificates WHERE fingerprint = \(fingerprint) AND account = \(account)
                RETURNING fingerprint
                """,
                logger: self.logger
            )
            return try await rows.collect().count == 1
        }
    }

    public func certificates(of account: String) async throws -> [String] {
        try await self.strings(
            "reading the certificates of \(account)",
            "SELECT fingerprint FROM account_certificates WHERE account = \(account) ORDER BY fingerprint"
        )
    }

    public func account(withCertificate fingerprint: String) async throws -> Account? {
        let owners = try await self.strings(
            "finding a certificate's account",
            "SELECT account FROM account_certificates WHERE fingerprint = \(fingerprint)"
        )
        guard let name = owners.first else { return nil }
        return try await self.account(named: name)
    }

    public func readMarker(account: String, target: String) async throws -> Int64? {
        try await self.run("reading a read marker") {
            let rows = try await self.client.query(
                "SELECT time FROM read_markers WHERE account = \(account) AND target = \(target)",
                logger: self.logger
            )
            return try await Self.first(rows.decode(Int64.self))
        }
    }

    public func setReadMarker(account: String, target: String, time: Int64) async throws -> Int64 {
        try await self.run("saving a read marker") {
            let rows = try await self.client.query(
                """
                INSERT INTO read_markers (account, target, time) VALUES (\(account), \(target), \(time))
                ON CONFLICT (account, target) DO UPDATE SET time = greatest(read_markers.time, excluded.time)
                RETURNING time
                """,
                logger: self.logger
            )
            return try await Self.first(rows.decode(Int64.self)) ?? time
        }
    }
}

extension PostgresStore {
    public func channelRecords() async throws -> [ChannelRecord] {
        try await self.run("reading registered channels") {
            let rows = try await self.client.query(
                """
                SELECT name, display_name, founder, created_at, topic, topic_setter, topic_time, modes, channel_key,
                    user_limit, bans FROM channels
                """,
                logger: self.logger
            )
            var records: [ChannelRecord] = []
            for try await (name, displayName, founder, createdAt, topic, setter, topicTime, modes, key, limit, bans)
                in rows.decode(
                    (String, String, String, Int64, String?, String?, Int64?, String, String?, Int?, String).self
                )
            {
                records.append(
                    ChannelRecord(
                        name: name,
                        displayName: displayName,
                        founder: founder,
                        createdAt: createdAt,
                        topic: topic,
                        topicSetter: setter,
                        topicTime: topicTime,
                        modes: modes,
                        key: key,
                        limit: limit,
                        bans: bans.isEmpty ? [] : bans.split(separator: "\n").map(String.init)
                    )
                )
            }
            return records
        }
    }

    public func saveChannel(_ record: ChannelRecord) async throws {
        try await self.run("saving channel \(record.name)") {
            try await self.client.query(
                """
                INSERT INTO channels (name, display_name, founder, created_at, topic, topic_setter, topic_time, modes,
                    channel_key, user_limit, bans)
                VALUES (\(record.name), \(record.displayName), \(record.founder), \(record.createdAt), \(record.topic),
                    \(record.topicSetter), \(record.topicTime), \(record.modes), \(record.key), \(record.limit),
                    \(record.bans.joined(separator: "\n")))
                ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, founder = excluded.founder,
                    created_at = excluded.created_at, topic = excluded.topic, topic_setter = excluded.topic_setter,
                    topic_time = excluded.topic_time, modes = excluded.modes, channel_key = excluded.channel_key,
                    user_limit = excluded.user_limit, bans = excluded.bans
                """,
                logger: self.logger
            )
        }
    }

    public func dropChannel(_ name: String) async throws {
        try await self.run("dropping channel \(name)") {
            try await self.client.query("DELETE FROM channels WHERE name = \(name)", logger: self.logger)
        }
    }
}
