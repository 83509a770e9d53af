"""The mail worker talks to a real SMTP server on loopback that demands STARTTLS and a sign-in
(aiosmtpd with a throwaway certificate authority from `trustme`): it upgrades, verifies the
certificate, signs in with the configured credentials, and the mail arrives. When the server
cannot be used as configured (wrong password, no STARTTLS, a certificate it cannot trust) the
mail stays in the outbox for a retry, the reason is logged, and nothing crosses in clear text."""

import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr, ValidationError

from app.mail.models import MailStatus
from app.settings import Settings
from tests.api.helpers import assign_action
from tests.mail.conftest import Mailroom, SmtpSink, _free_port, make_region, person, wait_for

USER, PASSWORD = "tafel-mailer", "correct horse battery staple"


@dataclass
class SignIns:
    """What the server's authenticator was offered: (mechanism, login, over TLS, accepted)."""

    tries: list[tuple[str, str, bool, bool]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = (login, password) == (USER, PASSWORD)
        with self._lock:
            self.tries.append((mechanism, login, session.ssl is not None, accepted))
        # handled=False: aiosmtpd answers a refusal itself (535).
        return AuthResult(success=accepted, handled=False)


@dataclass
class TlsSink(SmtpSink):
    """Keeps, beside each message, whether its session was encrypted and signed in."""

    sessions: list[tuple[bool, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sessions.append((session.ssl is not None, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Server:
    sink: TlsSink
    sign_ins: SignIns
    port: int


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start an SMTP server on loopback: `tls` (a CA that signs its certificate) makes it
    offer STARTTLS and demand it before anything else; a sign-in is always required, and
    `auth_over_clear_text` lets the server take one before STARTTLS (to catch a client that
    would send its password unencrypted)."""
    controllers: list[Controller] = []

    def start(
        *,
        tls: trustme.CA | None,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
        auth_over_clear_text: bool = False,
    ) -> Server:
        sink, sign_ins, port = TlsSink(), SignIns(), _free_port()
        options: dict[str, Any] = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.issue_cert("127.0.0.1").configure_cert(context)
            options |= {"tls_context": context, "require_starttls": True}
        controller = Controller(
            sink,
            hostname="127.0.0.1",
            port=port,
            authenticator=sign_ins,
            auth_required=True,
            auth_require_tls=not auth_over_clear_text,
            auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
            **options,
        )
        controller.start()
        controllers.append(controller)
        return Server(sink, sign_ins, port)

    yield start
    for controller in controllers:
        controller.stop()


def _room(mailroom: Mailroom, server: Server, **smtp: Any) -> Mailroom:
    """The mail room pointed at `server` with STARTTLS and the right credentials, unless
    `smtp` says otherwise."""
    mailroom.sink = server.sink
    settings = {
        "smtp_port": server.port,
        "smtp_starttls": True,
        "smtp_username": USER,
        "smtp_password": SecretStr(PASSWORD),
    }
    mailroom.settings = mailroom.settings.model_copy(update=settings | smtp)
    return mailroom


def _one_mail_waiting(mailroom: Mailroom) -> str:
    """An action handed to a care provider: one mail for its worker; returns the address."""
    with mailroom.client() as client:
        region = make_region(client)
        _, care_worker = person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    return care_worker


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_the_worker_upgrades_with_starttls_signs_in_and_the_mail_arrives(
    mailroom, serve, ca, ca_file, mechanism
):
    server = serve(tls=ca, mechanisms=(mechanism,))
    _room(mailroom, server, smtp_ca_file=ca_file)
    care_worker = _one_mail_waiting(mailroom)

    mailroom.send_due()

    [mail] = server.sink.received()
    assert mail["To"] == care_worker
    assert server.sink.sessions == [(True, True)]  # encrypted and signed in
    assert server.sign_ins.tries == [(mechanism, USER, True, True)]
    [row] = mailroom.outbox()
    assert (row.status, row.attempts, row.last_error) == (MailStatus.sent.value, 1, None)


def test_wrong_credentials_leave_the_mail_for_a_retry_and_log_why(
    mailroom, serve, ca, ca_file, caplog
):
    server = serve(tls=ca)
    _room(mailroom, server, smtp_ca_file=ca_file, smtp_password=SecretStr("wrong"))
    _one_mail_waiting(mailroom)

    with caplog.at_level(logging.WARNING, logger="app.mail.worker"):
        mailroom.send_due()

    assert server.sink.received() == []
    # smtplib tries each mechanism the server offers; every try was encrypted and refused.
    assert {t[1:] for t in server.sign_ins.tries} == {(USER, True, False)}
    [row] = mailroom.outbox()
    assert (row.status, row.attempts) == (MailStatus.pending.value, 1)
    assert f"sign-in as '{USER}' refused (535)" in (row.last_error or "")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "sign-in as 'tafel-mailer' refused (535)" in logged
    assert "wait for a retry" in logged
    assert "wrong" not in logged  # the password is never logged

    # Once the password is put right, the same mail goes out.
    _room(mailroom, server, smtp_ca_file=ca_file)
    worker = mailroom.worker()
    wait_for(lambda: worker.run_once() or server.sink.received(), what="the retried mail")
    [row] = mailroom.outbox()
    assert (row.status, row.attempts) == (MailStatus.sent.value, 2)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_server_without_starttls_gets_neither_the_mail_nor_the_password(mailroom, serve, caplog):
    # This server would even take a sign-in in clear text: the worker must not offer one.
    server = serve(tls=None, auth_over_clear_text=True)
    _room(mailroom, server)
    _one_mail_waiting(mailroom)

    with caplog.at_level(logging.WARNING, logger="app.mail.worker"):
        mailroom.send_due()

    assert server.sink.received() == []
    assert server.sign_ins.tries == []
    [row] = mailroom.outbox()
    assert (row.status, row.attempts) == (MailStatus.pending.value, 1)
    assert "does not offer STARTTLS" in (row.last_error or "")
    assert "does not offer STARTTLS" in " ".join(r.getMessage() for r in caplog.records)


def test_a_certificate_from_an_authority_not_configured_is_not_trusted(mailroom, serve, ca_file):
    server = serve(tls=trustme.CA())  # another authority than the one in `ca_file`
    _room(mailroom, server, smtp_ca_file=ca_file)
    _one_mail_waiting(mailroom)

    mailroom.send_due()

    assert server.sink.received() == []
    assert server.sign_ins.tries == []
    [row] = mailroom.outbox()
    assert row.status == MailStatus.pending.value
    assert "TLS certificate not trusted" in (row.last_error or "")


def test_credentials_without_starttls_are_refused_as_a_setting():
    with pytest.raises(ValidationError, match="clear text"):
        Settings(smtp_host="smtp.example.nl", smtp_starttls=False, smtp_username=USER)
