import ArgumentParser
import Foundation
import ParleyClient
import ParleyTerminal
import ParleyVersion

#if canImport(Glibc)
import Glibc
#endif

/// `parley [HOST[:PORT]] [--nick NAME] …`: the terminal chat client.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Chat on a Parley (or any IRC) server from the terminal.",
        discussion: """
            Without an address it asks for one (default 127.0.0.1:1060); without --nick it asks for a username.
            It joins #lobby (or --channel); every line you type goes to the current channel. quit, /quit or
            Ctrl-D leave; /help lists the commands. When standard input is not a terminal, each input line is
            sent and what arrives is printed as plain lines.
            """,
        version: ParleyVersion.line("parley")
    )

    @Argument(help: "The server: HOST, HOST:PORT or [IPv6]:PORT.")
    var address: String?

    @Option(help: "The port, when the address has none.")
    var port: Int = 1060

    @Option(help: "Your nickname.")
    var nick: String?

    @Option(help: "The channel to join first.")
    var channel: String = "#lobby"

    @Option(help: "The server password (PASS), if the server has one.")
    var password: String?

    @Option(
        help: ArgumentHelp(
            "Log in to this account (SASL) on every connection.",
            discussion: "The password comes from PARLEY_ACCOUNT_PASSWORD, --account-password-file, or is asked for."
        )
    )
    var account: String?

    @Option(
        name: .customLong("account-password-file"),
        help: "A file (readable only by you) whose first line is the account's password."
    )
    var accountPasswordFile: String?

    @Flag(help: "Use TLS and check the server's certificate.")
    var tls = false

    @Flag(help: "Use TLS without checking the server's certificate (only for servers you trust).")
    var tlsInsecure = false

    @Option(
        name: .customLong("tls-ca"),
        help: "Use TLS and trust the certificate(s) in this PEM file, e.g. a server's self-signed tls-cert.pem."
    )
    var tlsCA: String?

    @Flag(help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    func validate() throws {
        guard (1...65535).contains(self.port) else {
            throw ValidationError("--port must be 1…65535, not \(self.port).")
        }
        if let address, ChatEndpoint.parse(address, defaultPort: self.port) == nil {
            throw ValidationError("'\(address)' is not an address: give HOST, HOST:PORT or [IPv6]:PORT.")
        }
        if let file = self.tlsCA, access(file, R_OK) != 0 {
            throw ValidationError("--tls-ca: cannot read '\(file)'.")
        }
        if self.tlsCA != nil && self.tlsInsecure {
            throw ValidationError("--tls-ca and --tls-insecure exclude each other.")
        }
        if self.accountPasswordFile != nil && self.account == nil {
            throw ValidationError("--account-password-file needs --account NAME.")
        }
        guard self.channel.hasPrefix("#") || self.channel.hasPrefix("&") else {
            throw ValidationError("--channel must start with # (e.g. #lobby), not '\(self.channel)'.")
        }
    }

    func run() async throws {
        var options = ChatOptions()
        options.defaultPort = self.port
        options.endpoint = self.address.flatMap { ChatEndpoint.parse($0, defaultPort: self.port) }
        options.tls =
            if let file = self.tlsCA { .trusting(certificateFile: file) } else {
                self.tlsInsecure ? .insecure : (self.tls ? .verified : .off)
            }
        options.nick = self.nick
        options.channel = self.channel
        options.password = self.password
        if let account = self.account {
            options.login = ChatLogin(account: account, password: try self.accountPassword(for: account))
        }
        options.interactive = RawMode.isTerminal(STDIN_FILENO)
        options.colors =
            TerminalStyle.detect(noColorFlag: self.noColor, environment: environment()).colors
            && RawMode.isTerminal(STDOUT_FILENO)
        let status = await ChatApp.run(options)
        if status != 0 { throw ExitCode(status) }
    }

    /// The account's password: never from the command line (other users see it in `ps`).
    private func accountPassword(for account: String) throws -> String {
        if let file = self.accountPasswordFile {
            var status = stat()
            guard stat(file, &status) == 0, let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("--account-password-file: cannot read '\(file)'.")
            }
            guard status.st_mode & 0o077 == 0 else {
                throw ValidationError(
                    "--account-password-file: '\(file)' can be read by others; chmod 600 it first."
                )
            }
            let password = String(text.prefix { $0 != "\n" && $0 != "\r" })
            guard !password.isEmpty else { throw ValidationError("--account-password-file: '\(file)' is empty.") }
            return password
        }
        if let password = self.environment()["PARLEY_ACCOUNT_PASSWORD"], !password.isEmpty { return password }
        guard RawMode.isTerminal(STDIN_FILENO),
            let password = RawMode.readSecretLine(prompt: "Password for \(account): "), !password.isEmpty
        else {
            throw ValidationError(
                "--account \(account) needs a password: set PARLEY_ACCOUNT_PASSWORD or give --account-password-file."
            )
        }
        return password
    }

    private func environment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
