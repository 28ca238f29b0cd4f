/// The SQLite schema, as numbered migrations. The database records the number it is at in `PRAGMA user_version`;
/// opening applies the missing ones in order, each in its own transaction, and refuses a database that is newer.
enum SQLiteSchema {
    /// Migration `n` (1-based) brings the schema from version `n - 1` to `n`. Never edit one that has shipped:
    /// add another.
    static let migrations: [[String]] = [
        // 1: messages with full-text search over their text.
        [
            """
            CREATE TABLE messages (
                sequence INTEGER PRIMARY KEY,
                msgid TEXT NOT NULL UNIQUE,
                target TEXT NOT NULL,
                time INTEGER NOT NULL,
                sender TEXT NOT NULL,
                account TEXT,
                command TEXT NOT NULL,
                recipient TEXT NOT NULL,
                text TEXT NOT NULL,
                tags TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX messages_by_target_time ON messages (target, time, sequence)",
            "CREATE VIRTUAL TABLE messages_text USING fts5 (text, content = 'messages', content_rowid = 'sequence')",
            """
            CREATE TRIGGER messages_text_insert AFTER INSERT ON messages BEGIN
                INSERT INTO messages_text (rowid, text) VALUES (new.sequence, new.text);
            END
            """,
            """
            CREATE TRIGGER messages_text_delete AFTER DELETE ON messages BEGIN
                INSERT INTO messages_text (messages_text, rowid, text) VALUES ('delete', old.sequence, old.text);
            END
            """,
        ],
        // 2: accounts, with SCRAM-SHA-256 credentials only.
        [
            """
            CREATE TABLE accounts (
                name TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                email TEXT,
                created_at INTEGER NOT NULL,
                scram_salt BLOB NOT NULL,
                scram_iterations INTEGER NOT NULL,
                scram_stored_key BLOB NOT NULL,
                scram_server_key BLOB NOT NULL
            ) WITHOUT ROWID
            """
        ],
        // 3: offline deliveries, read markers, registered channels.
        [
            """
            CREATE TABLE pending_deliveries (
                account TEXT NOT NULL,
                sequence INTEGER NOT NULL REFERENCES messages (sequence) ON DELETE CASCADE,
                PRIMARY KEY (account, sequence)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE read_markers (
                account TEXT NOT NULL,
                target TEXT NOT NULL,
                time INTEGER NOT NULL,
                PRIMARY KEY (account, target)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE channels (
                name TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                founder TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                topic TEXT,
                topic_setter TEXT,
                topic_time INTEGER,
                modes TEXT NOT NULL DEFAULT '',
                channel_key TEXT,
                user_limit INTEGER,
                bans TEXT NOT NULL DEFAULT ''
            ) WITHOUT ROWID
            """,
        ],
        // 4: TLS client certificate fingerprints that log in to an account (SASL EXTERNAL).
        [
            """
            CREATE TABLE account_certificates (
                fingerprint TEXT PRIMARY KEY,
                account TEXT NOT NULL
            ) WITHOUT ROWID
            """,
            "CREATE INDEX account_certificates_by_account ON account_certificates (account)",
        ],
    ]

    static var latestVersion: Int { self.migrations.count }
}
