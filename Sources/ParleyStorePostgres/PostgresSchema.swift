/// The PostgreSQL schema, as numbered migrations, the same tables as SQLite's (``SQLiteSchema`` in ParleyStore) in
/// PostgreSQL's types. The version is kept in `parley_schema`; each migration runs in its own transaction under an
/// advisory lock, so several nodes starting at once migrate once.
enum PostgresSchema {
    /// Migration `n` (1-based) brings the schema from version `n - 1` to `n`. Never edit one that has shipped: add
    /// another.
    static let migrations: [[String]] = [
        // 1: everything the SQLite store had at its version 4. Keys compare byte-wise (COLLATE "C"): a DM key starts
        // with U+0001, which a language collation would ignore, and the range scans over them need byte order.
        [
            """
            CREATE TABLE messages (
                sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                msgid text COLLATE "C" NOT NULL UNIQUE,
                target text COLLATE "C" NOT NULL,
                time bigint NOT NULL,
                sender text NOT NULL,
                account text,
                command text NOT NULL,
                recipient text NOT NULL,
                text text NOT NULL,
                tags text NOT NULL DEFAULT '',
                words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
            )
            """,
            "CREATE INDEX messages_by_target_time ON messages (target, time, sequence)",
            "CREATE INDEX messages_words ON messages USING gin (words)",
            """
            CREATE TABLE accounts (
                name text COLLATE "C" PRIMARY KEY,
                display_name text NOT NULL,
                email text,
                created_at bigint NOT NULL,
                scram_salt bytea NOT NULL,
                scram_iterations integer NOT NULL,
                scram_stored_key bytea NOT NULL,
                scram_server_key bytea NOT NULL
            )
            """,
            """
            CREATE TABLE pending_deliveries (
                account text COLLATE "C" NOT NULL,
                sequence bigint NOT NULL REFERENCES messages (sequence) ON DELETE CASCADE,
                PRIMARY KEY (account, sequence)
            )
            """,
            "CREATE INDEX pending_deliveries_by_sequence ON pending_deliveries (sequence)",
            """
            CREATE TABLE read_markers (
                account text COLLATE "C" NOT NULL,
                target text COLLATE "C" NOT NULL,
                time bigint NOT NULL,
                PRIMARY KEY (account, target)
            )
            """,
            """
            CREATE TABLE channels (
                name text COLLATE "C" PRIMARY KEY,
                display_name text NOT NULL,
                founder text NOT NULL,
                created_at bigint NOT NULL,
                topic text,
                topic_setter text,
                topic_time bigint,
                modes text NOT NULL DEFAULT '',
                channel_key text,
                user_limit integer,
                bans text NOT NULL DEFAULT ''
            )
            """,
            """
            CREATE TABLE account_certificates (
                fingerprint text COLLATE "C" PRIMARY KEY,
                account text COLLATE "C" NOT NULL
            )
            """,
            "CREATE INDEX account_certificates_by_account ON account_certificates (account)",
        ]
    ]

    static var latestVersion: Int { self.migrations.count }

    /// Any constant shared by every Parley node: the key of the advisory lock migrations hold.
    static let migrationLock: Int64 = 0x5061_726C_6579  // "Parley"
}
