import Crypto
import Foundation
import _CryptoExtras

/// Operator password hashes: `pbkdf2-sha256$ROUNDS$SALT$HASH` (salt and hash in base64).
public enum OperatorPassword {
    static let scheme = "pbkdf2-sha256$"
    public static let defaultRounds = 210_000

    /// Hashes `password` with a fresh random salt.
    public static func hash(_ password: String, rounds: Int = defaultRounds) throws -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8),
            salt: salt,
            using: .sha256,
            outputByteCount: 32,
            unsafeUncheckedRounds: rounds
        )
        let hash = key.withUnsafeBytes { Data($0) }
        return "\(scheme)\(rounds)$\(Data(salt).base64EncodedString())$\(hash.base64EncodedString())"
    }

    /// Whether `password` matches `stored`, compared in constant time. Slow on purpose: never call on an event loop.
    public static func verify(_ password: String, against stored: String) -> Bool {
        guard stored.hasPrefix(scheme) else { return false }
        let parts = stored.dropFirst(scheme.count).split(separator: "$")
        guard parts.count == 3, let rounds = Int(parts[0]), rounds >= 1000,
            let salt = Data(base64Encoded: String(parts[1])), let expected = Data(base64Encoded: String(parts[2])),
            let key = try? KDF.Insecure.PBKDF2.deriveKey(
                from: Array(password.utf8),
                salt: salt,
                using: .sha256,
                outputByteCount: expected.count,
                unsafeUncheckedRounds: rounds
            )
        else { return false }
        let actual = key.withUnsafeBytes { Data($0) }
        guard actual.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(actual, expected) { difference |= a ^ b }
        return difference == 0
    }
}
