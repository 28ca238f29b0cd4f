import Crypto

/// The host others see instead of a client's address: a keyed hash, the same for the same address under one key,
/// and telling nothing about the address without the key. Operators see the real address (WHOIS 338).
struct HostCloak: Sendable {
    private let key: [UInt8]?

    /// - Parameter key: The secret; `nil` turns cloaking off (the address is shown).
    init(key: String?) {
        self.key = key.map { Array($0.utf8) }
    }

    func host(for address: String) -> String {
        guard let key else { return address }
        let digest = Array(
            HMAC<SHA256>.authenticationCode(for: Array(address.utf8), using: SymmetricKey(data: key))
        )
        let kind = address.contains(":") ? "ip6" : "ip"
        return "\(Self.hex(digest[0..<4])).\(Self.hex(digest[4..<8])).\(kind)"
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return out
    }
}
