import ParleyIRC

extension ServerState {
    /// What this server offers: history capabilities only when it keeps history.
    var offeredCapabilities: IRCCapabilities {
        var all = IRCCapabilities(IRCCapabilities.named.map(\.capability))
        if self.configuration.history == nil {
            all.subtract([.chathistory, .eventPlayback, .search, .messageRedaction])
        }
        if self.configuration.accounts == nil { all.subtract([.sasl, .accountRegistration, .readMarker]) }
        if self.configuration.strictTransport == nil { all.subtract(.sts) }
        if self.configuration.nodeName != nil { all.subtract([.channelRename, .metadata]) }  // not across nodes yet
        return all
    }

    /// What a client may `CAP REQ`: a policy (sts) is stated, not requested.
    var requestableCapabilities: IRCCapabilities { self.offeredCapabilities.subtracting(.sts) }

    /// `CAP LS` entries, with values for clients that speak version 302. The STS policy has a value or nothing, so
    /// only 302 clients see it: the port to reconnect to with TLS on a plaintext connection, the duration on TLS.
    func capabilityList(values: Bool, secure: Bool) -> String {
        var offered = self.offeredCapabilities
        if !values { offered.subtract(.sts) }
        return IRCCapabilities.named.filter { offered.contains($0.capability) }.map { entry in
            guard values else { return entry.name }
            switch entry.capability {
            case .sasl: return "sasl=PLAIN,SCRAM-SHA-256,EXTERNAL"
            case .accountRegistration: return "draft/account-registration=before-connect"
            case .metadata:
                let limits = self.configuration.metadata
                return "draft/metadata-3=before-connect,max-subs=\(limits.maximumSubscriptions),"
                    + "max-keys=\(limits.maximumKeys),max-value-bytes=\(limits.maximumValueBytes)"
            case .multiline:
                let limits = self.configuration.multiline
                return "draft/multiline=max-bytes=\(limits.maximumBytes),max-lines=\(limits.maximumLines)"
            case .sts:
                guard let policy = self.configuration.strictTransport else { return entry.name }
                return secure ? "sts=duration=\(policy.duration)" : "sts=port=\(policy.port)"
            default: return entry.name
            }
        }.joined(separator: " ")
    }

    /// `CAP LS|LIST|REQ|END` (IRCv3 capability negotiation, version 302).
    mutating func cap(_ request: Request, _ outbox: inout Outbox) {
        guard let session = self.sessions[request.id] else { return }
        let subcommand = CaseMapping.asciiUppercased(request.parameters[0])
        let nick = session.displayNick
        let server = self.configuration.serverName
        switch subcommand {
        case "LS":
            if !session.isRegistered { self.sessions[request.id]?.negotiatingCaps = true }
            let version = request.message.parameter(1).flatMap { Int($0) } ?? 0
            if version >= 302 { self.sessions[request.id]?.caps.insert(.capNotify) }
            let all = self.capabilityList(values: version >= 302, secure: session.isSecure)
            outbox.send(IRCMessage(source: server, .cap, nick, "LS", all), to: request.id)
        case "LIST":
            outbox.send(
                IRCMessage(source: server, .cap, nick, "LIST", session.caps.names.joined(separator: " ")),
                to: request.id
            )
        case "REQ":
            if !session.isRegistered { self.sessions[request.id]?.negotiatingCaps = true }
            let requested = request.message.parameter(1) ?? ""
            var enable: IRCCapabilities = []
            var disable: IRCCapabilities = []
            var valid = true
            for token in requested.split(separator: " ") {
                let removing = token.hasPrefix("-")
                guard let capability = IRCCapabilities(name: String(removing ? token.dropFirst() : token)),
                    self.requestableCapabilities.contains(capability)
                else {
                    valid = false
                    break
                }
                if removing { disable.insert(capability) } else { enable.insert(capability) }
            }
            guard valid, !requested.isEmpty else {
                outbox.send(IRCMessage(source: server, .cap, nick, "NAK", requested), to: request.id)
                return
            }
            self.sessions[request.id]?.caps.formUnion(enable)
            self.sessions[request.id]?.caps.subtract(disable)
            outbox.send(IRCMessage(source: server, .cap, nick, "ACK", requested), to: request.id)
        case "END":
            guard !session.isRegistered else { return }
            self.sessions[request.id]?.negotiatingCaps = false
            self.completeRegistration(request.id, now: request.now, into: &outbox)
        default:
            self.reply(request.id, .errInvalidCapCmd, request.parameters[0], "Invalid CAP command", into: &outbox)
        }
    }
}
