import Foundation
import Testing

@testable import ParleyIRC

/// The public ircdocs parser-test vectors (see Vectors/README.md).
@Suite struct VectorTests {
    struct Atoms: Decodable {
        var tags: [String: String?]?
        var source: String?
        var verb: String
        var params: [String]?
    }
    struct SplitCase: Decodable {
        var input: String
        var atoms: Atoms
    }
    struct JoinCase: Decodable {
        var desc: String
        var atoms: Atoms
        var matches: [String]
    }
    struct MaskCase: Decodable {
        var mask: String
        var matches: [String]
        var fails: [String]
    }

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Vectors"))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    @Test func messageSplitVectors() throws {
        let cases = try Self.load("msg-split", as: [SplitCase].self)
        #expect(cases.count > 20)
        for vector in cases {
            let message = try IRCParser.parse(vector.input)
            #expect(message.command.rawValue == vector.atoms.verb.uppercased(), "\(vector.input)")
            #expect(message.source == vector.atoms.source, "\(vector.input)")
            #expect(message.parameters == (vector.atoms.params ?? []), "\(vector.input)")
            var expectedTags: [String: String] = [:]
            for (key, value) in vector.atoms.tags ?? [:] { expectedTags[key] = value ?? "" }
            let tags = Dictionary(message.tags.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
            #expect(tags == expectedTags, "\(vector.input)")
        }
    }

    @Test func messageJoinVectors() throws {
        let cases = try Self.load("msg-join", as: [JoinCase].self)
        #expect(cases.count > 10)
        for vector in cases {
            let tags = (vector.atoms.tags ?? [:]).sorted { $0.key < $1.key }.map { IRCTag($0.key, $0.value ?? "") }
            let message = IRCMessage(
                tags: tags,
                source: vector.atoms.source,
                command: IRCCommand(rawValue: vector.atoms.verb),
                parameters: vector.atoms.params ?? []
            )
            // The vectors list every acceptable form; verbs are compared without case.
            let line = message.line
            #expect(vector.matches.contains { $0.uppercased() == line.uppercased() }, "\(vector.desc): \(line)")
        }
    }

    @Test func maskMatchVectors() throws {
        let cases = try Self.load("mask-match", as: [MaskCase].self)
        #expect(!cases.isEmpty)
        for vector in cases {
            for text in vector.matches { #expect(IRCWildcard.matches(vector.mask, text), "\(vector.mask) ~ \(text)") }
            for text in vector.fails { #expect(!IRCWildcard.matches(vector.mask, text), "\(vector.mask) !~ \(text)") }
        }
    }
}
