import ParleyClient
import ParleyIRC

/// The windows of the chat client: one per channel or query, in the order they were opened, each with its lines
/// and unread count. Lines for a window that is not shown are kept and counted.
struct ChatWindows {
    struct Window {
        var name: String
        var lines: [ChatLine] = []
        var unread = 0
        var highlighted = false
        var isChannel: Bool { IRCName.isChannel(self.name) }
    }

    private(set) var windows: [Window] = []
    private(set) var current = 0
    let keep: Int

    init(keep: Int = 1000) {
        self.keep = keep
    }

    var currentWindow: Window? { self.windows.indices.contains(self.current) ? self.windows[self.current] : nil }
    var currentName: String? { self.currentWindow?.name }

    func index(of name: String) -> Int? {
        let key = CaseMapping.fold(name)
        return self.windows.firstIndex { CaseMapping.fold($0.name) == key }
    }

    /// Opens `name` if it is not open yet. - Returns: its index.
    @discardableResult
    mutating func open(_ name: String) -> Int {
        if let index = self.index(of: name) { return index }
        self.windows.append(Window(name: name))
        if self.windows.count == 1 { self.current = 0 }
        return self.windows.count - 1
    }

    mutating func close(_ name: String) {
        guard let index = self.index(of: name) else { return }
        self.windows.remove(at: index)
        if self.current >= index && self.current > 0 { self.current -= 1 }
    }

    mutating func rename(_ old: String, to new: String) {
        guard let index = self.index(of: old) else { return }
        self.windows[index].name = new
    }

    /// Shows window `index` and marks it read.
    mutating func select(_ index: Int) {
        guard self.windows.indices.contains(index) else { return }
        self.current = index
        self.windows[index].unread = 0
        self.windows[index].highlighted = false
    }

    /// The read marker for `name` moved to `time` (this person read it, here or on another device): only lines after
    /// it are unread.
    mutating func markRead(_ name: String, through time: Int64) {
        guard let index = self.index(of: name) else { return }
        let unread = self.windows[index].lines.filter { $0.time > time && Self.countsAsUnread($0) }
        self.windows[index].unread = unread.count
        self.windows[index].highlighted = unread.contains(where: \.mentionsMe)
    }

    /// The server time of the newest message in window `index`, if any (client notices carry local times).
    func newestTime(in index: Int) -> Int64? {
        guard self.windows.indices.contains(index) else { return nil }
        return self.windows[index].lines.last(where: { [.message, .action, .notice].contains($0.kind) })?.time
    }

    /// What this user said (from another device, or a DM it sent) and what history replays is not news to it.
    private static func countsAsUnread(_ line: ChatLine) -> Bool {
        line.kind != .event && !line.isOwn && !line.isHistory
    }

    /// Stores `line` in its window (the current one when it names none, or when its window is not open and
    /// `openMissing` is false). - Returns: whether the line is in the window on screen.
    mutating func add(_ line: ChatLine, openMissing: Bool) -> Bool {
        var target = self.current
        if let name = line.window {
            if let index = self.index(of: name) {
                target = index
            } else if openMissing {
                target = self.open(name)
            }
        }
        guard self.windows.indices.contains(target) else { return true }
        self.windows[target].lines.append(line)
        if self.windows[target].lines.count > self.keep {
            self.windows[target].lines.removeFirst(self.windows[target].lines.count - self.keep)
        }
        if target == self.current { return true }
        if Self.countsAsUnread(line) {
            self.windows[target].unread += 1
            if line.mentionsMe { self.windows[target].highlighted = true }
        }
        return false
    }
}
