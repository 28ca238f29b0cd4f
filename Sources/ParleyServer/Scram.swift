import Crypto
import Foundation
import ParleyIRC
import ParleyStore
import _CryptoExtras

/// SCRAM-SHA-256 (RFC 5802, RFC 7677): deriving stored credentials from a password, checking a password against
/// them (SASL PLAIN, NickServ), and the server side of the exchange. Slow on purpose (PBKDF2): never on an event loop.
enum Scram {
    /// PBKDF2 rounds for new credentials (RFC 7677 asks for at least 4096).
    static let iterations = 100_000

    static func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8),
            salt: salt,
            using: .sha256,
            outputByteCount: 32,
            unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { Array($0) }
    }

    static func hmac(_ key: [UInt8], _ text: some DataProtocol) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: text, using: SymmetricKey(data: key)))
    }

    /// Fresh credentials for `password` with a random salt.
    static func credentials(for password: String, iterations: Int = Self.iterations) throws -> Account.Credentials {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let salted = try self.saltedPassword(password, salt: salt, iterations: iterations)
        let clientKey = self.hmac(salted, Array("Client Key".utf8))
        return Account.Credentials(
            salt: salt,
            iterations: iterations,
            storedKey: Array(SHA256.hash(data: clientKey)),
            serverKey: self.hmac(salted, Array("Server Key".utf8))
        )
    }

    /// Whether `password` derives `credentials`' stored key; compared in constant time.
    static func verify(_ password: String, against credentials: Account.Credentials) -> Bool {
        guard
            let salted = try? self.saltedPassword(password, salt: credentials.salt, iterations: credentials.iterations)
        else { return false }
        let clientKey = self.hmac(salted, Array("Client Key".utf8))
        return self.constantTimeEqual(Array(SHA256.hash(data: clientKey)), credentials.storedKey)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// The server side of one exchange: client-first → server-first → client-final → server-final.
    struct Exchange {
        let account: Account
        let gs2Header: String
        let clientFirstBare: String
        let serverFirst: String
        let nonce: String

        init(account: Account, gs2Header: String, clientFirstBare: String, clientNonce: String) {
            self.account = account
            self.gs2Header = gs2Header
            self.clientFirstBare = clientFirstBare
            let serverNonce = Data((0..<18).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            self.nonce = clientNonce + serverNonce
            let salt = Data(account.credentials.salt).base64EncodedString()
            self.serverFirst = "r=\(self.nonce),s=\(salt),i=\(account.credentials.iterations)"
        }

        /// The server-final message when the client's proof is right, else `nil`.
        func finish(_ clientFinal: String) -> String? {
            guard let final = SCRAMMessage.clientFinal(clientFinal), let proof = Data(base64Encoded: final.proof),
                final.binding == Data(self.gs2Header.utf8).base64EncodedString(), final.nonce == self.nonce
            else { return nil }
            let withoutProof = final.withoutProof
            let authMessage = Array("\(self.clientFirstBare),\(self.serverFirst),\(withoutProof)".utf8)
            let credentials = self.account.credentials
            let signature = Scram.hmac(credentials.storedKey, authMessage)
            guard proof.count == signature.count else { return nil }
            let clientKey = zip(proof, signature).map { $0 ^ $1 }
            guard Scram.constantTimeEqual(Array(SHA256.hash(data: clientKey)), credentials.storedKey) else {
                return nil
            }
            return "v=" + Data(Scram.hmac(credentials.serverKey, authMessage)).base64EncodedString()
        }
    }
}
