import Foundation
import NIOCore

/// A reason the server cannot start that is not a mistake on the command line: it names what (the address, the
/// path) and what to do, and the process exits with a code of its own (sysexits.h), so scripts and service managers
/// can tell the cases apart. Command-line mistakes stay ArgumentParser's usage errors (64).
struct StartupError: Error, CustomStringConvertible {
    enum Kind: Int32 {
        /// The address or port cannot be listened on (in use, not allowed, not this machine's).
        case unavailable = 69
        /// The data directory cannot be made or written.
        case cannotCreate = 73
        /// The database cannot be opened or read.
        case database = 74
        /// Another parley-server is using the data directory; it may be free later.
        case inUse = 75
        /// A file a setting names (the TLS certificate or key, the MOTD) cannot be used.
        case configuredFile = 78
    }

    var kind: Kind
    var description: String

    /// Why binding `host:port` failed, in words, from the error NIO gave.
    static func listening(on host: String, port: Int, _ error: any Error) -> StartupError {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let reason: String
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE:
            reason =
                "the port is already in use (another parley-server, or another program). Stop it or choose another port with --port"
        case EACCES:
            reason =
                "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE). Use a port from 1024 up with --port"
        case EADDRNOTAVAIL:
            reason = "this machine has no such address. Give one of its addresses, or 0.0.0.0 for all"
        default:
            reason = "\(error)"
        }
        return StartupError(kind: .unavailable, description: "cannot listen on \(address): \(reason).")
    }

    /// Why the data directory at `path` cannot be used.
    static func dataDirectory(_ path: String, _ error: any Error) -> StartupError {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let reason: String
        if exists && !isDirectory.boolValue {
            reason = "it exists and is not a directory. Point --data-dir at a directory (or remove the file)"
        } else if exists {
            reason = "it cannot be written by this user. Fix its permissions or choose another --data-dir"
        } else {
            reason = "it cannot be created (\((error as NSError).localizedDescription)). Choose another --data-dir"
        }
        return StartupError(kind: .cannotCreate, description: "cannot use the data directory \(path): \(reason).")
    }

    /// The data directory is locked by another running server.
    static func dataDirectoryInUse(_ path: String, by pid: String?) -> StartupError {
        let holder = pid.map { "another parley-server (pid \($0))" } ?? "another parley-server"
        return StartupError(
            kind: .inUse,
            description:
                "the data directory \(path) is in use by \(holder). Stop that server, or give this one its own --data-dir."
        )
    }

    /// A TLS certificate or key that cannot be used; the message from the TLS set-up names the file.
    static func tlsFiles(_ message: String) -> StartupError {
        StartupError(
            kind: .configuredFile,
            description:
                "TLS cannot be set up: \(message). Check tls-cert and tls-key (PEM files, the key the certificate's), "
                + "or use --tls-self-signed."
        )
    }
}
