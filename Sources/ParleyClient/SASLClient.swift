import Crypto
import Foundation
import _CryptoExtras

/// The client side of SASL: PLAIN and SCRAM-SHA-256 (RFC 5802, RFC 7677). Feed it each server challenge; it gives
/// the next response (raw bytes; the caller base64-encodes them for `AUTHENTICATE`).
public struct SASLClient: Sendable {
    public enum Mechanism: String, Sendable {
        case plain = "PLAIN"
        case scramSHA256 = "SCRAM-SHA-256"
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case badChallenge(String)
        case serverNotVerified
        public var description: String {
            switch self {
            case .badChallenge(let text): "the server sent an unexpected SASL challenge: \(text)"
            case .serverNotVerified: "the server could not prove it knows the password"
            }
        }
    }

    public let mechanism: Mechanism
    private let user: String
    private let password: String
    private let clientNonce: String
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8]?
    private var step = 0

    public init(mechanism: Mechanism, user: String, password: String) {
        self.mechanism = mechanism
        self.user = user
        self.password = password
        self.clientNonce = Data((0..<18).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The response to the server's next challenge (empty for the first `AUTHENTICATE +`). After the last
    /// challenge, returns an empty response.
    public mutating func respond(to challenge: [UInt8]) throws -> [UInt8] {
        defer { self.step += 1 }
        switch (self.mechanism, self.step) {
        case (.plain, 0):
            return [0] + Array(self.user.utf8) + [0] + Array(self.password.utf8)
        case (.scramSHA256, 0):
            let name = self.user.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
            self.clientFirstBare = "n=\(name),r=\(self.clientNonce)"
            return Array(("n,," + self.clientFirstBare).utf8)
        case (.scramSHA256, 1):
            let serverFirst = String(decoding: challenge, as: UTF8.self)
            var fields: [Character: String] = [:]
            for attribute in serverFirst.split(separator: ",") where attribute.count >= 2 {
                fields[attribute.first!] = String(attribute.dropFirst(2))
            }
            guard let nonce = fields["r"], nonce.hasPrefix(self.clientNonce), let saltText = fields["s"],
                let salt = Data(base64Encoded: saltText), let iterations = fields["i"].flatMap({ Int($0) }),
                iterations >= 1
            else { throw Failure.badChallenge(serverFirst) }
            let salted = try KDF.Insecure.PBKDF2.deriveKey(
                from: Array(self.password.utf8),
                salt: salt,
                using: .sha256,
                outputByteCount: 32,
                unsafeUncheckedRounds: iterations
            ).withUnsafeBytes { Array($0) }
            let clientKey = Self.hmac(salted, "Client Key")
            let storedKey = Array(SHA256.hash(data: clientKey))
            let withoutProof = "c=\(Data("n,,".utf8).base64EncodedString()),r=\(nonce)"
            let authMessage = "\(self.clientFirstBare),\(serverFirst),\(withoutProof)"
            let signature = Self.hmac(storedKey, authMessage)
            let proof = zip(clientKey, signature).map { $0 ^ $1 }
            self.expectedServerSignature = Self.hmac(Self.hmac(salted, "Server Key"), authMessage)
            return Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8)
        case (.scramSHA256, 2):
            let serverFinal = String(decoding: challenge, as: UTF8.self)
            guard serverFinal.hasPrefix("v="), let signature = Data(base64Encoded: String(serverFinal.dropFirst(2))),
                Array(signature) == self.expectedServerSignature
            else { throw Failure.serverNotVerified }
            return []
        default:
            throw Failure.badChallenge(String(decoding: challenge, as: UTF8.self))
        }
    }

    private static func hmac(_ key: [UInt8], _ text: some StringProtocol) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
    }
}
