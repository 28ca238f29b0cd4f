import NIOConcurrencyHelpers
import NIOCore
import ParleyStore
import ParleyWeb

extension ParleyServer {
    /// The web side, with `/metrics` and `/healthz` reading this server.
    func makeWebService() -> WebService {
        WebService(
            assets: WebAssets.bundled(),
            allowedOrigins: self.configuration.websocketOrigins,
            publicHosts: [self.configuration.serverName],
            metricsToken: self.configuration.metricsToken,
            sources: .init(
                metrics: { [self] loop in
                    self.loopCounters(on: loop).map { totals in
                        let sizes = self.host.sizes
                        return self.metrics.render(
                            totals: totals,
                            registeredClients: sizes.clients,
                            channels: sizes.channels
                        )
                    }
                },
                health: { [self] loop in
                    loop.makeFutureWithTask { await self.health() }
                }
            )
        )
    }

    /// Every loop's counters, summed; each loop is read on itself.
    func loopCounters(on loop: any EventLoop) -> EventLoopFuture<LoopCounters> {
        let reads = self.contexts.values.map { context in
            context.eventLoop.submit { context.counters }
        }
        return EventLoopFuture.reduce(LoopCounters(), reads, on: loop, +)
    }

    /// Uptime, connections, and whether the store answers within a second; not ok (503) when it fails or stalls
    /// (a stalled store's check would otherwise hang the probe with it).
    func health() async -> (ok: Bool, json: String) {
        let uptime = (NIODeadline.now() - self.startedAt).nanoseconds / 1_000_000_000
        let sizes = self.host.sizes
        var store = "none"
        var ok = true
        if let database = self.store {
            do {
                try await withDeadline(.seconds(1)) { try await database.check() }
                store = "ok"
            } catch is DeadlineExceeded {
                store = "stalled"
                ok = false
            } catch {
                store = "failing"
                ok = false
            }
        }
        var cluster = ""
        if let relay = self.relay.withLockedValue({ $0 }) {
            let health = relay.health()
            ok = ok && health.ok
            cluster = ",\"cluster\":" + health.json
        }
        let json =
            "{\"status\":\"\(ok ? "ok" : "failing")\",\"uptime_seconds\":\(uptime),"
            + "\"connections\":\(self.limiter.total),\"registered_clients\":\(sizes.clients),"
            + "\"channels\":\(sizes.channels),\"store\":\"\(store)\"\(cluster)}\n"
        return (ok, json)
    }
}
