import Dispatch
import Foundation
import ParleyClient
import ParleyIRC

/// The terminal chat client: asks for what is missing, connects, registers, joins the channel, and then runs one
/// loop that handles keys (or script lines), server messages and reconnection. Everything the loop touches is owned
/// by the one task that runs it.
public final class ChatApp {
    enum Event: Sendable {
        case server(generation: Int, IRCMessage)
        case disconnected(generation: Int)
        case reconnected(ChatConnection, ChatState, [ChatLine])
        case notice(String)
        case keys([UInt8])
        case line(String)
        case endOfInput
        case resize
        case interrupt
        case tick
    }

    let options: ChatOptions
    let style: TerminalStyle
    var state: ChatState
    var windows = ChatWindows()
    var editor = LineEditor()
    var decoder = KeyDecoder()
    var screen: Screen?
    var connection: ChatConnection?
    var generation = 0
    var endpoint: ChatEndpoint
    let events: AsyncStream<Event>
    let continuation: AsyncStream<Event>.Continuation
    /// Script lines wait here until the first channel is joined.
    var pendingLines: [String] = []
    var ready = false
    /// Whether the "Type to chat" hint was given (once, after the first join).
    var greeted = false
    var inputEnded = false
    /// What the process exits with: 1 when a script's lines may not all have reached the server.
    var exitStatus: Int32 = 0
    /// A script's input ended (or it said `quit`): the PING sent after its last line, and the reason to quit with
    /// once the server answered it.
    var draining: (token: String, reason: String?)?
    var quitting = false
    /// Channels to show once joined (the first one and those from /join, not rejoins).
    var switchOnJoin: Set<String> = []
    /// Channels joined whose member list has not ended yet; its end prints "You are in …".
    var awaitingNames: Set<String> = []
    /// Where this person last said they are typing, and when.
    var typingSent: (target: String, at: Int64)?
    /// The read markers this client last sent or heard, by case-folded window name (ms since 1970).
    var markersSent: [String: Int64] = [:]

