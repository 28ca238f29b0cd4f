import Foundation
import NIOConcurrencyHelpers
import NIOCore
public import NIOSSL

/// The server's TLS settings, swappable at run time: a reload (SIGHUP) reads the PEM files again and new connections
/// use the new certificate while established ones keep theirs.
public final class TLSProvider: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: NIOLockedValueBox<NIOSSLContext>

    /// Reads the certificate chain and key.
    /// - Throws: An error naming the file that could not be used.
    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.current = NIOLockedValueBox(try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context new connections get.
    public var context: NIOSSLContext { self.current.withLockedValue { $0 } }

    /// A handler for one new connection. The TLS handshake proves the client holds the key of the certificate it
    /// shows; who it is comes from the fingerprint, not from a CA, so every certificate is accepted here.
    func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: self.context) { _, promise in promise.succeed(.certificateVerified) }
    }

    /// Reads the files again; on failure the previous certificate stays in use.
    public func reload() throws {
        let context = try Self.makeContext(certificatePath: self.certificatePath, keyPath: self.keyPath)
        self.current.withLockedValue { $0 = context }
    }

    private static func makeContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
        if let missing = Self.unusable(certificatePath, "certificate") ?? Self.unusable(keyPath, "private key") {
            throw missing
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw TLSSetupError(message: "cannot read the certificate \(certificatePath): \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError(message: "no certificate in \(certificatePath)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw TLSSetupError(message: "cannot read the private key \(keyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        // TLS 1.2 with forward secrecy and authenticated encryption only: no CBC or SHA-1 suites (TLS 1.3 has only
        // AEAD suites anyway).
        configuration.cipherSuiteValues = Self.tls12Suites
        // Client certificates are asked for but not required; any certificate is accepted (see `makeHandler`):
        // a self-signed one identifies its holder by fingerprint (SASL EXTERNAL, NickServ CERT).
        configuration.certificateVerification = .optionalVerification
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                message: "the private key \(keyPath) does not belong to the certificate \(certificatePath) (\(error))"
            )
        }
    }

    /// Why the file at `path` cannot be read at all, before the TLS library gives a less clear reason.
    private static func unusable(_ path: String, _ what: String) -> TLSSetupError? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return TLSSetupError(message: "the \(what) file \(path) does not exist")
        }
        if isDirectory.boolValue { return TLSSetupError(message: "the \(what) file \(path) is a directory") }
        if !FileManager.default.isReadableFile(atPath: path) {
            return TLSSetupError(message: "the \(what) file \(path) cannot be read by this user")
        }
        return nil
    }
}

extension TLSProvider {
    /// The TLS 1.2 suites offered: ECDHE with AES-GCM or ChaCha20-Poly1305.
    static let tls12Suites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}

/// TLS could not be set up; the message says which file and why.
public struct TLSSetupError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}
