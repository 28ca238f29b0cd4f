import ParleyClient
import Testing

@Suite struct StrictTransportTests {
    @Test func theCapabilityValueIsReadAndUnknownKeysAreIgnored() {
        let policy = StrictTransportPolicy(capabilityValue: "port=6697,duration=300,preload")
        #expect(policy == StrictTransportPolicy(port: 6697, duration: 300))
        #expect(StrictTransportPolicy(capabilityValue: "duration=-4,port=99999") == StrictTransportPolicy())
        #expect(StrictTransportPolicy(capabilityValue: "future=1,duration=0").duration == 0)
    }

    @Test func policiesExpireAndDurationZeroLiftsOne() {
        var policies = StrictTransportPolicies()
        policies.record(host: "Chat.Example.org", port: 6697, duration: 100, now: 1000)
        #expect(policies.policy(for: "chat.example.org", now: 1099)?.port == 6697)
        #expect(policies.policy(for: "chat.example.org", now: 1100) == nil)
        policies.record(host: "chat.example.org", port: 6697, duration: 0, now: 1050)
        #expect(policies.policy(for: "chat.example.org", now: 1051) == nil)
    }

    @Test func theFileRoundTripsAndBadLinesAreSkipped() {
        var policies = StrictTransportPolicies()
        policies.record(host: "b.example", port: 7000, duration: 10, now: 5)
        policies.record(host: "a.example", port: 6697, duration: 20, now: 5)
        #expect(policies.text == "a.example 6697 25\nb.example 7000 15\n")
        let read = StrictTransportPolicies(text: policies.text + "garbage line\nc.example notaport 9\n")
        #expect(read == policies)
    }

    @Test func theFileLivesInTheUsersConfigurationDirectory() {
        #expect(StrictTransportPolicies.path(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]) == "/x/parley/sts")
        #expect(StrictTransportPolicies.path(environment: ["HOME": "/h"]) == "/h/.config/parley/sts")
        #expect(StrictTransportPolicies.path(environment: [:]) == nil)
    }
}
