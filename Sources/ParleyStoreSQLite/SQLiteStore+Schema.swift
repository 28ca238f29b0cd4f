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
        // 5: private history belongs to people, not nicks. Each party of a DM keeps a copy under its own key
        // (`\u{1}a:ACCOUNT\u{1}nick`, or `\u{1}c:CONNECTION\u{1}nick` for a user without an account), so a msgid is
        // unique per target only: the table is rebuilt (SQLite cannot drop a UNIQUE), rows and sequences kept, so
        // the full-text index and the offline deliveries still point at the right rows. Old DMs were keyed by the
        // pair of nicks: one whose sender was logged in to the account of the nick it used becomes that account's
        // copy; the rest keep their old keys, which no query reads any more (retention removes them).
        [
            """
            CREATE TABLE messages_by_owner (
                sequence INTEGER PRIMARY KEY,
                msgid TEXT NOT NULL,
                target TEXT NOT NULL,
                time INTEGER NOT NULL,
                sender TEXT NOT NULL,
                account TEXT,
                command TEXT NOT NULL,
                recipient TEXT NOT NULL,
                text TEXT NOT NULL,
                tags TEXT NOT NULL DEFAULT '',
                UNIQUE (msgid, target)
            )
            """,
            "INSERT INTO messages_by_owner SELECT sequence, msgid, target, time, sender, account, command, recipient, "
                + "text, tags FROM messages",
            "DROP TABLE messages",
            "ALTER TABLE messages_by_owner RENAME TO messages",
            "CREATE INDEX messages_by_target_time ON messages (target, time, sequence)",
            // Where each channel's incarnation ended (read at start).
            "CREATE INDEX messages_ended ON messages (target, time) WHERE command = 'ENDED'",
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
            // first = the nick before the second U+0001, second = the one after; sender = the sender's nick.
            """
            WITH old AS (
                SELECT sequence, lower(account) AS owner,
                    substr(target, 2, instr(substr(target, 2), char(1)) - 1) AS first,
                    substr(target, instr(substr(target, 2), char(1)) + 2) AS second,
                    lower(substr(sender, 1, instr(sender, '!') - 1)) AS sender
                FROM messages
                WHERE substr(target, 1, 1) = char(1) AND instr(target, ':') = 0 AND account IS NOT NULL
            )
            UPDATE messages SET target = (
                SELECT char(1) || 'a:' || old.owner || char(1)
                    || CASE WHEN old.first = old.sender THEN old.second ELSE old.first END
                FROM old WHERE old.sequence = messages.sequence
            )
            WHERE sequence IN (
                SELECT sequence FROM old WHERE owner = sender AND (first = sender OR second = sender)
            )
            """,
        ],
    ]

    static var latestVersion: Int { self.migrations.count }
}
