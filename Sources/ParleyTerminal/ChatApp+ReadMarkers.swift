import ParleyClient
import ParleyIRC

/// draft/read-marker: what this person has read travels between their devices through the server.
extension ChatApp {
    /// The server says `target` was read up to a point (here or on another device): unread counts follow it.
    func readMarkerArrived(_ target: String) {
        let key = CaseMapping.fold(target)
        guard let time = self.state.readMarkers[key] else { return }
        self.markersSent[key] = max(self.markersSent[key] ?? 0, time)
        self.windows.markRead(target, through: time)
        self.redraw()
    }

    /// Tells the server the window on screen is read up to its newest message, so other devices clear it too. Only
    /// a person at a terminal reads (a script does not), only logged in (the server keeps markers for accounts and
    /// refuses them otherwise), only with the capability, and only when the point moved.
    func sendReadMarker() async {
        guard self.options.interactive, self.state.account != nil,
            self.state.capabilities.contains("draft/read-marker"),
            let name = self.windows.currentName, let newest = self.windows.newestTime(in: self.windows.current)
        else { return }
        let key = CaseMapping.fold(name)
        guard newest > (self.markersSent[key] ?? 0) else { return }
        self.markersSent[key] = newest
        let stamp = "timestamp=" + IRCTimestamp.format(millisecondsSince1970: newest)
        await self.send(IRCMessage(.markread, name, stamp))
    }
}