    init(options: ChatOptions, endpoint: ChatEndpoint, nick: String) {
        self.options = options
        self.endpoint = endpoint
        self.style = TerminalStyle(colors: options.colors && options.interactive)
        self.state = ChatState(nick: nick)
        (self.events, self.continuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Runs the client until the person leaves. - Returns: the process exit status.
    public static func run(_ options: ChatOptions) async -> Int32 {
        var endpoint = options.endpoint
        if endpoint == nil {
            let fallback = "127.0.0.1:\(options.defaultPort)"
            if options.interactive {
                while endpoint == nil {
                    let answer = Self.ask("Server address [\(fallback)]: ") ?? ""
                    endpoint = ChatEndpoint.parse(answer.isEmpty ? fallback : answer, defaultPort: options.defaultPort)
                    if endpoint == nil { Self.out("That is not an address: give host or host:port, e.g. \(fallback).") }
                }
            } else {
                endpoint = ChatEndpoint.parse(fallback, defaultPort: options.defaultPort)
            }
        }
        guard var endpoint else { return 1 }
        endpoint.tls = options.tls
        let policyPath = StrictTransportPolicies.path(environment: ProcessInfo.processInfo.environment)
        var policies = policyPath.map(StrictTransportPolicies.load(from:)) ?? StrictTransportPolicies()
        var pinned = false
        if endpoint.tls == .off, let policy = policies.policy(for: endpoint.host, now: ChatConnection.now() / 1000) {
            // Until the policy expires this host is reached with TLS only, whatever the address says.
            endpoint.port = policy.port
            endpoint.tls = .verified
            pinned = true
        }

        var connection: ChatConnection
        do {
            connection = try await ChatConnection.open(endpoint)
        } catch {
            Self.printError(pinned ? Self.pinnedFailure(endpoint, policies, error) : "\(error)")
            return 1
        }

        var nick = options.nick
        if nick == nil && !options.interactive {
            Self.printError("--nick is needed when standard input is not a terminal.")
            return 2
        }
        while nick?.isEmpty ?? true {
            guard let answer = Self.ask("Username: ") else { return 1 }
            nick = answer.trimmingCharacters(in: .whitespaces)
        }
        let app = ChatApp(options: options, endpoint: endpoint, nick: nick!)
        do {
            var outcome: RegistrationOutcome
            do {
                outcome = try await connection.register(
                    nick: nick!,
                    password: options.password,
                    login: options.login,
                    state: &app.state
                )
            } catch let upgrade as StrictTransportUpgrade {
                await connection.close()
                endpoint.port = upgrade.port
                endpoint.tls = .verified
                Self.out(
                    "\(endpoint.host) asks for TLS (strict transport security): reconnecting on port \(upgrade.port)."
                )
                do {
                    connection = try await ChatConnection.open(endpoint)
                    app.endpoint = endpoint
                    app.state = ChatState(nick: nick!)
                    outcome = try await connection.register(
                        nick: nick!,
                        password: options.password,
                        login: options.login,
                        state: &app.state
                    )
                } catch {
                    throw ParleyClientError(
                        "\(endpoint.host) accepts only TLS, and the TLS connection failed (nothing was sent without "
                            + "it): \(error)"
                    )
                }
            } catch  where pinned {
                throw ParleyClientError(Self.pinnedFailure(endpoint, policies, error))
            }
            while case .nickRefused(let reason) = outcome {
                Self.out(reason)
                guard options.interactive else { return 1 }
                var next = ""
                while next.isEmpty {
                    guard let answer = Self.ask("Username: ") else { return 1 }
                    next = answer.trimmingCharacters(in: .whitespaces)
                }
                outcome = try await connection.retry(nick: next, state: &app.state)
            }
            if case .welcomed(let lines) = outcome { app.welcome(notices: lines) }
            if endpoint.tls != .off, let duration = app.state.strictTransport?.duration, let policyPath {
                policies.record(
                    host: endpoint.host,
                    port: endpoint.port,
                    duration: duration,
                    now: ChatConnection.now() / 1000
                )
                try? policies.save(to: policyPath)
            }
        } catch {
            Self.printError("\(error)")
            return 1
        }
        return await app.run(connection)
    }

    /// Why a host pinned to TLS by its policy could not be reached, with the way out (the policy file).
    private static func pinnedFailure(
        _ endpoint: ChatEndpoint,
        _ policies: StrictTransportPolicies,
        _ error: any Error
    ) -> String {
        let until = policies.policy(for: endpoint.host, now: 0).map {
            Date(timeIntervalSince1970: TimeInterval($0.expires)).formatted(date: .abbreviated, time: .shortened)
        }
        return "\(endpoint.host) said it accepts only TLS (strict transport security, until \(until ?? "later")), "
            + "and the TLS connection to port \(endpoint.port) failed, so nothing was sent: \(error)"
    }

    /// Prints the welcome lines (server, network, the start of the MOTD) before the screen takes over.
    private func welcome(notices: [ChatLine]) {
        let formatter = LineFormatter(style: self.style)
        for line in notices where line.kind != .event { Self.out(formatter.format(line)) }
        let server = self.state.serverName ?? self.endpoint.host
        let network = self.state.networkName.map { " (\($0))" } ?? ""
        Self.out("Welcome, \(self.state.nick)! Connected to \(server)\(network).")
        let shown = 6
        for line in self.state.motd.prefix(shown) { Self.out("  \(line)") }
        if self.state.motd.count > shown { Self.out("  … \(self.state.motd.count - shown) more lines: /motd") }
    }

    private func run(_ connection: ChatConnection) async -> Int32 {
        if self.options.interactive {
            RawMode.enable()
            self.screen = Screen(style: self.style)
            self.startKeyboard()
            self.watchResize()
            self.startTicking()
        } else {
            self.startScriptInput()
            self.watchInterrupt()
        }
        self.attach(connection)
        self.switchOnJoin.insert(CaseMapping.fold(self.options.channel))
        await self.subscribeToMetadata()
        await self.send(IRCMessage(.join, self.options.channel))
        self.redraw()

        for await event in self.events {
            await self.handle(event)
            if self.finished { break }
        }
        self.screen?.finish()
        RawMode.restore()
        return self.exitStatus
    }

    var finished: Bool { self.quitting && self.connection == nil }

    /// Starts reading `connection` into the event stream.
    func attach(_ connection: ChatConnection) {
        self.generation += 1
        self.connection = connection
        let generation = self.generation
        let continuation = self.continuation
        Task {
            while let message = await connection.next() {
                continuation.yield(.server(generation: generation, message))
            }
            continuation.yield(.disconnected(generation: generation))
        }
    }

    private func handle(_ event: Event) async {
        switch event {
        case .server(let generation, let message):
            guard generation == self.generation else { return }
            await self.receive(message)
        case .disconnected(let generation):
            guard generation == self.generation else { return }
            self.connection = nil
            if self.quitting { return }
            if self.draining != nil {
                // Lines the server had not handled yet are not sent again by a new connection: say so and stop.
                self.quitting = true
                self.exitStatus = 1
                let text = "Connection to the server lost before it confirmed every line."
                self.show([ChatLine(time: ChatConnection.now(), kind: .error, text: text)])
                return
            }
            self.state.connectionLost()
            self.show([ChatLine(time: ChatConnection.now(), kind: .error, text: "Connection to the server lost.")])
            self.reconnect()
        case .reconnected(let connection, let state, let lines):
            guard !self.quitting else {
                await connection.close()
                return
            }
            var state = state
            state.keepSeenMessages(of: self.state)
            self.state = state
            self.endpoint = connection.endpoint
            self.attach(connection)
            self.show(lines)
            let channels = self.windows.windows.filter(\.isChannel).map(\.name)
            let rejoin = channels.isEmpty ? [self.options.channel] : channels
            await self.subscribeToMetadata()
            await self.send(IRCMessage(.join, rejoin.joined(separator: ",")))
            self.info("Back on \(self.endpoint.host) as \(state.nick); rejoined \(rejoin.joined(separator: ", ")).")
        case .notice(let text):
            self.info(text)
        case .keys(let bytes):
            for key in self.decoder.decode(bytes) {
                await self.press(key)
                if self.quitting { break }
            }
        case .line(let line):
            if self.ready { await self.submit(line) } else { self.pendingLines.append(line) }
        case .endOfInput:
            self.inputEnded = true
            if self.ready && self.pendingLines.isEmpty { await self.finishScript(nil) }
        case .resize:
            self.screen?.updateSize()
            self.repaint()
        case .interrupt:
            await self.quit(nil)
        case .tick:
            self.typingTick()
            await self.sendReadMarker()
        }
    }

    /// Reconnects in the background with growing delays; the loop keeps serving keys meanwhile.
    private func reconnect() {
        let start = self.endpoint
        let nick = self.state.nick
        let password = self.options.password
        let login = self.options.login
        let continuation = self.continuation
        Task {
            var endpoint = start
            var backoff = Backoff()
            while true {
                let delay = backoff.next()
                continuation.yield(.notice("Reconnecting in \(delay.components.seconds) s…"))
                try? await Task.sleep(for: delay)
                do {
                    let connection = try await ChatConnection.open(endpoint)
                    var state = ChatState(nick: nick)
                    let lines = try await connection.registerAutomatically(
                        nick: nick,
                        password: password,
                        login: login,
                        state: &state
                    )
                    continuation.yield(.reconnected(connection, state, lines))
                    return
                } catch let upgrade as StrictTransportUpgrade {
                    // The server now states a policy: from here on, TLS on the port it names.
                    endpoint.port = upgrade.port
                    endpoint.tls = .verified
                    continuation.yield(.notice("The server asks for TLS: reconnecting on port \(upgrade.port)."))
                } catch {
                    continuation.yield(.notice("Reconnect failed: \(error)"))
                }
            }
        }
    }

    // MARK: Input sources

    private func startKeyboard() {
        let continuation = self.continuation
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    continuation.yield(.endOfInput)
                    return
                }
                continuation.yield(.keys(Array(buffer[0..<count])))
            }
        }
        thread.start()
    }

    private func startTicking() {
        let continuation = self.continuation
        Task {
            while true {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield(.tick)
            }
        }
    }

    private func startScriptInput() {
        let continuation = self.continuation
        let thread = Thread {
            while let line = readLine(strippingNewline: true) {
                continuation.yield(.line(line.hasSuffix("\r") ? String(line.dropLast()) : line))
            }
            continuation.yield(.endOfInput)
        }
        thread.start()
    }

    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    private func watchResize() {
        let continuation = self.continuation
        signal(SIGWINCH, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH)
        source.setEventHandler { continuation.yield(.resize) }
        source.resume()
        Self.signalSources.append(source)
    }

    private func watchInterrupt() {
        let continuation = self.continuation
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(.interrupt) }
            source.resume()
            Self.signalSources.append(source)
        }
    }

    // MARK: Output

    /// Stores lines in their windows and prints those that belong on screen.
    func show(_ lines: [ChatLine]) {
        guard !lines.isEmpty else { return }
        let formatter = LineFormatter(style: self.style)
        var printed: [String] = []
        for line in lines {
            let visible = self.windows.add(line, openMissing: line.kind != .event)
            if self.screen == nil {
                // Scripts see everything; a line from another window says where it is from.
                let label = visible || line.window == nil ? nil : line.window
                printed.append(formatter.format(line, windowLabel: label))
            } else if visible {
                printed.append(formatter.format(line))
            }
        }
        if let screen = self.screen {
            screen.show(printed, status: self.statusLine(), input: self.inputLine(screen))
        } else {
            Screen.write(printed.map { $0 + "\n" }.joined())
        }
    }

    func info(_ text: String) {
        self.show([ChatLine(time: ChatConnection.now(), kind: .info, text: text)])
    }

    func error(_ text: String) {
        self.show([ChatLine(time: ChatConnection.now(), kind: .error, text: text)])
    }

    func redraw() {
        guard let screen = self.screen else { return }
        screen.show([], status: self.statusLine(), input: self.inputLine(screen))
    }

    func repaint() {
        guard let screen = self.screen else { return }
        let formatter = LineFormatter(style: self.style)
        let lines = (self.windows.currentWindow?.lines ?? []).map { formatter.format($0) }
        screen.repaint(lines, status: self.statusLine(), input: self.inputLine(screen))
    }

    private func inputLine(_ screen: Screen) -> (line: String, cursorColumn: Int) {
        let prompt = "[\(self.windows.currentName ?? self.state.nick)] "
        return self.editor.render(prompt: prompt, columns: screen.columns)
    }

    /// ` Parley · network │ 1:#lobby (3 users) │ 2:#dev 4 │ 3:bob 1! `
    func statusLine() -> String {
        var parts = [" \(self.state.networkName ?? self.endpoint.host) · \(self.state.nick)"]
        if self.connection == nil { parts.append("disconnected") }
        for (index, window) in self.windows.windows.enumerated() {
            var part = "\(index + 1):\(window.name)"
            if index == self.windows.current {
                if window.isChannel, let channel = self.state.channel(window.name) {
                    let count = channel.members.count
                    part = "[\(part) \(count) user\(count == 1 ? "" : "s")]"
                } else {
                    part = "[\(part)]"
                }
            } else if window.unread > 0 {
                part += " \(window.unread)\(window.highlighted ? "!" : "")"
            }
            parts.append(part)
        }
        if let window = self.windows.currentName,
            let typing = Typists.sentence(self.state.typists.names(in: window, now: ChatConnection.now()))
        {
            parts.append(typing)
        }
        return parts.joined(separator: " │ ")
    }

    static func ask(_ prompt: String) -> String? {
        Screen.write(prompt)
        return readLine(strippingNewline: true)
    }

    /// Writes a line straight to standard output (unbuffered, like everything else the client writes).
    static func out(_ line: String) {
        Screen.write(line + "\n")
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data("parley: \(text)\n".utf8))
    }

    /// Display names (IRCv3 metadata) where the server keeps them; asked before joining, so the members' come with
    /// the JOIN.
    func subscribeToMetadata() async {
        guard self.state.capabilities.contains("draft/metadata-3") else { return }
        await self.send(IRCMessage(command: .metadata, parameters: ["*", "SUB"] + ChatState.metadataKeys))
    }
}
