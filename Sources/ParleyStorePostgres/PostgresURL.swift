import Foundation
import Logging
import NIOPosix
import NIOSSL
import ParleyStore
import PostgresNIO

/// A `postgres://` (or `postgresql://`) connection URL as libpq reads it, for the settings Parley uses:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full][&host=/socket/dir]`.
public struct PostgresURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// A directory holding PostgreSQL's Unix socket (`?host=/run/postgresql`), used instead of TCP when set.
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or nothing, without checking the certificate (as libpq's `require`).
        case require
        /// TLS with the certificate checked against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    /// - Throws: ``StoreError`` naming what is wrong with the URL (never echoing its password).
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError("the database URL must look like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { _, last in last }
        )
        for name in query.keys where !["sslmode", "host"].contains(name) {
            throw StoreError("unknown database URL parameter '\(name)' (known: sslmode, host)")
        }
        if let mode = query["sslmode"] {
            guard let parsed = SSLMode(rawValue: mode) else {
                throw StoreError(
                    "unknown sslmode '\(mode)' in the database URL (\(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            self.sslMode = parsed
        } else {
            self.sslMode = .prefer
        }
        if let directory = query["host"], directory.hasPrefix("/") {
            self.socketDirectory = directory
        }
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        self.port = components.port ?? 5432
        guard (1...65535).contains(self.port) else { throw StoreError("the database URL's port is out of range") }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError("the database URL names no user (postgres://USER@HOST/DATABASE)")
        }
        self.username = user
        self.password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else {
            throw StoreError("the database URL names no database (postgres://USER@HOST/DATABASE)")
        }
        self.database = path
    }

    /// The URL without its password, for messages and logs.
    public var redacted: String {
        let place = self.socketDirectory.map { "?host=\($0)" } ?? ""
        return "postgres://\(self.username)@\(self.host):\(self.port)/\(self.database)\(place)"
    }

    /// The same server and credentials, another database (tests make one per case).
    public func database(_ name: String) -> PostgresURL {
        var copy = self
        copy.database = name
        return copy
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let directory = self.socketDirectory {
            configuration = .init(
                unixSocketPath: "\(directory)/.s.PGSQL.\(self.port)",
                username: self.username,
                password: self.password,
                database: self.database
            )
        } else {
            configuration = .init(
                host: self.host,
                port: self.port,
                username: self.username,
                password: self.password,
                database: self.database,
                tls: self.clientTLS
            )
        }
        return configuration
    }

    /// One connection of its own (outside any pool): for checks, administration and LISTEN.
    public func connect(id: Int, logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: try self.connectionConfiguration(),
            id: id,
            logger: logger
        ).get()
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let directory = self.socketDirectory {
            return .init(
                unixSocketPath: "\(directory)/.s.PGSQL.\(self.port)",
                username: self.username,
                password: self.password,
                database: self.database
            )
        }
        return .init(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: try self.connectionTLS()
        )
    }

    private var tlsConfiguration: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if self.sslMode != .verifyFull { tls.certificateVerification = .none }
        return tls
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch self.sslMode {
        case .disable: .disable
        case .prefer: .prefer(self.tlsConfiguration)
        case .require, .verifyFull: .require(self.tlsConfiguration)
        }
    }

    private func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch self.sslMode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: self.tlsConfiguration))
        case .require, .verifyFull: .require(try NIOSSLContext(configuration: self.tlsConfiguration))
        }
    }
}
