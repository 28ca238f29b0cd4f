import Logging
import NIOPosix
import ParleyCore

/// NickServ and REGISTER: register, log in, change or drop an account through the account service.
extension AccountRequest: ServerEffect {
    var family: EffectFamily { .accounts }

    func run(on host: CoreHost) async -> CoreHost.Resolution {
        guard let accounts = host.accounts else { return { _, _ in } }
        let outcome = await accounts.perform(self, now: CoreHost.now().millisecondsSince1970)
        return { core, outbox in core.accountCompleted(self, outcome, now: CoreHost.now(), into: &outbox) }
    }
}

/// One step of a SASL exchange; the account service keeps the mechanism's state between steps.
extension SASLStep: ServerEffect {
    var family: EffectFamily { .accounts }

    func run(on host: CoreHost) async -> CoreHost.Resolution {
        guard let accounts = host.accounts else { return { _, _ in } }
        let step = await accounts.sasl(
            self.session,
            mechanism: self.mechanism,
            response: self.response,
            address: self.address,
            certificate: self.certificate,
            now: CoreHost.now().millisecondsSince1970
        )
        return { core, outbox in
            switch step {
            case .challenge(let challenge): core.saslChallenge(self.session, challenge, into: &outbox)
            case .success(let account):
                core.saslSucceeded(self.session, account: account, now: CoreHost.now(), into: &outbox)
            case .failure(let reason): core.saslFailed(self.session, reason: reason, into: &outbox)
            }
        }
    }
}

/// `OPER`: the password hash is slow on purpose, so it is checked on NIO's thread pool, off the event loops.
extension OperatorCheck: ServerEffect {
    var family: EffectFamily { .accounts }

    func run(on host: CoreHost) async -> CoreHost.Resolution {
        let password = self.password
        let hash = self.hash
        let success =
            (try? await NIOThreadPool.singleton.runIfActive { OperatorPassword.verify(password, against: hash) })
            ?? false
        if !success { host.logger.notice("failed OPER", metadata: ["parley.oper.name": "\(self.name)"]) }
        return { core, outbox in
            core.operatorVerified(self.session, name: self.name, success: success, now: CoreHost.now(), into: &outbox)
        }
    }
}
