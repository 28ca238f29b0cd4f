import NIOCore
import ParleyServer
import Testing

@testable import ParleyServer

/// The first-bytes decision and the listener syntax, as plain values.
@Suite struct SniffingTests {
    static func route(
        _ text: String,
        tls: Bool = true,
        http: Bool = true,
        timedOut: Bool = false
    )
        -> ProtocolSniffer.Route?
    {
        ProtocolSniffer.route(for: ByteBuffer(string: text).readableBytesView, tls: tls, http: http, timedOut: timedOut)
    }

    @Test func decidesOnTheFirstByteWheneverItCan() {
        #expect(Self.route("\u{16}\u{03}\u{01}") == .tls)
        #expect(Self.route("\u{16}", tls: false) == .irc)
        #expect(Self.route("N") == .irc)
        #expect(Self.route("CAP LS 302") == .irc)
        #expect(Self.route("GET / HTTP/1.1") == .http)
        #expect(Self.route("GET / HTTP/1.1", http: false) == .irc)
        #expect(Self.route("OPTIONS * HTTP/1.1") == .http)
    }

    @Test func aPrefixOfAMethodWaitsButNotForever() {
        // One byte at a time: P could start POST or PASS.
        #expect(Self.route("P") == nil)
        #expect(Self.route("PA") == nil)
        #expect(Self.route("PAS") == .irc)
        #expect(Self.route("PO") == nil)
        #expect(Self.route("POST ") == .http)
        #expect(Self.route("G", timedOut: true) == .irc)
        #expect(Self.route("") == nil)
        #expect(Self.route("", timedOut: true) == .irc)
        // A method name without the space is not a request line yet; "GETX" is not one at all.
        #expect(Self.route("GET") == nil)
        #expect(Self.route("GETX") == .irc)
    }

    @Test func listenerSyntax() {
        #expect(ServerConfiguration.Listener("6667/plain") == .init(port: 6667, mode: .plain))
        #expect(ServerConfiguration.Listener("127.0.0.1:6697/tls") == .init(host: "127.0.0.1", port: 6697, mode: .tls))
        #expect(ServerConfiguration.Listener("[::1]:7000") == .init(host: "::1", port: 7000, mode: .any))
        #expect(ServerConfiguration.Listener("6667/ssl") == nil)
        #expect(ServerConfiguration.Listener("99999") == nil)
        #expect(ServerConfiguration.Listener(":6667") == nil)
    }
}
