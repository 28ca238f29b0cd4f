"""irctest controller for parley-server: the binary named by $PARLEY_SERVER (else `parley-server` on PATH), started
on a throwaway data directory with the settings irctest expects (an operator `operuser`/`operpassword`, no flood
control, room for many connections from one address). scripts/conformance runs it."""

import os
import shutil
import subprocess
from typing import Optional, Type

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities


class ParleyController(BaseServerController, DirectoryBasedController):
    software_name = "Parley"
    _port_wait_interval = 0.02
    supported_sasl_mechanisms = {"PLAIN", "SCRAM-SHA-256"}
    supports_sts = False

    # What Parley offers in CAP LS (with history on, as it runs by default), so these tests run instead of skipping.
    capabilities = frozenset(
        (
            Capabilities.ACCOUNT_NOTIFY,
            Capabilities.ACCOUNT_TAG,
            Capabilities.AWAY_NOTIFY,
            Capabilities.BATCH,
            Capabilities.ECHO_MESSAGE,
            Capabilities.EXTENDED_JOIN,
            Capabilities.LABELED_RESPONSE,
            Capabilities.MESSAGE_REDACTION,
            Capabilities.MESSAGE_TAGS,
            Capabilities.MULTILINE,
            Capabilities.MULTI_PREFIX,
            Capabilities.READ_MARKER,
            Capabilities.SERVER_TIME,
            Capabilities.SETNAME,
        )
    )

    _operator_hash: Optional[str] = None

    @property
    def binary(self) -> str:
        return os.environ.get("PARLEY_SERVER") or shutil.which("parley-server") or "parley-server"

    def operator_hash(self) -> str:
        # Hashing is slow by design: once per run of the suite.
        if ParleyController._operator_hash is None:
            ParleyController._operator_hash = subprocess.run(
                [self.binary, "hash-password"], input="operpassword\n", capture_output=True, text=True, check=True
            ).stdout.strip()
        return ParleyController._operator_hash

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str],
        websocket_hostname: Optional[str] = None,
        websocket_port: Optional[int] = None,
    ) -> None:
        if websocket_hostname is not None or websocket_port is not None:
            # Parley serves WebSocket on its one port; irctest asks for a second one.
            raise NotImplementedByController("Websocket on a port of its own")
        assert self.proc is None
        self.create_config()
        assert self.directory
        self.port = port
        self.hostname = hostname
        arguments = [
            self.binary,
            hostname,
            "--port", str(port),
            "--data-dir", str(self.directory / "data"),
            "--server-name", "My.Little.Server",
            "--flood-control", "off",
        ]
        if password is not None:
            arguments += ["--password", password]
        if ssl:
            self.gen_ssl()
            arguments += ["--tls-cert", str(self.pem_path), "--tls-key", str(self.key_path)]
        environment = dict(os.environ)
        environment.update(
            {
                "PARLEY_OPERATORS": "operuser:" + self.operator_hash(),
                "PARLEY_MAX_CONNECTIONS_PER_IP": "10000",
                "PARLEY_REGISTRATIONS_PER_HOUR": "10000",
                # irctest's LINKS test expects this description, and its accounts have short passwords.
                "PARLEY_SERVER_DESCRIPTION": "test server",
                "PARLEY_PASSWORD_MIN_LENGTH": "1",
            }
        )
        prefix = []
        if faketime and shutil.which("faketime"):
            prefix = ["faketime", "-f", faketime]
            self.faketime_enabled = True
        self.proc = self.execute(prefix + arguments, env=environment)


    def wait_for_services(self) -> None:
        # Parley's services (NickServ, ChanServ) are part of the server: up when it listens.
        pass

    def registerUser(self, case, username: str, password: Optional[str] = None) -> None:
        """Registers `username` through Parley's own NickServ, as a user would."""
        assert password
        client = case.addClient(show_io=False)
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r e g :user")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        case.sendLine(client, "PRIVMSG NickServ :REGISTER " + password)
        while True:
            message = case.getMessage(client)
            if message.command == "NOTICE" and message.prefix and message.prefix.startswith("NickServ!"):
                break
        assert "registered" in message.params[-1].lower(), message
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)


def get_irctest_controller_class() -> Type[ParleyController]:
    return ParleyController
