import Testing

@testable import ParleyServer

/// Cloaks must not change between versions: bans are set on them. The expected values are HMAC-SHA256 computed
/// independently (Python's `hmac`), the first four bytes, a dot, the next four.
@Suite struct HostCloakTests {
    let cloak = HostCloak(key: "0123456789abcdef")

    @Test func anIPv4AddressGetsItsKeyedHash() {
        #expect(self.cloak.host(for: "127.0.0.1") == "74f62cbb.4502f682.ip")
    }

    @Test func anIPv6AddressIsMarkedAsSuch() {
        #expect(self.cloak.host(for: "2001:db8::1") == "875707cf.e2bc92e6.ip6")
    }

    @Test func withoutAKeyTheAddressIsShown() {
        #expect(HostCloak(key: nil).host(for: "192.0.2.7") == "192.0.2.7")
    }
}
