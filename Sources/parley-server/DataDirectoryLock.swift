import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive hold on a data directory for as long as the process lives: two servers on one SQLite file and one
/// cloak key would each think they own the history. The kernel drops the lock when the process ends, however it ends,
/// so a crash never leaves a stale lock behind.
enum DataDirectoryLock {
    /// Takes the lock on `directory/parley.lock` and writes this process's id into it. The descriptor is never closed:
    /// the lock lasts as long as the process.
    /// - Throws: ``StartupError`` naming the holder's pid when another process has it.
    static func take(_ directory: String) throws {
        let path = directory + "/parley.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StartupError.dataDirectory(directory, CocoaError(.fileWriteNoPermission))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw StartupError.dataDirectoryInUse(directory, by: holder?.isEmpty == false ? holder : nil)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
}
