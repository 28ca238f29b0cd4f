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
        let digest = HMAC<SHA256>.authenticationCode(for: Array(address.utf8), using: SymmetricKey(data: key))
        let kind = address.contains(":") ? "ip6" : "ip"
        // "xxxxxxxx.xxxxxxxx.ip": 8 hex digits, a dot, 8 more, the kind; written into one buffer.
        return digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 18 + kind.utf8.count) { out in
                let digits: StaticString = "0123456789abcdef"
                var index = 0
                for position in 0..<8 {
                    if position == 4 {
                        out[index] = UInt8(ascii: ".")
                        index += 1
                    }
                    let byte = bytes[position]
                    out[index] = digits.utf8Start[Int(byte >> 4)]
                    out[index + 1] = digits.utf8Start[Int(byte & 15)]
                    index += 2
                }
                out[index] = UInt8(ascii: ".")
                index += 1
                for unit in kind.utf8 {
                    out[index] = unit
                    index += 1
                }
                return index
            }
        }
    }
}
