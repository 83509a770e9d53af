# Size: one Settings class, as pydantic-settings reads it: every setting with its checks, also
# those across settings (model validators on the class); one place to read what can be set.
"""Runtime configuration from the environment (prefix UITSTROOM_) or a .env file."""

import difflib
import logging
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.database import REQUEST_SLOTS, REQUEST_SLOTS_MOST

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

ADMIN_KEY_MIN_LENGTH = 32
ADMIN_KEY_MIN_DISTINCT = 10
IMPORT_FORM_ROOM = 64 * 1024
"""Bytes of a request body besides an import file: the form's other fields and boundaries."""
ROOT_PATH = re.compile(r"(/(?!\.+(/|$))([A-Za-z0-9._~-]|%[89A-Fa-f][0-9A-Fa-f])+)+")
"""A path `UITSTROOM_PUBLIC_URL` may have: plain segments, with other than ASCII percent-encoded
in UTF-8 (`/geme%C3%A9nte`); no ASCII escaped (`%2F`, `%20`), which would decode into another
path than the one written (the server compares the decoded path a request arrives with)."""
OWN_FIRST_SEGMENTS = frozenset(
    {
        *("aanmelden", "account", "acties", "afmelden", "dossiers", "inlezen", "mensen"),
        *("overzicht", "tafels", "vergaderingen", "voorstellen", "woningen", "static"),
        *("v1", "docs", "docs-assets", "redoc", "openapi.json", "health"),
    }
)
"""The first segments of the app's own addresses (`tests/test_root_path.py` checks them against
its routes): a root path may not start with one."""

POLL_LEAST_SECONDS = 0.1
"""The shortest interval of a background job's look for work (the webhook and mail workers' polls,
the stall sweep): a shorter one asked the database thousands of times a second, a busy loop."""

SMTP_TIMEOUT_LEAST_SECONDS = 1.0
"""The shortest SMTP timeout: a connection, its TLS handshake and the server's greeting take
longer than less over any network, so every mail timed out (1e-300 was taken), said only in the
log."""

RATE_LIMIT_MOST = 10**9
"""Requests per minute a rate limit may allow: a bucket counts its tokens as a float, which a
budget of 309 digits overflowed on every request (`UITSTROOM_RATE_LIMITS_ENABLED=false` is no
limit at all)."""


def _unknown_connection_options(url: "URL") -> list[str]:
    """The options of a PostgreSQL URL's query that libpq does not take (`ssl_mode` for
    `sslmode`), by name only: the values may hold a password."""
    from psycopg import pq

    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    _, options = url.get_dialect()().create_connect_args(url)
    return sorted(set(options) - known)


PLAIN_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
"""How a whole-number setting is written: ASCII digits (a minus sign, to be refused by its range
with the range named)."""
PLAIN_DECIMAL_NUMBER = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
"""How a number of seconds is written: ASCII digits with at most one decimal point."""


def _empty(variable: str, asked: str) -> str:
    """The refusal of a number or switch given empty (`UITSTROOM_SMTP_TIMEOUT_SECONDS=` in
    `.env`, or `${VAR}` of an unset variable in a compose file). Empty is unset only for the
    settings whose default is nothing (the operator key, the SMTP server and sign-in); a setting
    with a default value refuses it, as a contact name or public URL does, rather than take the
    default silently where a value was meant. Said as empty: the refusal of a mistyped number
    ("no underscores, plus sign, ...") named nothing that was wrong with it."""
    return f"{variable} is empty: give {asked}, or leave the variable out to take its default"


def _bounds(field: str) -> dict[str, float]:
    """A number setting's bounds by kind (`ge`, `gt`, `le`, `lt`), from its field."""
    return {
        kind: getattr(limit, kind)
        for limit in Settings.model_fields[field].metadata
        for kind in ("ge", "gt", "le", "lt")
        if hasattr(limit, kind)
    }


def number_rule(field: str) -> str:
    """What a number setting may be, in words (`a whole number from 1 to 64`), from its
    field's bounds: one out of range was refused in pydantic's words ("Input should be greater
    than or equal to 1"), and `serve --workers` says the rule of `UITSTROOM_WORKERS`."""
    bounds = {
        kind: f"{bound:g}" if isinstance(bound, float) else str(bound)
        for kind, bound in _bounds(field).items()
    }
    kind = "a whole number" if Settings.model_fields[field].annotation is int else "a number"
    if "ge" in bounds and "le" in bounds:
        return f"{kind} from {bounds['ge']} to {bounds['le']}"
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    said = " and ".join(f"{words[k]} {bound}" for k, bound in bounds.items())
    return f"{kind} of {said}" if said.startswith("at least") else f"{kind} {said}"


def outside_range(field: str, number: float) -> bool:
    """Whether `number` is out of the bounds of the setting `field`."""
    bounds = _bounds(field)
    return (
        ("ge" in bounds and number < bounds["ge"])
        or ("gt" in bounds and number <= bounds["gt"])
        or ("le" in bounds and number > bounds["le"])
        or ("lt" in bounds and number >= bounds["lt"])
    )


