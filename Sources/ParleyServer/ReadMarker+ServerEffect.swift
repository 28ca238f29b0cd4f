import Logging
import ParleyCore

/// `MARKREAD` and the marker sent after a JOIN (`draft/read-marker`): read or move the account's marker.
extension ReadMarkerRequest: ServerEffect {
    func run(on host: CoreHost) async -> CoreHost.Resolution {
        guard let accounts = host.accounts else {
            return { core, outbox in core.readMarkerFailed(self, into: &outbox) }
        }
        do {
            let time = try await accounts.readMarker(self)
            return { core, outbox in core.readMarkerLoaded(self, time: time, into: &outbox) }
        } catch {
            host.logger.error("read marker failed", metadata: ["parley.error": "\(error)"])
            return { core, outbox in core.readMarkerFailed(self, into: &outbox) }
        }
    }
}
