import NIOConcurrencyHelpers
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

    /// Reads the files again; on failure the previous certificate stays in use.
    public func reload() throws {
        let context = try Self.makeContext(certificatePath: self.certificatePath, keyPath: self.keyPath)
        self.current.withLockedValue { $0 = context }
    }

    private static func makeContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
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
        // Client certificates are asked for but not required, so a fingerprint can identify a client later.
        configuration.certificateVerification = .none
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                message: "the certificate and key in \(certificatePath), \(keyPath) do not work: \(error)"
            )
        }
    }
}

/// TLS could not be set up; the message says which file and why.
public struct TLSSetupError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}
