import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate the server makes for itself (`--tls-self-signed`), kept in the data directory so its fingerprint
/// stays the same across restarts and clients can pin it.
public enum SelfSignedCertificate {
    /// The files and the SHA-256 fingerprint of the certificate.
    public struct Files: Sendable {
        public var certificatePath: String
        public var keyPath: String
        public var fingerprint: String
    }

    /// Returns the certificate in `directory`, making one for `hostName` first if there is none.
    public static func ensure(in directory: String, hostName: String) throws -> Files {
        let certificatePath = directory + "/tls-cert.pem"
        let keyPath = directory + "/tls-key.pem"
        let manager = FileManager.default
        if !manager.fileExists(atPath: certificatePath) || !manager.fileExists(atPath: keyPath) {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName(hostName) }
            let now = Date()
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    // No KeyUsage: BoringSSL then refuses the certificate as its own issuer (no keyCertSign).
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(Self.alternativeNames(for: hostName))
                },
                issuerPrivateKey: .init(key)
            )
            let pem = try certificate.serializeAsPEM().pemString
            // Created readable by the owner only: never a moment when others could read the key.
            guard
                manager.createFile(
                    atPath: keyPath,
                    contents: Data(key.pemRepresentation.utf8),
                    attributes: [.posixPermissions: 0o600]
                )
            else { throw TLSSetupError(message: "cannot write the private key \(keyPath)") }
            try Data(pem.utf8).write(to: URL(fileURLWithPath: certificatePath))
        }
        return Files(
            certificatePath: certificatePath,
            keyPath: keyPath,
            fingerprint: try Self.fingerprint(ofPEMFile: certificatePath)
        )
    }

    /// SHA-256 of the certificate's DER bytes, as colon-separated hex (what browsers and `openssl x509` show).
    public static func fingerprint(ofPEMFile path: String) throws -> String {
        guard let certificate = try NIOSSLCertificate.fromPEMFile(path).first else {
            throw TLSSetupError(message: "no certificate in \(path)")
        }
        return SHA256.hash(data: try certificate.toDERBytes()).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    private static func alternativeNames(for hostName: String) -> [GeneralName] {
        hostName == "localhost" ? [.dnsName(hostName)] : [.dnsName(hostName), .dnsName("localhost")]
    }
}
