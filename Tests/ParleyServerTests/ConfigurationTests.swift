import Configuration
import Foundation
import ParleyCore
import ParleyServer
import ParleyTestSupport
import Testing

@Suite struct ConfigurationTests {
    static func reader(_ values: [String: String]) -> ConfigReader {
        var entries: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in values { entries[AbsoluteConfigKey([key])] = ConfigValue(.string(value), isSecret: false) }
        return ConfigReader(provider: InMemoryProvider(values: entries))
    }

    @Test func defaults() throws {
        let configuration = try ServerConfiguration(config: Self.reader([:]))
        #expect(configuration.port == 1060)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.dataDirectory == "./parley-data")
        #expect(configuration.floodControl)
    }

    @Test func readsValues() throws {
        let configuration = try ServerConfiguration(
            config: Self.reader([
                "port": "6667", "flood-control": "off", "server-name": "chat.example.org", "sendq": "65536",
                "ping-interval": "30", "operators": "root:pbkdf2-sha256$1000$c2FsdA==$aGFzaA==",
            ])
        )
        #expect(configuration.port == 6667)
        #expect(!configuration.floodControl)
        #expect(configuration.serverName == "chat.example.org")
        #expect(configuration.sendQ == 65536)
        #expect(configuration.pingInterval == 30)
        #expect(configuration.operators.map(\.name) == ["root"])
    }

    @Test(arguments: [
        ("port", "http"), ("port", "70000"), ("flood-control", "maybe"), ("sendq", "12"), ("threads", "-1"),
        ("server-name", "has space.example"), ("server-name", "nodot"), ("operators", "root:plaintext"),
        ("ping-timeout", "0"),
    ])
    func invalidValuesNameTheirKey(key: String, value: String) {
        do {
            _ = try ServerConfiguration(config: Self.reader([key: value]))
            Issue.record("accepted \(key)=\(value)")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.description.contains(key))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// The connection password can come from a file, so it never shows in `ps`.
    @Test func thePasswordComesFromAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("parley-pass-\(UUID())").path
        try "open sesame\nignored\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try ServerConfiguration(config: Self.reader(["password-file": path]))
        #expect(configuration.password == "open sesame")
        for values in [["password-file": path, "password": "x"], ["password-file": path + ".missing"]] {
            #expect(throws: ConfigurationError.self) { _ = try ServerConfiguration(config: Self.reader(values)) }
        }
    }

    @Test func flagsOverEnvironmentOverYAML() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "parley-\(UInt64.random(in: 0...UInt64.max)).yaml"
        )
        let yaml = """
            port: 7000
            server-name: from.yaml
            network-name: YamlNet
            flood-control: off
            sendq: 70000
            operators:
              - "root:pbkdf2-sha256$1000$c2FsdA==$aGFzaA=="
              - "ops:pbkdf2-sha256$1000$c2FsdA==$aGFzaA=="
            """
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let reader = try await ServerConfiguration.reader(
            flags: ["port": "6000"],
            environment: ["PARLEY_SERVER_NAME": "from.env", "PARLEY_PING_INTERVAL": "15", "HOME": "/root"],
            file: path.path
        )
        let configuration = try ServerConfiguration(config: reader)
        #expect(configuration.port == 6000)
        #expect(configuration.serverName == "from.env")
        #expect(configuration.networkName == "YamlNet")
        #expect(configuration.pingInterval == 15)
        #expect(!configuration.floodControl)
        #expect(configuration.sendQ == 70000)
        #expect(configuration.operators.map(\.name) == ["root", "ops"])
    }

    @Test func badEnvironmentValueNamesTheKey() async throws {
        let reader = try await ServerConfiguration.reader(flags: [:], environment: ["PARLEY_PORT": "abc"], file: nil)
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(config: reader) }
        do {
            _ = try ServerConfiguration(config: reader)
        } catch let error as ConfigurationError {
            #expect(error.key == "port")
        }
    }

    @Test func webAndTLSKeys() throws {
        let configuration = try ServerConfiguration(
            config: Self.reader([
                "tls-cert": "/etc/parley/cert.pem", "tls-key": "/etc/parley/key.pem",
                "listeners": "6667/plain, 127.0.0.1:6697/tls", "web": "off",
                "websocket-origins": "https://a.example,https://b.example",
            ])
        )
        #expect(configuration.tlsCertificatePath == "/etc/parley/cert.pem")
        #expect(
            configuration.listeners == [
                .init(port: 6667, mode: .plain), .init(host: "127.0.0.1", port: 6697, mode: .tls),
            ]
        )
        #expect(!configuration.web)
        #expect(configuration.websocketOrigins == ["https://a.example", "https://b.example"])
        for (values, key) in [
            (["tls-cert": "/c.pem"], "tls-key"), (["tls-key": "/k.pem"], "tls-cert"),
            (["listeners": "6667/udp"], "listeners"), (["web": "maybe"], "web"),
        ] {
            #expect(throws: ConfigurationError.self) { try ServerConfiguration(config: Self.reader(values)) }
            do {
                _ = try ServerConfiguration(config: Self.reader(values))
            } catch let error as ConfigurationError {
                #expect(error.key == key)
            }
        }
    }

    @Test func clusterAddressIsGivenOrTheListeningAddressWhenItNamesOneMachine() throws {
        #expect(try ServerConfiguration(config: Self.reader([:])).announcedClusterAddress == "", "0.0.0.0 is nowhere")
        let listening = try ServerConfiguration(config: Self.reader(["host": "10.0.0.5", "port": "6667"]))
        #expect(listening.announcedClusterAddress == "10.0.0.5 6667")
        let given = try ServerConfiguration(config: Self.reader(["cluster-address": "[2001:db8::5]:6697"]))
        #expect(given.announcedClusterAddress == "2001:db8::5 6697")
        do {
            _ = try ServerConfiguration(config: Self.reader(["cluster-address": "irc.example.net"]))
            Issue.record("an address without a port was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == "cluster-address")
            #expect(error.message.contains("HOST:PORT"))
        }
    }

    @Test func databaseKey() throws {
        #expect(try ServerConfiguration(config: Self.reader([:])).databaseURL == nil)
        #expect(try ServerConfiguration(config: Self.reader(["database": "sqlite"])).databaseURL == nil)
        let postgres = try ServerConfiguration(config: Self.reader(["database": "postgres://parley@db/chat"]))
        #expect(postgres.databaseURL == "postgres://parley@db/chat")
        do {
            _ = try ServerConfiguration(config: Self.reader(["database": "mysql://parley@db/chat"]))
            Issue.record("a MySQL URL was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == "database")
            #expect(error.message.contains("postgres://"))
        }
    }

    @Test func missingFileIsReported() async {
        do {
            _ = try await ServerConfiguration.reader(flags: [:], environment: [:], file: "/nonexistent/parley.yaml")
            Issue.record("a missing file was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == "config")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
