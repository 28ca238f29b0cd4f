import ParleyStore
import SQLiteNIO

extension SQLiteStore {
    public func channelRecords() async throws -> [ChannelRecord] {
        try await self.gate.run {
            let rows = try await self.connection.query(
                "SELECT name, display_name, founder, created_at, topic, topic_setter, topic_time, modes, channel_key, "
                    + "user_limit, bans FROM channels"
            )
            return rows.map { row in
                let bans = row.column("bans")?.string ?? ""
                return ChannelRecord(
                    name: row.column("name")?.string ?? "",
                    displayName: row.column("display_name")?.string ?? "",
                    founder: row.column("founder")?.string ?? "",
                    createdAt: Int64(row.column("created_at")?.integer ?? 0),
                    topic: row.column("topic")?.string,
                    topicSetter: row.column("topic_setter")?.string,
                    topicTime: row.column("topic_time")?.integer.map(Int64.init),
                    modes: row.column("modes")?.string ?? "",
                    key: row.column("channel_key")?.string,
                    limit: row.column("user_limit")?.integer,
                    bans: bans.isEmpty ? [] : bans.split(separator: "\n").map(String.init)
                )
            }
        }
    }

    public func saveChannel(_ record: ChannelRecord) async throws {
        try await self.gate.run {
            func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
            _ = try await self.connection.query(
                "INSERT OR REPLACE INTO channels (name, display_name, founder, created_at, topic, topic_setter, "
                    + "topic_time, modes, channel_key, user_limit, bans) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(record.name), .text(record.displayName), .text(record.founder),
                    .integer(Int(record.createdAt)), text(record.topic), text(record.topicSetter),
                    record.topicTime.map { .integer(Int($0)) } ?? .null, .text(record.modes), text(record.key),
                    record.limit.map { .integer($0) } ?? .null, .text(record.bans.joined(separator: "\n")),
                ]
            )
        }
    }

    public func dropChannel(_ name: String) async throws {
        try await self.gate.run {
            _ = try await self.connection.query("DELETE FROM channels WHERE name = ?", [.text(name)])
        }
    }
}
