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
        ],
        // 2: what nodes sharing the database need. Each target's messages are numbered 1, 2, 3… in commit order
        // (the row of `target_heads` is locked until the commit), so a node that has seen n has seen everything up
        // to n; nodes hold leases, and nicks are claimed for a node, once across the cluster.
        [
            "CREATE TABLE target_heads (target text COLLATE \"C\" PRIMARY KEY, sequence bigint NOT NULL)",
            "ALTER TABLE messages ADD COLUMN target_sequence bigint",
            """
            UPDATE messages SET target_sequence = numbered.position FROM (
                SELECT sequence, row_number() OVER (PARTITION BY target ORDER BY time, sequence) AS position
                FROM messages
            ) AS numbered WHERE messages.sequence = numbered.sequence
            """,
            "INSERT INTO target_heads (target, sequence) SELECT target, max(target_sequence) FROM messages GROUP BY target",
            "ALTER TABLE messages ALTER COLUMN target_sequence SET NOT NULL",
            "CREATE UNIQUE INDEX messages_by_target_sequence ON messages (target, target_sequence)",
            """
            CREATE TABLE cluster_nodes (
                node_id text COLLATE "C" PRIMARY KEY,
                started_at bigint NOT NULL,
                lease_until bigint NOT NULL
            )
            """,
            """
            CREATE TABLE cluster_nicks (
                nick text COLLATE "C" PRIMARY KEY,
                node_id text COLLATE "C" NOT NULL REFERENCES cluster_nodes (node_id) ON DELETE CASCADE,
                display text NOT NULL,
                claimed_at bigint NOT NULL
            )
            """,
            "CREATE INDEX cluster_nicks_by_node ON cluster_nicks (node_id)",
        ],
        // 3: which run of each node is the live one (its message ids start `NODE.RUN-`): a node that starts reads
        // the channel events of the log and keeps only the members whose run is alive.
        [
            "ALTER TABLE cluster_nodes ADD COLUMN run text NOT NULL DEFAULT ''"
        ],
        // 4: private history belongs to people, not nicks (SQLite's version 5): each party of a DM keeps a copy under
        // its own key (`\u{1}a:ACCOUNT\u{1}nick` or `\u{1}c:CONNECTION\u{1}nick`), so a msgid is unique per target.
        // An old DM (keyed by the pair of nicks) whose sender was logged in to the account of its nick becomes that
        // account's copy, keeping its number (each new key takes the rows of one old key, so numbers stay unique);
        // the rest keep their old keys, which no query reads any more.
        [
            "ALTER TABLE messages DROP CONSTRAINT messages_msgid_key",
            "CREATE UNIQUE INDEX messages_by_msgid_target ON messages (msgid, target)",
            // Where each channel's incarnation ended (read at start).
            "CREATE INDEX messages_ended ON messages (target, time) WHERE command = 'ENDED'",
            // Secrets every node must share (the cloak key: a ban on a cloaked host holds on every node).
            "CREATE TABLE cluster_secrets (name text COLLATE \"C\" PRIMARY KEY, value text NOT NULL)",
            // Registered nicks held for their owner after someone who did not log in was renamed away (until, in
            // the database's clock): no node gives one to anyone else meanwhile.
            "CREATE TABLE nick_holds (nick text COLLATE \"C\" PRIMARY KEY, until bigint NOT NULL)",
            """
            UPDATE messages SET target = chr(1) || 'a:' || old.owner || chr(1)
                || CASE WHEN old.first = old.sender THEN old.second ELSE old.first END
            FROM (
                SELECT sequence, lower(account) AS owner, split_part(target, chr(1), 2) AS first,
                    split_part(target, chr(1), 3) AS second, lower(split_part(sender, '!', 1)) AS sender
                FROM messages
                WHERE left(target, 1) = chr(1) AND strpos(target, ':') = 0 AND account IS NOT NULL
            ) AS old
            WHERE messages.sequence = old.sequence AND old.owner = old.sender
                AND (old.first = old.sender OR old.second = old.sender)
            """,
            """
            INSERT INTO target_heads (target, sequence)
            SELECT target, max(target_sequence) FROM messages WHERE left(target, 3) = chr(1) || 'a:' GROUP BY target
            ON CONFLICT (target) DO UPDATE SET sequence = greatest(target_heads.sequence, excluded.sequence)
            """,
        ],
        // 5: where each node's users may reconnect (`HOST PORT`, empty when it gave none): a node that shuts down
        // points its users at the others (RPL_BOUNCE).
        [
            "ALTER TABLE cluster_nodes ADD COLUMN address text NOT NULL DEFAULT ''"
        ],
    ]

    /// The channel of the notifications nodes send each other (``ClusterFeed/event(_:)`` reads them).
    static let messagesChannel = "parley_messages"

    static var latestVersion: Int { self.migrations.count }

    /// Any constant shared by every Parley node: the key of the advisory lock migrations hold.
    static let migrationLock: Int64 = 0x5061_726C_6579  // "Parley"
}
