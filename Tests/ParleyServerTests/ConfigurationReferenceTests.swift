import Configuration
import Foundation
import Logging
import ParleyServer
import Testing

/// The reference (`ServerConfiguration.reference`) is what the reader reads: every key listed there is read, with
/// the range it states; README's table is printed from it (checked on the binary in ServerStartupTests).
@Suite struct ConfigurationReferenceTests {
    @Test func everyTypedKeyInTheReferenceIsReadAndRejectsNonsenseNamingItself() throws {
        var checked = 0
        for key in ServerConfiguration.reference {
            switch key.kind {
            case .whole, .number, .onOff: break
            case .text, .secret, .path, .list: continue
            }
            checked += 1
            let error = #expect(throws: ConfigurationError.self, "\(key.name) took 'nonsense'") {
                try ServerConfiguration(config: ConfigurationTests.reader([key.name: "nonsense"]))
            }
            #expect(error?.key == key.name)
        }
        #expect(checked >= 25)
    }

    @Test func theStatedRangeIsTheOneEnforced() throws {
        for key in ServerConfiguration.reference {
            guard case .whole(let range, _) = key.kind else { continue }
            #expect(throws: Never.self, "\(key.name) at its lower bound") {
                _ = try ServerConfiguration(config: ConfigurationTests.reader([key.name: "\(range.lowerBound)"]))
            }
            #expect(throws: ConfigurationError.self, "\(key.name) past its upper bound") {
                _ = try ServerConfiguration(config: ConfigurationTests.reader([key.name: "\(range.upperBound + 1)"]))
            }
        }
    }

    @Test func defaultsShownAreTheDefaultsUsed() throws {
        let configuration = try ServerConfiguration(config: ConfigurationTests.reader([:]))
        let shown = Dictionary(uniqueKeysWithValues: ServerConfiguration.reference.map { ($0.name, $0.defaultValue) })
        #expect(shown["port"] == "\(configuration.port)")
        #expect(shown["sendq"] == "\(configuration.sendQ)")
        #expect(shown["ping-interval"] == "120")
        #expect(shown["history"] == (configuration.history ? "on" : "off"))
        #expect(ServerConfiguration.reference.count == Set(shown.keys).count, "a key is listed twice")
    }

    @Test func theTableHasOneRowPerKeyWithItsEnvironmentVariable() {
        let table = ServerConfiguration.referenceTable()
        let rows = table.split(separator: "\n").dropFirst(2)
        #expect(rows.count == ServerConfiguration.reference.count)
        #expect(table.contains("| `flood-control` | `--flood-control` | `PARLEY_FLOOD_CONTROL` | `on`/`off` | `on` |"))
        #expect(table.contains("| `cluster-lease` | — | `PARLEY_CLUSTER_LEASE` | 3–600 s | `15` |"))
    }

    @Test func jsonLogLinesAreOneObjectEachWithTheEventsFields() throws {
        let lines = LockedLines()
        var handler = JSONLogHandler(label: "parley.test") { lines.append($0) }
        handler.logLevel = .debug
        handler[metadataKey: "node"] = "a"
        let logger = Logger(label: "parley.test", factory: { _ in handler })
        logger.warning("disk \"full\"\nsoon", metadata: ["path": "/var/lib/parley"])
        logger.trace("below the level")
        let written = lines.all
        try #require(written.count == 1)
        #expect(written[0].last == UInt8(ascii: "\n"))
        #expect(!written[0].dropLast().contains(UInt8(ascii: "\n")))
        let object = try #require(try JSONSerialization.jsonObject(with: written[0]) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "parley.test")
        #expect(object["message"] as? String == "disk \"full\"\nsoon")
        #expect((object["metadata"] as? [String: String]) == ["node": "a", "path": "/var/lib/parley"])
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
    }
}

private final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [Data] = []
    func append(_ line: Data) { self.lock.withLock { self.lines.append(line) } }
    var all: [Data] { self.lock.withLock { self.lines } }
}