SWITCH_WORDS = frozenset({"true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"})
"""The words pydantic reads as a switch's true or false (in any case)."""


class Settings(BaseSettings):
    # hide_input_in_errors: a refused operator key must not end up in a log or a terminal.
    model_config = SettingsConfigDict(
        env_prefix="UITSTROOM_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite:///./uitstroomtafel.db"
    admin_key: str | None = Field(
        default=None,
        description=f"Platform operator key (at least {ADMIN_KEY_MIN_LENGTH} characters); "
        "unset disables the operator API.",
    )
    # Behind a reverse proxy, the client's address (which the sign-in lock-out counts) comes
    # from X-Forwarded-For; trusted only when switched on, and only from these peers.
    proxy_headers: bool = Field(
        default=False,
        description="Trust X-Forwarded-For/-Proto from `forwarded_allow_ips` (behind a proxy).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated proxy addresses (or networks) whose forwarded headers count.",
    )
    migrate_on_start: bool = True
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes `serve` starts on its one port (PostgreSQL only when more "
        "than one); `serve --workers` overrides it.",
    )
    request_slots: int = Field(
        default=REQUEST_SLOTS,
        ge=1,
        le=REQUEST_SLOTS_MOST,
        description="PostgreSQL: requests of one server process that hold a transaction at "
        "once; the others wait their turn, first come, first served (`app.database`).",
    )
    # info.contact of the OpenAPI document (NL API Design Rules /core/doc-openapi-contact): who
    # answers partners' questions about this API. An operator sets its own.
    contact_name: str = Field(
        default="Uitstroomtafel", description="Who answers for the API (the contract's contact)."
    )
    contact_email: str = Field(
        default="uitstroomtafel@example.org", description="The contact's e-mail address."
    )
    contact_url: str = Field(
        default="https://example.org/uitstroomtafel", description="The contact's web page."
    )
    retention_days: int = Field(
        default=730, ge=30, le=3650, description="Days after closing before a case is anonymised."
    )
    retention_job: bool = Field(
        default=True,
        description="Anonymise due case files daily inside the app process "
        "(off when a cron job runs `uitstroomtafel anonymise`).",
    )
    stall_sweep: bool = Field(
        default=True,
        description="Send due proposal.stalled webhooks from a periodic sweep inside the app "
        "process (safe in every replica), not only when an agenda or minutes are read.",
    )
    stall_sweep_seconds: float = Field(
        default=300.0,
        ge=POLL_LEAST_SECONDS,
        le=24 * 3600,
        description="Seconds between two stall sweeps.",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        le=1024 * 1024 * 1024,
        description="Larger request bodies get 413 (room for `import_max_bytes` and a form).",
    )
    # Spreadsheet imports (app/imports): a 10,000-row file of case files is about 2 MB as CSV.
    import_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    import_max_rows: int = Field(default=10_000, ge=1, le=100_000)
    # Requests per minute (and burst) per API key or signed-in person, per endpoint class; kept in
    # the database so the limit holds across server processes (app/rate_limits).
    rate_limits_enabled: bool = True
    rate_limit_agenda_per_minute: int = Field(default=30, ge=1, le=RATE_LIMIT_MOST)
    rate_limit_publish_per_minute: int = Field(default=10, ge=1, le=RATE_LIMIT_MOST)
    rate_limit_why_not_per_minute: int = Field(default=120, ge=1, le=RATE_LIMIT_MOST)
    rate_limit_monitor_per_minute: int = Field(default=60, ge=1, le=RATE_LIMIT_MOST)
    rate_limit_batch_per_minute: int = Field(default=120, ge=1, le=RATE_LIMIT_MOST)
    rate_limit_password_per_minute: int = Field(default=30, ge=1, le=RATE_LIMIT_MOST)
    solver_time_budget_seconds: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="Seconds the proposal solver may spend on a table whose spread caps do not "
        "nest (and on passed-over re-solves) before it answers with a feasible proposal "
        "flagged as not proven optimal.",
    )
    # At least an hour: 0 or less made every retry of a request run again (a second case file).
    idempotency_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 365, description="How long an Idempotency-Key is remembered."
    )
    idempotency_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a request waits for another one with the same Idempotency-Key "
        "before it answers 409 idempotency_key_in_progress (PostgreSQL).",
    )
    # 6, not 4: eight clients pushing overlapping batches of new references at two servers
    # (tests/concurrency/test_registry_races.py) could lose four races in a row under load.
    db_retry_attempts: int = Field(
        default=6,
        ge=1,
        le=10,
        description="Runs of a request that loses a database race (deadlock, serialization "
        "failure, stale version, concurrent insert) before it answers 409/503.",
    )
    key_last_used_resolution_seconds: int = Field(default=60, ge=0, le=24 * 3600)
    webhook_worker: bool = Field(
        default=True, description="Run the webhook delivery worker inside the app process."
    )
    webhook_poll_seconds: float = Field(default=1.0, ge=POLL_LEAST_SECONDS, le=60)
    webhook_allow_private_targets: bool = Field(
        default=False,
        description=(
            "Deliver to loopback and private addresses too (development and tests only); "
            "link-local and cloud metadata addresses stay refused."
        ),
    )
    # E-mail for people (app/mail): sent through this SMTP server; without `smtp_host` nothing
    # is sent (the notices of events are queued, and dropped after 3 days unsent), and the
    # preferences page says so.
    smtp_host: str | None = Field(
        default=None, description="SMTP server for e-mail to people; unset: no e-mail is sent."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS before signing in."
    )
    smtp_username: str | None = Field(
        default=None,
        description="Sign in to the SMTP server with this name (needs `smtp_starttls`).",
    )
    smtp_password: SecretStr | None = None
    smtp_ca_file: str | None = Field(
        default=None,
        description=(
            "PEM file of the certificate authorities that may sign the SMTP server's certificate "
            "(a private CA); unset: the system's."
        ),
    )
    smtp_timeout_seconds: float = Field(default=20.0, ge=SMTP_TIMEOUT_LEAST_SECONDS, le=300)
    mail_from: str = Field(
        default="Uitstroomtafel <noreply@example.org>", description="The mails' From address."
    )
    public_url: str = Field(
        default="http://localhost:8000",
        description="Where people reach the pages; the links in e-mails start with it. Unset, "
        "`serve` uses the address it listens on.",
    )
    mail_worker: bool = Field(
        default=True, description="Run the e-mail worker inside the app process (with SMTP)."
    )
    mail_poll_seconds: float = Field(default=5.0, ge=POLL_LEAST_SECONDS, le=300)
    # Pages for people (app/web): sessions, sign-in lock-out, passwords.
    session_cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only (off for plain-http localhost).",
    )
    session_idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=7 * 24)
    signin_max_failures: int = Field(default=5, ge=1, le=100)
    signin_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # At most 100,000: more is no lock-out at all (`signin_max_failures` is at most 100).
    signin_max_failures_per_address: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="Failed sign-ins per client address per lock-out window.",
    )

    @property
    def mail_enabled(self) -> bool:
        """E-mail to people is sent only with an SMTP server configured."""
        return bool(self.smtp_host)

    @property
    def root_path(self) -> str:
        """The path of `public_url` without its last `/` (`/tafel` for `https://x.nl/tafel/`,
        `""` for none): the app's root path (ASGI `root_path`) behind a proxy that serves it
        there, which every link, form, redirect and `Location` the app emits starts with."""
        from urllib.parse import quote, unquote, urlsplit

        return quote(unquote(urlsplit(self.public_url).path.rstrip("/")))  # %C3%A9, not %c3%a9

    @field_validator("*", mode="before")
    @classmethod
    def _utf8_text(cls, value: object, info: ValidationInfo) -> object:
        """A value from a shell or unit file in another encoding (Latin-1) reaches Python as
        lone surrogates, which no answer, header or file name can carry (the contract's
        contact answered 500 on every read): refused at start, the value not echoed."""
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"UITSTROOM_{(info.field_name or '').upper()} must be UTF-8 text: it has "
                    "bytes of another encoding (Latin-1?); write it in UTF-8"
                ) from None
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _plain_number(cls, value: object, info: ValidationInfo) -> object:
        """A number as an operator writes one: digits, and for seconds a decimal point. Python
        also reads `1_0` as 10, `+5`, full-width digits and `1e1`, so a typo was taken as another
        number than the one meant; `nan` and `inf` were refused as out of range, which said
        nothing about what was wrong. White space around the number is ignored."""
        kind = cls.model_fields[info.field_name].annotation if info.field_name else None
        if kind not in (int, float) or not isinstance(value, str):
            return value
        text = value.strip()
        pattern = PLAIN_WHOLE_NUMBER if kind is int else PLAIN_DECIMAL_NUMBER
        if not pattern.fullmatch(text):
            default = cls.model_fields[info.field_name or ""].default
            variable = f"UITSTROOM_{(info.field_name or '').upper()}"
            if not text:
                shown = f"{default:g}" if kind is float else default
                asked = "a whole number" if kind is int else "a number"  # as out of range
                raise ValueError(_empty(variable, f"{asked}, such as {shown} (its default)"))
            if kind is int:
                raise ValueError(
                    f"{variable} must be a whole number written in the digits 0-9 alone, such "
                    f"as {default} (no underscores, plus sign, spaces, decimal point, exponent "
                    "or other digits)"
                )
            raise ValueError(
                f"{variable} must be a number written in the digits 0-9 with at most one "
                f"decimal point, such as {default:g} or 2.5 (no underscores, plus sign, spaces, "
                "exponent, nan, inf or other digits)"
            )
        # Past 4300 digits Python refuses to read a whole number ("Exceeds the limit (4300
        # digits) for integer string conversion"), which was the refusal: out of range, as it is.
        digits = len(text.lstrip("-"))
        number = float(text) if kind is float or digits > 30 else int(text)
        if info.field_name and outside_range(info.field_name, number):
            default = cls.model_fields[info.field_name].default
            shown = f"{default:g}" if kind is float else default
            raise ValueError(
                f"UITSTROOM_{info.field_name.upper()} must be {number_rule(info.field_name)}, "
                f"such as {shown} (its default)"
            )
        return text

    @field_validator("*", mode="before")
    @classmethod
    def _plain_switch(cls, value: object, info: ValidationInfo) -> object:
        """A switch is true or false, in the words pydantic takes (1/0, yes/no, on/off, any
        case), white space around it ignored as around a number: `off ` was refused with "Input
        should be a valid boolean", which named no word that is one."""
        kind = cls.model_fields[info.field_name].annotation if info.field_name else None
        if kind is not bool or not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            default = cls.model_fields[info.field_name or ""].default
            variable = f"UITSTROOM_{(info.field_name or '').upper()}"
            said = str(default).lower()
            raise ValueError(_empty(variable, f"true or false (its default is {said})"))
        if text.lower() not in SWITCH_WORDS:
            raise ValueError(
                f"UITSTROOM_{(info.field_name or '').upper()} must be true or false (or 1 or 0, "
                "yes or no, on or off)"
            )
        return text

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """SQLite or PostgreSQL with an installed driver: refused here, with the reason, rather
        than as a traceback from the first command that connects."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        if value != value.strip():  # a line end from a secret's file, a space after a copy
            raise ValueError(
                "UITSTROOM_DATABASE_URL has white space or a line end at its start or end, which "
                "would name another SQLite file (a new, empty one) or PostgreSQL database than "
                "meant; remove it"
            )
        try:
            url = make_url(value)
            backend = url.get_backend_name()
            if backend in ("sqlite", "postgresql"):
                url.get_dialect().import_dbapi()
        except (ArgumentError, ValueError):
            raise ValueError(
                "UITSTROOM_DATABASE_URL is not a database URL; give sqlite:///path/to/file.db "
                "or postgresql+psycopg://user:password@host/database"
            ) from None
        except (NoSuchModuleError, ImportError):
            raise ValueError(
                f"UITSTROOM_DATABASE_URL names the driver {url.drivername!r}, which is not "
                "installed; use sqlite:/// or postgresql+psycopg://"
            ) from None
        if "@" in (url.host or ""):  # the rest of a password after its first @, as the host
            raise ValueError(
                "UITSTROOM_DATABASE_URL has an @ in its password, which ends it there: write it "
                "as %40 (and a % in it as %25)"
            )
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(
                f"UITSTROOM_DATABASE_URL names {backend!r}; the service runs on SQLite "
                "(sqlite:///...) or PostgreSQL (postgresql+psycopg://...) only"
            )
        if backend == "postgresql" and (unknown := _unknown_connection_options(url)):
            # psycopg refused them at the first connect, a traceback from every command.
            raise ValueError(
                "UITSTROOM_DATABASE_URL names connection options libpq does not know: "
                + ", ".join(f'"{name}"' for name in unknown)
                + " (the query takes libpq's parameters, such as sslmode=require)"
            )
        if backend == "sqlite" and url.database in (None, "", ":memory:"):
            raise ValueError(
                "UITSTROOM_DATABASE_URL names a SQLite database in memory, which every command "
                "(and `serve` after migrating) starts empty; give a file: sqlite:///path/to/file.db"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_a_link_can_start_with(cls, value: str) -> str:
        """Refused at start when the mails' links (it plus a path) would lead nowhere, lose the
        path (a query, a fragment) or not be ASCII (`List-Unsubscribe` hid them in RFC 2047)."""
        if value != value.strip():  # a line end from a secret's file, a space after a copy
            raise ValueError(
                "UITSTROOM_PUBLIC_URL has white space or a line end at its start or end, which no "
                "link can carry; remove it"
            )
        if not (value.isascii() and _web_address(value, path_only=True)):
            raise ValueError(
                "UITSTROOM_PUBLIC_URL must be the http:// or https:// address people reach the "
                "pages at, such as https://tafel.example.nl (a path is allowed; no query or "
                "fragment; in ASCII: a host's xn-- form, a path percent-encoded): the links in "
                "the mails start with it"
            )
        from urllib.parse import unquote_to_bytes, urlsplit

        path = urlsplit(value).path.rstrip("/")
        if path and not (ROOT_PATH.fullmatch(path) and _utf8(unquote_to_bytes(path))):
            raise ValueError(
                f"UITSTROOM_PUBLIC_URL has the path {path!r}; a path is one or more segments of "
                "letters, digits, '.', '_', '~' and '-' (any other letter percent-encoded in "
                "UTF-8: /geme%C3%A9nte), such as /uitstroomtafel: the pages are served below it"
            )
        if path and path.split("/")[1] in OWN_FIRST_SEGMENTS:
            raise ValueError(
                f"UITSTROOM_PUBLIC_URL has the path {path!r}, which starts as an address of the "
                f"service itself (/{path.split('/')[1]}/...): behind a proxy that strips it, "
                "the one could not be told from the other. Choose another path, such as "
                "/uitstroomtafel"
            )
        return value

    @field_validator("contact_name", "contact_email", "contact_url")
    @classmethod
    def _contact_a_partner_can_use(cls, value: str, info: ValidationInfo) -> str:
        """`info.contact` of the served contract: a name (blank names nobody), an e-mail address
        and a URL by the OpenAPI specification, which a partner's tooling validates and a
        partner writes to or opens."""
        if info.field_name == "contact_name" and not value.strip():
            raise ValueError(
                "UITSTROOM_CONTACT_NAME must be who answers partners' questions about the API, "
                "such as 'Gemeente Amersfoort, team Uitstroom': it is the contact of the API's "
                "contract"
            )
        if info.field_name == "contact_email" and not CONTACT_EMAIL.fullmatch(value):
            raise ValueError(
                "UITSTROOM_CONTACT_EMAIL must be one e-mail address, such as "
                "uitstroomtafel@gemeente.nl: it is the contact of the API's contract"
            )
        if info.field_name == "contact_url" and not _web_address(value):
            raise ValueError(
                "UITSTROOM_CONTACT_URL must be the http:// or https:// address of the contact's "
                "web page, such as https://gemeente.nl/uitstroomtafel: it is the contact of the "
                "API's contract"
            )
        return value

    @field_validator("smtp_host")
    @classmethod
    def _smtp_host_a_name_or_address(cls, value: str | None) -> str | None:
        """The host the mail worker connects to (its port apart): refused at start when no
        resolver knows it as written (a space, a port, a scheme, brackets), rather than every
        mail failing its attempts with the reason in the log only. Empty is unset."""
        if not value:
            return None
        if not _host(value):
            raise ValueError(
                "UITSTROOM_SMTP_HOST must be the SMTP server's host name or IP address alone, "
                "such as smtp.gemeente.nl or 192.0.2.25 (no scheme, brackets or spaces; its "
                "port in UITSTROOM_SMTP_PORT)"
            )
        return value

    @field_validator("smtp_username", "smtp_password")
    @classmethod
    def _smtp_sign_in_in_ascii(
        cls, value: str | SecretStr | None, info: ValidationInfo
    ) -> str | SecretStr | None:
        """smtplib sends AUTH PLAIN and LOGIN in ASCII only: another character failed every
        connection of the mail worker (UnicodeEncodeError), said only in the log."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if info.field_name == "smtp_username" and text and text != text.strip():
            # Taken, "   " signed in as three spaces (a name of nothing but white space is not
            # unset: that is empty), " tafel" as another account than tafel: refused by the
            # server on every connection, said only in the log.
            raise ValueError(
                "UITSTROOM_SMTP_USERNAME has white space at its start or end (or is nothing but): "
                "write the account name alone, or leave it empty to send without signing in"
            )
        if text and not text.isascii():
            raise ValueError(
                f"UITSTROOM_{(info.field_name or '').upper()} must be of ASCII characters only: "
                "the SMTP sign-in sends no others"
            )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded_allow_ips_addresses(cls, value: str) -> str:
        return forwarded_allow_ips(value, "UITSTROOM_FORWARDED_ALLOW_IPS")

    @field_validator("mail_from")
    @classmethod
    def _mail_from_one_address(cls, value: str) -> str:
        """The mails' From header, and the envelope sender the SMTP server is given: refused at
        start when it is no single address, rather than every mail refused (or sent from an
        address no server delivers) with the reason in the log only."""
        from email.message import EmailMessage

        mail = EmailMessage()
        try:
            mail["From"] = value  # as `app.mail.compose` writes it
            header = mail["From"]
            addresses = header.addresses
            usable = (
                not header.defects
                and len(addresses) == 1
                and bool(addresses[0].username)
                and bool(addresses[0].domain)
            )
            # smtplib asks SMTPUTF8 for every mail: a server without it takes none.
            international = len(addresses) == 1 and not addresses[0].addr_spec.isascii()
        except (ValueError, TypeError, IndexError):  # a new line, or nothing parseable
            usable = international = False
        if international:
            raise ValueError(
                "UITSTROOM_MAIL_FROM must have an address of ASCII characters only (a domain "
                "with accents in its xn-- form; the name may have any): a mail server without "
                "SMTPUTF8 takes no mail from any other"
            )
        if not usable:
            raise ValueError(
                "UITSTROOM_MAIL_FROM must be one e-mail address, with or without a name, such "
                "as 'Uitstroomtafel <noreply@gemeente.nl>': the mails are sent from it"
            )
        return value

    @field_validator("admin_key")
    @classmethod
    def _strong_admin_key(cls, value: str | None) -> str | None:
        """The operator key opens every organisation's registry: refuse a guessable one."""
        if not value:
            return None
        if len(value) < ADMIN_KEY_MIN_LENGTH or len(set(value)) < ADMIN_KEY_MIN_DISTINCT:
            raise ValueError(
                f"UITSTROOM_ADMIN_KEY must be at least {ADMIN_KEY_MIN_LENGTH} characters with "
                f"at least {ADMIN_KEY_MIN_DISTINCT} different ones; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if value != value.strip():
            raise ValueError("UITSTROOM_ADMIN_KEY has leading or trailing whitespace")
        if not (value.isascii() and value.isprintable()):  # what clients send in a header
            raise ValueError(
                "UITSTROOM_ADMIN_KEY must be of printable ASCII characters only: an "
                "Authorization header carries no others (a client sends an accent as UTF-8, "
                "which matches nothing)"
            )
        return value

    @model_validator(mode="after")
    def _credentials_only_over_tls(self) -> "Settings":
        """SMTP credentials sent before STARTTLS would cross the network in clear text."""
        if self.smtp_username and not self.smtp_starttls:
            raise ValueError(
                "UITSTROOM_SMTP_USERNAME needs UITSTROOM_SMTP_STARTTLS: the credentials would "
                "otherwise be sent in clear text"
            )
        return self

    @model_validator(mode="after")
    def _smtp_sign_in_of_both(self) -> "Settings":
        """The mail worker signs in only with a username: a password alone was never sent (the
        mails went without a sign-in, which a submission server refuses); a username alone
        signed in with an empty password, which AUTH PLAIN does not allow (RFC 4616). Either
        failed every mail, said only in the log. Empty is unset, as the worker reads it."""
        password = self.smtp_password.get_secret_value() if self.smtp_password else ""
        if password and not self.smtp_username:
            raise ValueError(
                "UITSTROOM_SMTP_PASSWORD is set without UITSTROOM_SMTP_USERNAME: the mail worker "
                "signs in only with a username; set both, or neither to send without signing in"
            )
        if self.smtp_username and not password:
            raise ValueError(
                "UITSTROOM_SMTP_USERNAME is set without UITSTROOM_SMTP_PASSWORD: the SMTP sign-in "
                "takes no empty password; set both, or neither to send without signing in"
            )
        return self

    @model_validator(mode="after")
    def _session_cookie_secure_over_https(self) -> "Settings":
        """People reach the pages over HTTPS: a session cookie without `Secure` would also be
        sent over plain http to the same host (a link or redirect to http://, on any network
        on the way), handing the session to whoever reads along."""
        if not self.session_cookie_secure and self.public_url.lower().startswith("https://"):
            raise ValueError(
                "UITSTROOM_SESSION_COOKIE_SECURE=false is only for plain-http localhost, but "
                "UITSTROOM_PUBLIC_URL is an https:// address: the session cookie would also be "
                "sent over plain http. Leave it unset (true), also behind a proxy that ends TLS"
            )
        return self

    @model_validator(mode="after")
    def _idempotency_within_retention(self) -> "Settings":
        """The Idempotency-Key record of a case's creation keeps a hash of the request (the
        case file); remembered longer than a closed case is kept, it would outlive the case's
        anonymisation (the retention job deletes expired records daily)."""
        if self.idempotency_ttl_hours > self.retention_days * 24:
            raise ValueError(
                "UITSTROOM_IDEMPOTENCY_TTL_HOURS may not exceed UITSTROOM_RETENTION_DAYS in "
                "hours: a request's record would outlive the anonymisation of its case"
            )
        return self

    @model_validator(mode="after")
    def _imports_fit_in_a_body(self) -> "Settings":
        """An import file larger than a request body would be refused with the body's 413
        while the import page still offered the larger size."""
        if self.import_max_bytes + IMPORT_FORM_ROOM > self.max_body_bytes:
            raise ValueError(
                "UITSTROOM_IMPORT_MAX_BYTES must stay at least 64 KiB below "
                "UITSTROOM_MAX_BODY_BYTES: an import file is sent in a request body"
            )
        return self


# One address: one @, a dot after it, nothing a header reads as structure or blank.
_EMAIL_PART = r'[^@\s<>(),;:\\\[\]"]+'
CONTACT_EMAIL = re.compile(rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}")


def _web_address(value: str, *, path_only: bool = False) -> bool:
    """`value` is an http(s) address with a host (`path_only`: and no query or fragment), no
    user or password (in every mail's links), no port out of range and no white space or `<>"`
    (a link in a mail ends there)."""
    from urllib.parse import urlsplit

    if any(c.isspace() or not c.isprintable() or c in '<>"' for c in value):
        return False
    try:  # an unparseable address (`http://[::1`) is as wrong as one without a host
        parts = urlsplit(value)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        usable = usable and "@" not in parts.netloc and parts.port != 0  # ValueError: > 65535
    except ValueError:
        return False
    return usable and not (path_only and (parts.query or parts.fragment))


_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _host(value: str) -> bool:
    """`value` is an IP address or a host name a resolver takes: labels of letters, digits,
    `-` and `_` (a compose service's name), in their xn-- form where they have others."""
    import ipaddress

    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    try:
        ascii_name = value.encode("idna").decode("ascii")  # as the resolver encodes it
    except UnicodeError:  # an empty or too long label
        return False
    labels = ascii_name.removesuffix(".").split(".")
    return len(ascii_name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def forwarded_allow_ips(value: str, name: str) -> str:
    """The proxies whose forwarded headers count: comma-separated IP addresses or networks, or
    `*` alone (any). uvicorn takes any other text as a literal no TCP peer matches, so a host
    name, `10.0.0.1/8` (host bits set) or a typo trusted nobody and the sign-in lock-out counted
    the proxy's address for every client, without a word; refused here, naming `name`."""
    import ipaddress

    items = [item.strip() for item in value.split(",") if item.strip()]
    if items == ["*"]:
        return "*"
    wrong = []
    for item in items:
        try:
            ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)
        except ValueError:
            wrong.append(item)
    if wrong or not items:
        said = f": {', '.join(map(repr, wrong))} is not one" if wrong else ""
        raise ValueError(
            f"{name} must be the proxies' IP addresses or networks, comma-separated, such as "
            f"127.0.0.1,10.0.0.0/8 (a network without host bits), or * for any{said}"
        )
    return ",".join(items)


def plain_http_elsewhere(url: str) -> bool:
    """`url` is a plain-http address of another host than this machine's loopback (`localhost`,
    `127.0.0.1`, `[::1]`): a browser there drops a `Secure` cookie (the session's and the
    sign-in form's), as only loopback counts as a secure context without TLS, so no one can
    sign in. False for anything unparseable."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if parts.scheme.lower() != "http" or not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


PREFIX = "UITSTROOM_"
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""What a variable's name holds (POSIX)."""

OTHER_VARIABLES = frozenset(
    {
        # The test suite's (README, Development) and the ADR linter's.
        *("UITSTROOM_TEST_POSTGRESQL_URL", "UITSTROOM_REQUIRE_POSTGRESQL", "UITSTROOM_TEST_TODAY"),
        *("UITSTROOM_TEST_CLOCK", "UITSTROOM_TEST_SERVER_START_SECONDS", "UITSTROOM_PG_DATA"),
        *("UITSTROOM_PG_PORT", "UITSTROOM_HYPOTHESIS_PROFILE", "UITSTROOM_REQUIRE_BROWSER"),
        *("UITSTROOM_SPECTRAL", "UITSTROOM_ADR_RULESET", "UITSTROOM_REQUIRE_ADR_LINTER"),
        *("UITSTROOM_SIMULATION_SEEDS", "UITSTROOM_SIMULATION_STATS"),
        # The benchmarks' (bench/).
        "UITSTROOM_BENCH_POSTGRESQL_URL",
    }
)
"""Variables with the prefix that are no setting of the service but of its tests, benchmarks
and tools: not warned about (`tests/test_operator_mistakes.py` checks the list against the
names the repository uses)."""


SERVE_OPTIONS = {
    "HOST": "the address to listen on is `serve --host`",
    "PORT": "the port is `serve --port`",
    "LOG_LEVEL": "the log level is `serve --log-level`",
    "DEMO": "a demo is `serve --demo`",
    "ROOT_PATH": "the root path is the path of UITSTROOM_PUBLIC_URL (https://gemeente.nl/tafel)",
}
"""What `serve` takes on its command line (or derives), by the name after the prefix an operator
gives it as a variable, as `UITSTROOM_WORKERS` is `--workers`: the prefix and `PORT=8080` were
ignored with "did you mean UITSTROOM_PG_PORT?", the test suite's PostgreSQL port, and the
prefix and `HOST` with "did you mean UITSTROOM_SMTP_HOST?", the mail server's, so the service
went on serving on 127.0.0.1:8000."""

DATABASE_PART = re.compile(r"(^|_)(DB|PG|POSTGRES|DATABASE|SQLITE)")
DATABASE_HINT = (
    "the database is UITSTROOM_DATABASE_URL, whole (postgresql+psycopg://user@host:5432/name; "
    "the password in PGPASSWORD or the URL)"
)
"""A part of the database given on its own after the prefix (`POSTGRESQL_URL`, `DB_HOST`,
`PGPORT`): it was answered with the variable of the test suite's or the mail server's it looked
like ("did you mean UITSTROOM_TEST_POSTGRESQL_URL?"), which the service does not read as its
database either, and the service went on running on its SQLite file."""


def _resembled(rest: str, suffixes: list[str]) -> str | None:
    """The setting (without the prefix) that `rest`, a variable's name without it, starts like,
    a letter or so off, and then goes on past by more than a letter: a misspelt name with the
    value that lost its `=` after it. None when it starts like none."""
    for suffix in sorted(suffixes, key=len, reverse=True):
        start = rest[: len(suffix)]
        if (
            len(rest) > len(suffix) + 1
            and difflib.SequenceMatcher(None, start, suffix).ratio() >= 0.8
        ):
            return suffix
    return None


def unknown_variable_warnings(
    environ: Mapping[str, str], dotenv: Mapping[str, str | None], dotenv_name: str = ".env"
) -> list[str]:
    """One line per `UITSTROOM_` variable in `environ` or the `.env` file's `dotenv` that is no
    setting, with the closest name that is. pydantic-settings ignores such a variable, so a
    misspelt database URL (`DATABSE_URL`) ran the service on its SQLite default while the operator
    believed it on PostgreSQL. A warning, not a refusal: an unknown variable breaks nothing
    that worked (an older version's, another tool's), and no value is shown (it may be a key).
    Names are compared in capitals, as pydantic-settings reads them regardless of case."""
    known = {PREFIX + name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    # Without the prefix, which every name shares and would make any two look alike.
    suffixes = sorted(known_name[len(PREFIX) :] for known_name in known)
    setting_names = {name.upper() for name in Settings.model_fields}
    warnings = []
    for names, where in ((environ, "the environment"), (dotenv, dotenv_name)):
        for name in sorted(names):
            upper = name.upper()
            if not upper.startswith(PREFIX) or upper in known:
                continue
            named = VARIABLE_NAME.match(name)
            head = name[: named.end() if named else 0]
            # A .env line that lost its `=` (or has another character in place of it) is one
            # name to python-dotenv, value and all: of what a name can hold, only a setting's
            # name it starts with (`UITSTROOM_ADMIN_KEY` of `UITSTROOM_ADMIN_KEYab-cd`) is shown.
            longest = max((k for k in known if head.upper().startswith(k)), key=len, default=None)
            resembled = None if longest else _resembled(head.upper()[len(PREFIX) :], suffixes)
            if resembled is not None:
                # `SMTP_PASWORDvalue` after the prefix: a misspelt name with the value on.
                warnings.append(
                    f"WARNING: a variable whose name starts like {PREFIX}{resembled} and goes on "
                    f"(in {where}; it is not shown: it may hold a value) is not a setting of "
                    f"uitstroomtafel and is ignored; did you mean {PREFIX}{resembled}=value?"
                )
                continue
            if head != name:
                # `UITSTROOM_ADMIN_KEY:value` in .env: only what a name can hold, before the
                # first other character, is shown.
                warnings.append(
                    f"WARNING: a variable whose name starts {longest or head} (in {where}) has a "
                    "character no name has after that (the rest is not shown: it may be a value) "
                    "and is ignored; write NAME=value"
                )
                continue
            if longest is not None:
                # `UITSTROOM_ADMIN_KEYvalue`: a .env line that lost its `=` is a name of its
                # own, value and all; only the setting's name it starts with is shown.
                warnings.append(
                    f"WARNING: a variable whose name starts {longest} and goes on (in {where}; "
                    "the rest is not shown: it may be a value) is not a setting of "
                    f"uitstroomtafel and is ignored; did you mean {longest}=value?"
                )
                continue
            rest = upper[len(PREFIX) :]
            close = difflib.get_close_matches(rest, suffixes, n=1, cutoff=0.6)
            if rest in SERVE_OPTIONS:
                hint = SERVE_OPTIONS[rest]
            elif DATABASE_PART.search(rest) and not (
                close and close[0] in setting_names and DATABASE_PART.search(close[0])
            ):  # not a misspelt DATABASE_URL or DB_RETRY_ATTEMPTS
                hint = DATABASE_HINT
            elif close:
                hint = f"did you mean {PREFIX}{close[0]}?"
            else:
                hint = "the settings are in the README"
            warnings.append(
                f"WARNING: {name} (in {where}) is not a setting of uitstroomtafel and is "
                f"ignored; {hint}"
            )
    return warnings


@lru_cache
def get_settings() -> Settings:
    """This process's settings, read once from the environment and `.env`; a variable with the
    prefix that is no setting is logged as a warning (`unknown_variable_warnings`), which
    without a log configuration (the CLI) goes to standard error.

    Only entry points call it (`create_app()` without settings, the CLI, Alembic's env.py); the
    rest is handed the Settings object they were started with (`app.state.settings`, the
    `SettingsDep` dependency, or a parameter), so nothing changes a setting through os.environ.
    """
    from dotenv import dotenv_values

    env_file = str(Settings.model_config.get("env_file"))
    dotenv = dotenv_values(env_file, interpolate=False) if os.path.isfile(env_file) else {}
    # Before the settings are read: a misspelt name is often why a setting is refused
    # (`SMTP_PASWORD` beside a username), and a refusal hid the warning that said so.
    for warning in unknown_variable_warnings(os.environ, dotenv, env_file):
        log.warning(warning)
    return Settings()


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
