import Foundation
import ParleyIRC
import Testing

/// README's table of IRCv3 capabilities names every capability Parley knows, so the table cannot fall behind the code.
@Suite struct CapabilityTableTests {
    @Test func readmesTableNamesEveryCapability() throws {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../README.md"),
            encoding: .utf8
        )
        let start = try #require(readme.range(of: "IRCv3 capabilities ("))
        let end = readme[start.upperBound...].range(of: "\n#")?.lowerBound ?? readme.endIndex
        let rows = readme[start.upperBound..<end].split(separator: "\n").filter { $0.hasPrefix("| `") }
        // The first column of each row: the capabilities it describes.
        let listed = Set(
            rows.flatMap { row in
                row.split(separator: "|")[0].split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }
                    .map { String($0.element) }
            }
        )
        let missing = IRCCapabilities.named.map(\.name).filter { !listed.contains($0) }
        #expect(missing.isEmpty, "README's capability table does not name: \(missing)")
    }
}
