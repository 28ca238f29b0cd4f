import Crypto
import Foundation

/// One file of the web client, read once at start and served from memory.
public struct WebAsset: Sendable {
    public let contentType: String
    public let body: [UInt8]
    /// A strong validator: the first 16 bytes of the body's SHA-256, so a changed file is never served from a cache.
    public let etag: String

    public init(contentType: String, body: [UInt8], etag: String) {
        self.contentType = contentType
        self.body = body
        self.etag = etag
    }
}

/// The built-in web client (plain HTML, CSS and JavaScript modules, no build step), shipped as package resources.
public struct WebAssets: Sendable {
    public let files: [String: WebAsset]

    public init(files: [String: WebAsset]) {
        self.files = files
    }

    /// The client files bundled with this package, keyed by URL path (`/index.html`, `/app.js`, …).
    public static func bundled() -> WebAssets {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("Client") else {
            return WebAssets(files: [:])
        }
        return Self.load(from: root)
    }

    /// Reads every file under `root` (one level of folders is enough for the client).
    public static func load(from root: URL) -> WebAssets {
        var files: [String: WebAsset] = [:]
        let manager = FileManager.default
        guard let enumerator = manager.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return WebAssets(files: [:])
        }
        let base = root.standardizedFileURL.path
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                let data = try? Data(contentsOf: url)
            else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(base.count))
            let body = [UInt8](data)
            let digest = SHA256.hash(data: body).prefix(16).map { String(format: "%02x", $0) }.joined()
            files[path] = WebAsset(contentType: Self.contentType(of: path), body: body, etag: "\"\(digest)\"")
        }
        return WebAssets(files: files)
    }

    /// The asset for a request path; `/` is the client's page. Query strings are ignored.
    public func asset(for target: String) -> WebAsset? {
        var path = String(target.prefix { $0 != "?" && $0 != "#" })
        if path == "/" { path = "/index.html" }
        return self.files[path]
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json", "webmanifest": "application/json"
        default: "application/octet-stream"
        }
    }
}
