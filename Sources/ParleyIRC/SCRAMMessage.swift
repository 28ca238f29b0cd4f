/// The text of SCRAM messages (RFC 5802) as they arrive in SASL: parsed here, without any cryptography, so the
/// parsing can be tested and fuzzed on its own.
public enum SCRAMMessage {
    /// A client-first message: `gs2-header client-first-bare`.
    public struct ClientFirst: Sendable, Equatable {
        /// `n,,` or `y,,` (channel binding is not offered), kept to check the final message's `c=`.
        public var gs2Header: String
        /// The part the signatures cover.
        public var bare: String
        public var user: String
        public var nonce: String
    }

    /// A client-final message: what the proof covers and the proof.
    public struct ClientFinal: Sendable, Equatable {
        /// Everything before `,p=`.
        public var withoutProof: String
        /// `c=`: base64 of the gs2 header.
        public var binding: String
        public var nonce: String
        /// `p=`: base64 of the proof.
        public var proof: String
    }

    /// `nil` when malformed, asking for channel binding (`p=`), or naming a mandatory extension (`m=`).
    public static func clientFirst(_ message: String) -> ClientFirst? {
        let parts = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y" else { return nil }
        let bare = String(parts[2])
        var user: String?
        var nonce: String?
        for attribute in bare.split(separator: ",", omittingEmptySubsequences: false) {
            if attribute.hasPrefix("n=") {
                guard let name = self.unescapeName(attribute.dropFirst(2)) else { return nil }
                user = name
            } else if attribute.hasPrefix("r=") {
                nonce = String(attribute.dropFirst(2))
            } else if attribute.hasPrefix("m=") {
                return nil
            }
        }
        guard let user, let nonce, !user.isEmpty, !nonce.isEmpty else { return nil }
        return ClientFirst(gs2Header: "\(parts[0]),\(parts[1]),", bare: bare, user: user, nonce: nonce)
    }

    public static func clientFinal(_ message: String) -> ClientFinal? {
        // The proof is the last attribute (base64 has no commas).
        let attributes = message.split(separator: ",", omittingEmptySubsequences: false)
        guard let last = attributes.last, last.hasPrefix("p="), last.count > 2, attributes.count > 1 else { return nil }
        var binding: String?
        var nonce: String?
        for attribute in attributes.dropLast() {
            if attribute.hasPrefix("c=") { binding = String(attribute.dropFirst(2)) }
            if attribute.hasPrefix("r=") { nonce = String(attribute.dropFirst(2)) }
        }
        guard let binding, let nonce else { return nil }
        return ClientFinal(
            withoutProof: attributes.dropLast().joined(separator: ","),
            binding: binding,
            nonce: nonce,
            proof: String(last.dropFirst(2))
        )
    }

    /// `=2C` is a comma and `=3D` an equals sign; any other `=` makes the name invalid (RFC 5802, saslname).
    static func unescapeName(_ text: Substring) -> String? {
        var out = ""
        var rest = text[...]
        while let index = rest.firstIndex(of: "=") {
            out += rest[..<index]
            let code = rest[rest.index(after: index)...].prefix(2)
            switch code {
            case "2C": out += ","
            case "3D": out += "="
            default: return nil
            }
            rest = rest[rest.index(index, offsetBy: 3)...]
        }
        return out + rest
    }
}
