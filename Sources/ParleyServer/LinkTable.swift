import ParleyCore

/// The host's map from session ids to links: an array indexed by slot instead of a hashed dictionary, because fan-out
/// looks up every recipient of every message (measured: SipHash lookups were a tenth of the server's time).
///
/// A ``SessionID`` is the slot in its low 32 bits and the slot's generation in its high 32 bits, so ids stay unique
/// for the server's life (a slot is reused only with a new generation) and a stale id never finds a newer link.
struct LinkTable {
    private var slots: ContiguousArray<SessionLink?> = []
    private var generations: ContiguousArray<UInt32> = []
    private var free: [Int] = []
    private(set) var count = 0

    /// A fresh id for a connection about to be inserted.
    mutating func makeID() -> SessionID {
        let slot: Int
        if let reused = self.free.popLast() {
            slot = reused
        } else {
            slot = self.slots.count
            self.slots.append(nil)
            self.generations.append(0)
        }
        self.generations[slot] &+= 1
        return SessionID(UInt64(self.generations[slot]) << 32 | UInt64(slot))
    }

    mutating func insert(_ link: SessionLink) {
        self.slots[Self.slot(of: link.id)] = link
        self.count += 1
    }

    subscript(id: SessionID) -> SessionLink? {
        let slot = Self.slot(of: id)
        guard slot < self.slots.count, let link = self.slots[slot], link.id == id else { return nil }
        return link
    }

    @discardableResult
    mutating func remove(_ id: SessionID) -> SessionLink? {
        guard let link = self[id] else { return nil }
        let slot = Self.slot(of: id)
        self.slots[slot] = nil
        self.free.append(slot)
        self.count -= 1
        return link
    }

    var ids: [SessionID] { self.slots.compactMap { $0?.id } }

    private static func slot(of id: SessionID) -> Int { Int(truncatingIfNeeded: id.rawValue & 0xFFFF_FFFF) }
}
