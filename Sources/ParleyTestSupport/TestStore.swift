import Foundation
import NIOConcurrencyHelpers
public import ParleyStore
public import ParleyStoreSQLite

/// A real SQLite store in a fresh temporary directory, wrapped so tests can slow its commits, make them fail, and
/// see what had been committed at any moment.
public final class TestStore: ParleyStorage {
    public let directory: URL
    public let store: SQLiteStore
    private let state = NIOLockedValueBox(State())

    private struct State {
        var committed: Set<String> = []
        var delay: Duration = .zero
        var failing = false
    }

    /// Opens a store in a new temporary directory, or in `directory` (to reopen after a restart).
    public static func open(in directory: URL? = nil) async throws -> TestStore {
        let directory =
            directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("parley-test-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("parley.sqlite").path)
        return TestStore(directory: directory, store: store)
    }

    private init(directory: URL, store: SQLiteStore) {
        self.directory = directory
        self.store = store
    }

    /// Each commit waits this long first, so work held for it is observably held.
    public func setCommitDelay(_ delay: Duration) { self.state.withLockedValue { $0.delay = delay } }
    /// Every later commit throws.
    public func setFailing(_ failing: Bool) { self.state.withLockedValue { $0.failing = failing } }
    /// Whether the message with `msgid` has been committed.
    public func isCommitted(_ msgid: String) -> Bool { self.state.withLockedValue { $0.committed.contains(msgid) } }

    public func close() async throws {
        try await self.store.close()
    }

    private func failIfAsked() throws {
        if self.state.withLockedValue({ $0.failing }) { throw StoreError("the disk is full (test)") }
    }

    public func check() async throws {
        if self.state.withLockedValue({ $0.failing }) { throw StoreError("the disk is full (test)") }
        try await self.store.check()
    }

    public func append(_ messages: [StoredMessage]) async throws {
        let (delay, failing) = self.state.withLockedValue { ($0.delay, $0.failing) }
        if delay > .zero { try await Task.sleep(for: delay) }
        if failing { throw StoreError("the disk is full (test)") }
        try await self.store.append(messages)
        self.state.withLockedValue { state in
            for message in messages { state.committed.insert(message.msgid) }
        }
    }

    public func position(of msgid: String, in target: String) async throws -> HistoryPosition? {
        try await self.store.position(of: msgid, in: target)
    }

    public func sender(of msgid: String, in target: String) async throws -> (account: String?, sender: String)? {
        try await self.store.sender(of: msgid, in: target)
    }

    public func delete(_ msgid: String, in targets: [String]) async throws -> Int {
        if self.state.withLockedValue({ $0.failing }) { throw StoreError("the disk is full (test)") }
        return try await self.store.delete(msgid, in: targets)
    }

    public func read(_ range: HistoryRange) async throws -> [StoredMessage] {
        try await self.store.read(range)
    }

    public func targets(
        channels: [String],
        directFor nick: String,
        from: Int64,
        to: Int64,
        limit: Int
    ) async throws -> [(target: String, time: Int64)] {
        try await self.store.targets(channels: channels, directFor: nick, from: from, to: to, limit: limit)
    }

    public func create(_ account: Account) async throws -> Bool { try await self.store.create(account) }
    public func account(named name: String) async throws -> Account? { try await self.store.account(named: name) }
    public func setCredentials(_ credentials: Account.Credentials, for name: String) async throws -> Bool {
        try await self.store.setCredentials(credentials, for: name)
    }
    public func drop(_ name: String) async throws -> Bool { try await self.store.drop(name) }
    public func accountNames() async throws -> [String] { try await self.store.accountNames() }
    public func addCertificate(_ fingerprint: String, to account: String) async throws -> Bool {
        try await self.store.addCertificate(fingerprint, to: account)
    }
    public func removeCertificate(_ fingerprint: String, from account: String) async throws -> Bool {
        try await self.store.removeCertificate(fingerprint, from: account)
    }
    public func certificates(of account: String) async throws -> [String] {
        try await self.store.certificates(of: account)
    }
    public func account(withCertificate fingerprint: String) async throws -> Account? {
        try await self.store.account(withCertificate: fingerprint)
    }
    public func pendingDeliveries(for account: String) async throws -> [StoredMessage] {
        try self.failIfAsked()
        return try await self.store.pendingDeliveries(for: account)
    }

    public func acknowledgeDeliveries(for account: String, through sequence: Int64) async throws {
        try self.failIfAsked()
        try await self.store.acknowledgeDeliveries(for: account, through: sequence)
    }
    public func search(_ query: SearchQuery) async throws -> [StoredMessage] { try await self.store.search(query) }
    public func channelEnds() async throws -> [String: Int64] { try await self.store.channelEnds() }
    public func readMarker(account: String, target: String) async throws -> Int64? {
        try self.failIfAsked()
        return try await self.store.readMarker(account: account, target: target)
    }
    public func setReadMarker(account: String, target: String, time: Int64) async throws -> Int64 {
        try self.failIfAsked()
        return try await self.store.setReadMarker(account: account, target: target, time: time)
    }
    public func channelRecords() async throws -> [ChannelRecord] { try await self.store.channelRecords() }
    public func saveChannel(_ record: ChannelRecord) async throws { try await self.store.saveChannel(record) }
    public func dropChannel(_ name: String) async throws { try await self.store.dropChannel(name) }
    public func prune(olderThan cutoff: Int64?, keepPerTarget: Int?) async throws -> Int {
        try await self.store.prune(olderThan: cutoff, keepPerTarget: keepPerTarget)
    }
}
