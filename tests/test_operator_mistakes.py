"""An operator's mistakes on the command line: each is refused with one line that says which
setting or argument is wrong and a non-zero exit status, never a traceback, and nothing is
changed."""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
import weakref
from contextlib import redirect_stdout
from pathlib import Path
from unittest.mock import Mock, patch

import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app import cli
from app.cli import bind, build_parser, configuration_mistake, database_failure, main
from app.organisations.models import ApiKey
from app.organisations.service import MAX_ACTIVE_API_KEYS
from app.principal import hash_api_key
from app.settings import OTHER_VARIABLES, Settings, get_settings, unknown_variable_warnings
from tests.cli import run_cli
from tests.clocked import cli_command, clock_env
from tests.conftest import OPERATOR

ROOT = Path(__file__).resolve().parent.parent


def test_a_database_url_with_an_unencoded_at_in_its_password_is_refused_not_shown():
    # The password's first @ ended it and the rest was read as the host: `serve` and every
    # command stopped with "Cannot use the database of UITSTROOM_DATABASE_URL
    # (postgresql+psycopg://tafel:***@wachtwoord@db/x): failed to resolve host 'wachtwoord@db'",
    # the rest of the password on the terminal and in the log, where a password is hidden.
    for port in ("", ":5432"):
        with pytest.raises(ValidationError) as refused:
            Settings(database_url=f"postgresql+psycopg://tafel:geheim@wachtwoord@db{port}/x")
        said = str(refused.value)
        assert "UITSTROOM_DATABASE_URL" in said and "%40" in said
        assert "wachtwoord" not in said and "geheim" not in said
    encoded = "postgresql+psycopg://tafel:geheim%40wachtwoord@db/uitstroom"
    assert Settings(database_url=encoded).database_url == encoded


@pytest.mark.parametrize("around", [" {}", "{} ", "{}\n", "{}\r\n", "\t{}"])
def test_a_database_url_with_white_space_around_it_is_refused_naming_no_new_database(
    tmp_path, around
):
    # "sqlite:///.../tafel.db\n" (a line end, as a secret made from a file keeps it) was taken:
    # `migrate` and `serve` made and used a second, empty database `tafel.db\n` beside the
    # operator's, without a word; on PostgreSQL it named a database that does not exist.
    database = tmp_path / "tafel.db"
    result = _list_organisations(
        tmp_path, {"UITSTROOM_DATABASE_URL": around.format(f"sqlite:///{database}")}
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Invalid configuration: UITSTROOM_DATABASE_URL has white space or a line end at its "
        "start or end, which would name another SQLite file (a new, empty one) or PostgreSQL "
        "database than meant; remove it"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_database_password_in_the_urls_query_is_not_shown_when_the_database_fails():
    # libpq and psycopg take the password in the query too (?password=...); the one line of a
    # database the command could not use hid the password of the user part only, and printed
    # "(postgresql+psycopg://tafel@127.0.0.1:1/x?password=geheim)" on the terminal and in the log.
    for query in ("password=geheim", "sslpassword=geheim&password=geheim&sslmode=disable"):
        with pytest.raises(SystemExit) as refused:
            run_cli(f"postgresql+psycopg://tafel@127.0.0.1:1/never_reached?{query}", "migrate")
        said = str(refused.value.code)
        assert said.startswith("Cannot use the database of UITSTROOM_DATABASE_URL")
        assert "geheim" not in said and "password=***" in said


def test_a_database_url_naming_a_connection_option_libpq_lacks_is_refused_at_start():
    # A mistyped option in the query (`ssl_mode` for `sslmode`, `PassWord`) passed the start and
    # every command (`serve`, `migrate`, ...) ended in a 111-line traceback from the first
    # connect, 'psycopg.ProgrammingError: invalid connection option "ssl_mode"'.
    for option in ("ssl_mode=require", "PassWord=geheim"):
        with pytest.raises(ValidationError) as refused:
            Settings(database_url=f"postgresql+psycopg://tafel:geheim@db/x?{option}")
        said = str(refused.value)
        name = option.split("=")[0]
        assert "UITSTROOM_DATABASE_URL" in said and f'"{name}"' in said
        assert "geheim" not in said
    good = "postgresql+psycopg://tafel:geheim@db/x?sslmode=require&application_name=tafel"
    assert Settings(database_url=good).database_url == good


@pytest.mark.parametrize(
    "url",
    [
        "",
        "nonsense",
        "mysql://user:pw@db/uitstroom",
        "postgresql+asyncpg://u@db/x",
        # In memory: `serve` migrated one database and served another, empty one, so it
        # stopped with "no such table ...; run `uitstroomtafel migrate` first" right after it
        # had; every other command, too, starts its own empty one.
        "sqlite://",
        "sqlite:///:memory:",
    ],
)
def test_a_database_url_the_service_cannot_use_is_refused_at_start(url):
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=url)
    assert "UITSTROOM_DATABASE_URL" in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "tafel.example.nl",
        "localhost:8000",
        "ftp://tafel.example.nl",
        "https://",
        "http://[::1",
        "https://tafel.example.nl/?bron=mail",
        "https://tafel.example.nl/#boven",
        "https://tafel.example.nl/uitstroom tafel",
        "https://tafel.example.nl/uitstroom>tafel",
        "https://beheer:geheim@tafel.example.nl",
        "https://tafel.example.nl:99999",
        "https://tafel.example.nl:0",
        # The path is the pages' root path (app.root_path): one that starts as an address of
        # the app itself cannot be told from it behind a proxy that strips it, and one that is
        # no plain segments is not the path a request arrives with.
        "https://gemeente.nl/tafels",
        "https://gemeente.nl/v1/",
        "https://gemeente.nl/static/tafel",
        "https://gemeente.nl/..",
        "https://gemeente.nl/uit%20stroom",
        "https://gemeente.nl//tafel",
        # ASCII escaped decodes into another path than the one written (%2F a separator), and
        # an escape that is no UTF-8 into none at all.
        "https://gemeente.nl/uit%2Fstroom",
        "https://gemeente.nl/%2E%2E",
        "https://gemeente.nl/geme%C3nte",
        "https://gemeente.nl/geme%E9nte",
    ],
)
def test_a_public_url_the_mails_links_cannot_start_with_is_refused_at_start(url):
    # The links in the mails are this address plus a path: without a scheme and host they lead
    # nowhere, and a query or fragment would swallow the path; taken silently, nobody noticed
    # until a person clicked one. A mail client's link ends at a space or `>` (which also ends
    # `List-Unsubscribe`, so its button led to the site's root), a port out of range leads
    # nowhere, and a user and password were handed to every person mailed.
    with pytest.raises(ValidationError) as refused:
        Settings(public_url=url)
    assert "UITSTROOM_PUBLIC_URL" in str(refused.value)


@pytest.mark.parametrize("url", ["https://tafel.gemeente.nl\n", " https://tafel.gemeente.nl"])
def test_a_public_url_with_white_space_around_it_is_refused_saying_so(url):
    # A line end from a secret's file was refused as no "http:// or https:// address ... (a
    # path is allowed; no query or fragment; in ASCII ...)", which it looked like to the eye.
    with pytest.raises(ValidationError) as refused:
        Settings(public_url=url)
    assert refused.value.errors()[0]["msg"] == (
        "Value error, UITSTROOM_PUBLIC_URL has white space or a line end at its start or end, "
        "which no link can carry; remove it"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://gemeénte.example.nl",
        "https://tafel.example.nl/gemeénte",
        "https://tafel.example.nl/ü",
    ],
)
def test_a_public_url_a_mail_header_cannot_carry_is_refused_at_start(url):
    # `List-Unsubscribe` (RFC 2369) is this address in angle brackets; a header of other than
    # ASCII was written as RFC 2047 encoded words (`=?utf-8?q?=3Chttps=3A//gemeente...?=`),
    # which a structured header may not hold, so no mail client found the address in it (no
    # button). Taken at start, nobody noticed. The message says how to write it in ASCII.
    with pytest.raises(ValidationError) as refused:
        Settings(public_url=url)
    assert "UITSTROOM_PUBLIC_URL" in str(refused.value) and "xn--" in str(refused.value)


@pytest.mark.parametrize(
    "url", ["https://xn--gemente-hya.example.nl", "https://tafel.example.nl/geme%C3%A9nte"]
)
def test_a_public_url_in_ascii_is_the_address_in_every_mails_list_unsubscribe(url):
    from email.generator import BytesGenerator
    from io import BytesIO

    from app.mail.compose import message

    base = Settings(public_url=url).public_url
    mail = message(
        message_id=str(uuid.uuid4()),
        kind="agenda_published",
        data={"path": "/vergaderingen/x", "table": "Tafel", "date": "2026-12-07"},
        recipient="a@example.nl",
        sender=Settings().mail_from,
        base_url=base,
    )
    flat = BytesIO()
    BytesGenerator(flat).flatten(mail, linesep="\r\n")
    assert f"List-Unsubscribe: <{url}/account/meldingen>\r\n".encode() in flat.getvalue()


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("http://localhost:8000", ""),
        ("https://tafel.example.nl/", ""),
        ("https://gemeente.nl/uitstroom/", "/uitstroom"),
        ("https://gemeente.nl/sociaal-domein/tafel", "/sociaal-domein/tafel"),
        ("https://tafel.example.nl/geme%C3%A9nte", "/geme%C3%A9nte"),
        ("https://tafel.example.nl/geme%c3%a9nte/", "/geme%C3%A9nte"),  # as links write it
    ],
)
def test_a_public_url_with_or_without_a_path_is_taken_as_given(url, root):
    assert Settings(public_url=url).public_url == url
    assert Settings(public_url=url).root_path == root  # where the pages are served


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("contact_email", "abc"),
        ("contact_email", "Uitstroomtafel <tafel@gemeente.nl>"),
        ("contact_email", "tafel@gemeente"),
        ("contact_url", "abc"),
        ("contact_url", "gemeente.nl/uitstroomtafel"),
        ("contact_url", "mailto:tafel@gemeente.nl"),
        ("forwarded_allow_ips", "abc"),
        ("forwarded_allow_ips", "proxy.internal"),
        ("forwarded_allow_ips", "10.0.0.1/8"),
        ("forwarded_allow_ips", "127.0.0.1,*"),
        ("forwarded_allow_ips", "[::1]"),
        ("forwarded_allow_ips", ""),
        ("mail_from", "abc"),
        ("mail_from", "Uitstroomtafel"),
        ("mail_from", "noreply@"),
        ("mail_from", "a@gemeente.nl, b@gemeente.nl"),
        ("mail_from", "noreply@gemeente.nl\nBcc: iedereen@example.org"),
        ("mail_from", ""),
        ("contact_name", ""),
        ("contact_name", "   "),
        ("smtp_host", "   "),
        ("smtp_host", "smtp.gemeente.nl "),
        ("smtp_host", "smtp gemeente.nl"),
        ("smtp_host", "smtp.gemeente.nl:587"),
        ("smtp_host", "smtp://smtp.gemeente.nl"),
        ("smtp_host", "[2001:db8::25]"),
        ("smtp_host", "smtp..gemeente.nl"),
        ("smtp_host", "smtp.gemeente.nl\n"),
    ],
)
def test_a_contact_proxy_or_sender_address_that_is_none_is_refused_naming_its_variable(
    setting, value
):
    # Taken unchecked: the served contract named 'abc' as its contact's e-mail address or web
    # page; a proxy list of 'abc' (or a host name, or a network with host bits) trusted no
    # proxy without a word, so the sign-in lock-out counted the proxy's address for everyone;
    # a From of 'abc' had every mail refused by the SMTP server, said only in the log. So did
    # an SMTP host with a space, a port, a scheme or brackets (every attempt against a name no
    # resolver knows), and a blank contact name named nobody in the contract's contact.
    with pytest.raises(ValidationError) as refused:
        Settings(**{setting: value})
    said = str(refused.value)
    assert f"UITSTROOM_{setting.upper()} must be" in said
    assert "Input should" not in said


@pytest.mark.parametrize(
    ("setting", "value", "taken"),
    [
        ("contact_email", "uitstroomtafel@gemeente.nl", None),
        ("contact_url", "https://gemeente.nl/uitstroomtafel?taal=nl", None),
        ("forwarded_allow_ips", "127.0.0.1", None),
        ("forwarded_allow_ips", " 10.0.0.0/8, ::1 ,192.0.2.7", "10.0.0.0/8,::1,192.0.2.7"),
        ("forwarded_allow_ips", "*", None),
        ("mail_from", "Uitstroomtafel Eemland <noreply@gemeente.nl>", None),
        ("mail_from", "noreply@gemeente.nl", None),
        ("mail_from", '"Tafel, Eemland" <noreply@gemeente.nl>', None),
        ("contact_name", "Gemeente Amersfoort, team Uitstroom", None),
        ("smtp_host", "smtp.gemeente.nl", None),
        ("smtp_host", "smtp.gemeente.nl.", None),
        ("smtp_host", "mail_relay", None),  # a docker compose service's name
        ("smtp_host", "192.0.2.25", None),
        ("smtp_host", "2001:db8::25", None),
        ("smtp_host", "smtp.gemeénte.nl", None),  # the resolver writes it in its xn-- form
    ],
)
def test_a_contact_proxy_or_sender_address_is_taken(setting, value, taken):
    assert getattr(Settings(**{setting: value}), setting) == (taken or value)


@pytest.mark.parametrize("setting", ["smtp_username", "smtp_password"])
def test_an_smtp_sign_in_smtplib_cannot_send_is_refused_at_start(setting):
    # smtplib sends AUTH PLAIN and LOGIN in ASCII only: a name or password with an accent
    # raised UnicodeEncodeError in every connection of the mail worker, which no mail survived
    # and only the log told; refused at start, without echoing the password.
    with pytest.raises(ValidationError) as refused:
        Settings(**{"smtp_username": "tafel", setting: "geheimé-wachtwoord"})
    said = str(refused.value)
    assert f"UITSTROOM_{setting.upper()} must be" in said and "ASCII" in said
    assert "geheim" not in said


def test_serve_refuses_a_forwarded_allow_ips_argument_that_is_no_address(tmp_path, capsys):
    database = tmp_path / "x.db"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{database}", "serve", "--forwarded-allow-ips", "proxy.internal")
    assert refused.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--forwarded-allow-ips" in error and "'proxy.internal' is not one" in error
    assert not database.exists()


def test_migrate_with_a_malformed_database_url_says_so_in_one_line(tmp_path):
    env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": "uitstroom.db"})
    result = subprocess.run(
        cli_command("migrate"), env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        "Invalid configuration: UITSTROOM_DATABASE_URL is not a database URL"
    )
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        (
            {"UITSTROOM_WORKERS": "0"},
            # It said pydantic's "UITSTROOM_WORKERS: Input should be greater than or equal to 1".
            "Invalid configuration: UITSTROOM_WORKERS must be a whole number from 1 to 64, such "
            "as 1 (its default)",
        ),
        (
            {"UITSTROOM_WORKERS": "1_0"},
            "Invalid configuration: UITSTROOM_WORKERS must be a whole number written in the "
            "digits 0-9 alone, such as 1 (no underscores, plus sign, spaces, decimal point, "
            "exponent or other digits)",
        ),
        (
            {"UITSTROOM_SESSION_COOKIE_SECURE": "nee"},
            "Invalid configuration: UITSTROOM_SESSION_COOKIE_SECURE must be true or false (or 1 "
            "or 0, yes or no, on or off)",
        ),
        (
            {"UITSTROOM_MAIL_FROM": "abc"},
            "Invalid configuration: UITSTROOM_MAIL_FROM must be one e-mail address, with or "
            "without a name, such as 'Uitstroomtafel <noreply@gemeente.nl>': the mails are "
            "sent from it",
        ),
        (
            {
                "UITSTROOM_PUBLIC_URL": "https://tafel.example.nl",
                "UITSTROOM_SESSION_COOKIE_SECURE": "false",
            },
            "Invalid configuration: UITSTROOM_SESSION_COOKIE_SECURE=false is only for "
            "plain-http localhost, but UITSTROOM_PUBLIC_URL is an https:// address: the session "
            "cookie would also be sent over plain http. Leave it unset (true), also behind a "
            "proxy that ends TLS",
        ),
        (
            {"UITSTROOM_SMTP_USERNAME": "tafel", "UITSTROOM_SMTP_STARTTLS": "false"},
            "Invalid configuration: UITSTROOM_SMTP_USERNAME needs UITSTROOM_SMTP_STARTTLS: the "
            "credentials would otherwise be sent in clear text",
        ),
    ],
)
def test_a_wrong_setting_is_named_by_the_variable_the_operator_set(tmp_path, variables, said):
    # The operator set UITSTROOM_WORKERS, not `workers` (which reads like `serve --workers`);
    # a rule over several settings has no field and said "Invalid configuration: : Value error".
    env = clock_env({**os.environ, **variables})
    result = subprocess.run(
        cli_command("list-organisations"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == said


@pytest.mark.parametrize(
    ("command", "ending"),
    [
        (["serve", "--port", "0"], ". Nothing was started."),
        (["migrate"], "."),
        (["list-organisations"], ""),
    ],
)
def test_a_wrong_setting_ends_as_the_commands_other_refusals(tmp_path, command, ending):
    """`serve` and `migrate` end every refusal with a full stop, `serve`'s with "Nothing was
    started." (`refusal_line`); a setting refused at start ended "... (its default)" with
    neither, though a database they could not use said both. Other commands keep their line."""
    for variables, said in (
        (
            {"UITSTROOM_WORKERS": "0"},
            "Invalid configuration: UITSTROOM_WORKERS must be a whole number from 1 to 64, such "
            "as 1 (its default)",
        ),
        (
            {"UITSTROOM_CONTACT_NAME": b"Caf\xe9"},  # `.env` in Latin-1
            f"Invalid configuration: cannot read {tmp_path / '.env'} as utf-8 text (byte 0xe9 "
            "at 26); save it as utf-8",
        ),
    ):
        env = clock_env({**os.environ})
        dotenv = tmp_path / ".env"
        dotenv.unlink(missing_ok=True)
        for name, value in variables.items():
            if isinstance(value, bytes):
                dotenv.write_bytes(f"{name}=".encode() + value + b"\n")
            else:
                env[name] = value
        result = subprocess.run(
            cli_command(*command), env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == said + ending


# Misspelt names are written in two parts here, so that the scan of the repository's names
# (test_every_other_variable_of_the_repository_is_known_to_the_warning) does not find them.
MISSPELT_URL = "UITSTROOM_" + "DATABSE_URL"
MISSPELT_WORKER = "UITSTROOM_" + "MAIL_WROKER"


def test_a_misspelt_variable_is_warned_about_with_the_closest_setting_and_not_refused(tmp_path):
    # A misspelt database URL (DATABSE_URL) was ignored without a word: the service ran on its
    # embedded SQLite while the operator believed it on PostgreSQL. A warning, not a refusal:
    # an unknown variable breaks nothing that worked. Its value (a password here) is not shown.
    (tmp_path / ".env").write_text(f"{MISSPELT_WORKER}=false\nOTHER_TOOL=1\n")
    env = clock_env(
        {
            **os.environ,
            "UITSTROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'tafel.db'}",
            MISSPELT_URL: "postgresql+psycopg://tafel:geheim@db/tafel",
        }
    )
    result = subprocess.run(
        cli_command("migrate"), env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Database migrated from none (a new database) to ")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING: ")]
    assert warnings == [
        f"WARNING: {MISSPELT_URL} (in the environment) is not a setting of uitstroomtafel and is "
        "ignored; did you mean UITSTROOM_DATABASE_URL?",
        f"WARNING: {MISSPELT_WORKER} (in .env) is not a setting of uitstroomtafel and is "
        "ignored; did you mean UITSTROOM_MAIL_WORKER?",
    ]
    assert "geheim" not in result.stderr


def test_a_misspelt_variable_is_warned_about_also_when_the_configuration_is_refused(tmp_path):
    # The misspelling is often why a setting is refused: a username with its password's name
    # misspelt was refused as "set without UITSTROOM_SMTP_PASSWORD", and the warning naming
    # the misspelt variable was not printed, as the settings were read before the warnings.
    misspelt = "UITSTROOM_" + "SMTP_PASWORD"
    result = _list_organisations(tmp_path, {"UITSTROOM_SMTP_USERNAME": "tafel", misspelt: "geheim"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"WARNING: {misspelt} (in the environment) is not a setting of uitstroomtafel and is "
        "ignored; did you mean UITSTROOM_SMTP_PASSWORD?",
        "Invalid configuration: UITSTROOM_SMTP_USERNAME is set without UITSTROOM_SMTP_PASSWORD: "
        "the SMTP sign-in takes no empty password; set both, or neither to send without "
        "signing in",
    ]
    assert "geheim" not in result.stderr


def test_only_variables_with_the_prefix_that_are_no_setting_are_warned_about():
    environ = {
        "UITSTROOM_WORKERS": "2",
        "uitstroom_mail_worker": "false",  # pydantic-settings reads it in any case
        "UITSTROOM_TEST_TODAY": "2031-03-01",  # the test suite's
        "PGPASSWORD": "geheim",
        "UITSTROOM_" + "QUUX": "1",
    }
    assert unknown_variable_warnings(environ, {}) == [
        "WARNING: UITSTROOM_" + "QUUX (in the environment) is not a setting of uitstroomtafel "
        "and is ignored; the settings are in the README"
    ]


def test_a_variable_for_what_serve_takes_as_an_option_is_pointed_at_the_option():
    # The prefix and `PORT=8080` (as `UITSTROOM_WORKERS` is `--workers`) were ignored with "did
    # you mean UITSTROOM_PG_PORT?", the test suite's PostgreSQL port, and the prefix and `HOST`
    # with "did you mean UITSTROOM_SMTP_HOST?": the operator set those, and the service went on
    # serving on 127.0.0.1:8000.
    said = "(in the environment) is not a setting of uitstroomtafel and is ignored;"
    environ = {"UITSTROOM_" + name: "1" for name in ("PORT", "HOST", "LOG_LEVEL", "ROOT_PATH")}
    assert unknown_variable_warnings(environ, {}) == [
        f"WARNING: UITSTROOM_{name} {said} {hint}"
        for name, hint in (
            ("HOST", "the address to listen on is `serve --host`"),
            ("LOG_LEVEL", "the log level is `serve --log-level`"),
            ("PORT", "the port is `serve --port`"),
            (
                "ROOT_PATH",
                "the root path is the path of UITSTROOM_PUBLIC_URL (https://gemeente.nl/tafel)",
            ),
        )
    ]
    # A part of the database on its own was answered with a variable of the test suite's
    # ("did you mean UITSTROOM_TEST_POSTGRESQL_URL?", "... UITSTROOM_PG_PORT?") or the mail
    # server's (UITSTROOM_SMTP_HOST), none of which moves the service off its SQLite file.
    for name in ("POSTGRESQL_URL", "POSTGRES_URL", "DB_HOST", "DB_PORT", "PG_HOST", "PGPORT"):
        [warning] = unknown_variable_warnings({"UITSTROOM_" + name: "x"}, {})
        assert warning == (
            f"WARNING: UITSTROOM_{name} {said} the database is UITSTROOM_DATABASE_URL, whole "
            "(postgresql+psycopg://user@host:5432/name; the password in PGPASSWORD or the URL)"
        )
    # A misspelt setting is still named, the database's too.
    for name, meant in (
        ("DATABSE_URL", "DATABASE_URL"),
        ("DATABASE_URI", "DATABASE_URL"),
        ("DB_RETRY_ATTEMPT", "DB_RETRY_ATTEMPTS"),
    ):
        [warning] = unknown_variable_warnings({"UITSTROOM_" + name: "x"}, {})
        assert warning.endswith(f"did you mean UITSTROOM_{meant}?")


def test_a_dotenv_line_written_with_a_colon_is_warned_about_without_its_value():
    # `UITSTROOM_ADMIN_KEY:value` (the compose file's colon) is one name to python-dotenv, value
    # and all: the warning printed the operator key. Only the name before the colon is shown.
    key = "k3y-" + "x" * 40
    dotenv = {f"UITSTROOM_ADMIN_KEY:{key}": None, f"UITSTROOM_SMTP_PASSWORD;{key}": None}
    warnings = unknown_variable_warnings({}, dotenv)
    assert not any(key in warning for warning in warnings)
    assert warnings == [
        f"WARNING: a variable whose name starts {name} (in .env) has a character no name has "
        "after that (the rest is not shown: it may be a value) and is ignored; write "
        "NAME=value"
        for name in ("UITSTROOM_ADMIN_KEY", "UITSTROOM_SMTP_PASSWORD")
    ]


def test_a_dotenv_line_that_lost_its_equals_sign_is_warned_about_without_its_value():
    # `UITSTROOM_ADMIN_KEYvalue` (the `=` lost) is a valid name of its own: the warning printed
    # it whole, the operator key with it. Only the setting's name it starts with is shown.
    key = "K3Y" + "x" * 40
    warnings = unknown_variable_warnings({f"UITSTROOM_ADMIN_KEY{key}": "1"}, {})
    assert len(warnings) == 1 and key not in warnings[0]
    assert "UITSTROOM_ADMIN_KEY and goes on" in warnings[0]
    assert "did you mean UITSTROOM_ADMIN_KEY=value?" in warnings[0]


def test_every_other_variable_of_the_repository_is_known_to_the_warning():
    # A variable of the tests or tools (UITSTROOM_TEST_TODAY) warned about at every start of
    # the suite's servers would teach everyone to ignore the warning.
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    used = set()
    for name in files:
        path = ROOT / name
        if name.endswith(".md") or not path.is_file():  # prose names misspellings and globs
            continue
        used |= set(re.findall(r"UITSTROOM_[A-Z0-9_]*[A-Z0-9]", path.read_text(errors="replace")))
    settings = {"UITSTROOM_" + name.upper() for name in Settings.model_fields}
    assert sorted(used - settings - OTHER_VARIABLES) == []


def _list_organisations(tmp_path, variables: dict[str, str | bytes]):  # type: ignore[no-untyped-def]
    env = clock_env({**os.environ, **variables})  # type: ignore[dict-item]
    return subprocess.run(
        cli_command("list-organisations"),
        env=env,  # type: ignore[arg-type]  # bytes values are passed on as they are (POSIX)
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("UITSTROOM_CONTACT_NAME", b"Gemeente Caf\xe9"),  # written in Latin-1
        ("UITSTROOM_CONTACT_EMAIL", b"caf\xe9@gemeente.nl"),
        ("UITSTROOM_ADMIN_KEY", b"k3Y9xQ2mZ7vB4nL8wR1tF6hJ0cD5sA-\xe9_x"),
    ],
)
def test_a_setting_that_is_no_utf8_text_is_refused_at_start_naming_it(tmp_path, setting, value):
    # A shell script or unit file saved in Latin-1 hands the process bytes that Python keeps
    # as lone surrogates: taken at start, every GET /v1/openapi.json answered 500 (the contact
    # cannot be encoded), and such an operator key matched no Authorization header.
    result = _list_organisations(tmp_path, {setting: value})
    assert result.returncode == 1
    said = result.stderr.strip()
    assert said.startswith(f"Invalid configuration: {setting} must be UTF-8 text"), said
    assert "Traceback" not in said and "\n" not in said and "k3Y9" not in said


def test_a_dotenv_file_that_is_no_utf8_text_is_refused_in_one_line(tmp_path):
    # Saved in Latin-1 (or Windows-1252) by an editor, `.env` ended start-up in a
    # UnicodeDecodeError traceback, naming neither the file nor what to do.
    (tmp_path / ".env").write_bytes(b"UITSTROOM_CONTACT_NAME=Gemeente Caf\xe9\n")
    result = _list_organisations(tmp_path, {})
    assert result.returncode == 1
    said = result.stderr.strip()
    assert said.startswith(f"Invalid configuration: cannot read {tmp_path / '.env'} as"), said
    assert "Traceback" not in said and "\n" not in said


def test_ctrl_c_during_a_migration_ends_in_one_line_and_the_next_run_finishes(tmp_path, capsys):
    # Ctrl-C while `migrate` ran its migrations ended in a
    # traceback of 50 to 90 lines through Alembic, which read as a crash of a broken database.
    # Nothing of the interrupted migration is kept half: the next run finishes.
    url = f"sqlite:///{tmp_path / 'tafel.db'}"
    real = command.upgrade

    def interrupted(config, revision):  # type: ignore[no-untyped-def]
        real(config, "aa3aa07ec298")  # the first two migrations ran, then Ctrl-C
        raise KeyboardInterrupt

    with patch("app.migrate.command.upgrade", interrupted), pytest.raises(SystemExit) as ended:
        try:
            run_cli(url, "migrate")
        except KeyboardInterrupt:  # would stop the test run itself
            pytest.fail("Ctrl-C during `migrate` ended in a traceback")
    assert ended.value.code == 130
    assert capsys.readouterr().err == (
        "Stopped by Ctrl-C before `uitstroomtafel migrate` had finished: what it had not "
        "committed was rolled back. Run it again to finish.\n"
    )
    assert run_cli(url, "migrate").startswith(
        "Database migrated from aa3aa07ec298 to the latest migration, "
    )
    assert run_cli(url, "migrate").strip() == "Database is at the latest migration."


def test_ctrl_c_to_a_server_that_was_serving_says_nothing_of_not_serving(tmp_path, capsys):
    # uvicorn stops on Ctrl-C, says so ("Shutting down", "Finished server process"), and then
    # raises the signal again: a server that had served for hours ended with "Stopped by Ctrl-C
    # before `uitstroomtafel serve` was serving: what it had not committed was rolled back".
    def served_then_stopped(server, sockets=None):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # as uvicorn re-raises the SIGINT it stopped on

    url = f"sqlite:///{tmp_path / 'tafel.db'}"
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": True})
    with (
        patch("uvicorn.Server.run", served_then_stopped),
        pytest.raises(SystemExit) as ended,
    ):
        main(["serve", "--port", "0"], settings=settings)
    assert ended.value.code == 130
    assert capsys.readouterr().err == ""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_swallowed_where_python_ignores_exceptions_still_stops_serve(tmp_path, capsys):
    # Ctrl-C 0.7 s after `serve` started printed "Exception ignored in: <function
    # _collection_gced ...> KeyboardInterrupt" and the server went on to serve: Python drops an
    # exception raised in a garbage collector's callback (SQLAlchemy's, while migrating), so
    # the Ctrl-C was lost. The interrupt is remembered: serve stops before it serves.
    def lost_in_a_callback() -> None:
        class Collected:
            pass

        gone = Collected()
        watch = weakref.ref(gone, lambda _: signal.raise_signal(signal.SIGINT))
        del gone  # the callback runs here; its KeyboardInterrupt is printed and dropped
        assert watch() is None

    real = cli._migrate

    def migrate_then_ctrl_c(settings):  # type: ignore[no-untyped-def]
        done = real(settings)
        lost_in_a_callback()
        return done

    served = Mock()
    url = f"sqlite:///{tmp_path / 'tafel.db'}"
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": True})
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a shell
    try:
        with (
            patch("app.cli._migrate", migrate_then_ctrl_c),
            patch("uvicorn.Server.run", served),
            pytest.raises(SystemExit) as ended,
        ):
            main(["serve", "--port", "0"], settings=settings)
    finally:
        signal.signal(signal.SIGINT, before)
    served.assert_not_called()
    assert ended.value.code == 130
    assert capsys.readouterr().err.endswith(
        "Stopped by Ctrl-C before `uitstroomtafel serve` was serving: what it had not "
        "committed was rolled back, and the next start carries on.\n"
    )


def test_serve_names_an_ipv6_address_it_listens_on_in_brackets():
    # `serve --host ::1` said "listening on ::1:8000", where the port reads as part of the
    # address (its own URL beside it wrote http://[::1]:8000).
    assert cli.where("::1", 8000).splitlines()[0] == (
        "Serving on http://[::1]:8000 (listening on [::1]:8000)"
    )
    assert cli.where("127.0.0.1", 8000).splitlines()[0] == (
        "Serving on http://127.0.0.1:8000 (listening on 127.0.0.1:8000)"
    )


def test_serve_that_cannot_have_its_address_says_what_to_change():
    # "Cannot serve on 127.0.0.1:8000: Address already in use. Nothing was started." named the
    # failure, not what to do; a --host of another machine or no machine alike.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as refused:
            bind("127.0.0.1", port)
    # "Nothing was started." ends it, as every refusal of `serve` (it stood before the change).
    assert refused.value.code == (
        f"Cannot serve on 127.0.0.1:{port}: Address already in use. Another process listens "
        "there (a `serve` still running?): stop it, or choose another --port. Nothing was started."
    )
    with pytest.raises(SystemExit) as refused:
        bind("192.0.2.1", 0)  # TEST-NET-1: no address of this machine
    assert str(refused.value.code).endswith(
        ". This machine has no such address: give --host one of its own (127.0.0.1, or 0.0.0.0 "
        "for all). Nothing was started."
    )
    with pytest.raises(SystemExit) as refused:
        bind("no-such-host.invalid", 0)
    assert str(refused.value.code).endswith(
        ". --host takes an address of this machine, or a name of one (0.0.0.0: all). Nothing was "
        "started."
    )


def test_a_sqlite_file_in_a_read_only_folder_is_refused_naming_the_folder(tmp_path):
    # A data folder mounted read-only (or owned by another user): every command said "unable to
    # open database file" of a file that is there, and nothing of what to change. SQLite writes
    # its journal (WAL) beside the file, so the folder must be writable, which the line says.
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'tafel.db'}"
    run_cli(url, "migrate")
    failure = OperationalError(
        "PRAGMA journal_mode=WAL", {}, Exception("unable to open database file")
    )
    assert database_failure(url, failure) == (
        f"Cannot use the database of UITSTROOM_DATABASE_URL ({url}): unable to open database file"
    )
    with patch("app.cli.os.access", lambda path, mode: Path(path) != folder):
        assert database_failure(url, failure) == (
            f"Cannot use the database of UITSTROOM_DATABASE_URL ({url}): unable to open database "
            f"file: the folder {folder} is read-only to this user, and SQLite writes its journal "
            "beside the file; make the folder writable or choose another"
        )


def test_a_sqlite_path_through_a_file_or_naming_a_folder_says_which(tmp_path):
    # A path whose folder is a file (`data` a file, not a folder) said "there is no folder
    # .../data; create it", which cannot be done (the name is taken); a path naming a folder
    # (`sqlite:///data`, the file's name left out) said "unable to open database file" alone.
    taken = tmp_path / "data"
    taken.write_text("not a folder")
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{taken / 'uitstroom.db'}", "migrate")
    assert str(refused.value.code).endswith(
        f"unable to open database file: {taken} is a file, not a folder; correct the path."
    ), refused.value.code
    folder = tmp_path / "folder.db"
    folder.mkdir()
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{folder}", "migrate")
    assert str(refused.value.code).endswith(
        f"unable to open database file: {folder} is a folder; name the database file in it, "
        f"such as {folder / 'uitstroomtafel.db'}."
    ), refused.value.code


@pytest.mark.parametrize(
    "command", [("list-organisations",), ("anonymise",), ("serve", "--port", "0")]
)
def test_a_sqlite_path_through_a_file_is_not_told_to_migrate_first(tmp_path, command):
    # A command that does not migrate (and `serve` with UITSTROOM_MIGRATE_ON_START=false) said
    # "there is no file .../data/uitstroom.db ...; run `uitstroomtafel migrate` first" where
    # `data` is a file or no folder is there: `migrate` then failed on the path, which was
    # what to change.
    taken = tmp_path / "data"
    taken.write_text("not a folder")
    url = f"sqlite:///{taken / 'uitstroom.db'}"
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": False})
    ending = ". Nothing was started." if command[0] == "serve" else ""  # a refusal of `serve`
    with pytest.raises(SystemExit) as refused:
        main(list(command), settings=settings)
    assert str(refused.value.code) == (
        f"Cannot use the database of UITSTROOM_DATABASE_URL ({url}): {taken} is a file, not a "
        f"folder; correct the path{ending}"
    )
    assert taken.read_text() == "not a folder"
    missing = tmp_path / "no-such-folder"  # `migrate` does not make it either
    url = f"sqlite:///{missing / 'uitstroom.db'}"
    settings = settings.model_copy(update={"database_url": url})
    with pytest.raises(SystemExit) as refused:
        main(list(command), settings=settings)
    assert str(refused.value.code) == (
        f"Cannot use the database of UITSTROOM_DATABASE_URL ({url}): there is no folder "
        f"{missing}; create it or correct the path{ending}"
    )


def test_a_database_that_cannot_be_opened_or_reached_is_named_in_one_line(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-directory" / "uitstroom.db"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{missing}", "migrate")
    assert str(refused.value.code).startswith("Cannot use the database of UITSTROOM_DATABASE_URL")
    assert "unable to open database file" in str(refused.value.code)
    # "unable to open database file" alone named nothing to change: the folder is named.
    assert str(refused.value.code).endswith(
        f"unable to open database file: there is no folder {missing.parent}; create it or "
        "correct the path."
    )
    monkeypatch.chdir(tmp_path)
    relative = "data/uitstroom.db"  # read from the current folder, which the line says
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{relative}", "migrate")
    assert str(refused.value.code).endswith(
        f": there is no folder {tmp_path / 'data'} (a relative path is read from the "
        "current folder); create it or correct the path."
    )
    unreachable = "postgresql+psycopg://uitstroom:geheim-wachtwoord@127.0.0.1:1/uitstroom"
    with pytest.raises(SystemExit) as refused:
        run_cli(unreachable, "list-organisations")
    said = str(refused.value.code)
    assert "127.0.0.1:1" in said and "geheim-wachtwoord" not in said
    assert "\n" not in said


def test_migrate_refuses_a_database_a_newer_version_migrated_and_changes_nothing(databases):
    url = databases.migrated_url()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    try:
        with pytest.raises(SystemExit) as refused:
            run_cli(url, "migrate")
        assert "0099_from_the_future" in str(refused.value.code)
        assert "newer version" in str(refused.value.code)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
                ("0099_from_the_future",)
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ("create-key", "not-an-id", "label"),
        ("revoke-key", "12345"),
        ("create-person", "gemeente", "a@example.nl", "A"),
    ],
    ids=["create-key", "revoke-key", "create-person"],
)
def test_an_id_that_is_not_a_uuid_is_a_usage_error(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{tmp_path / 'x.db'}", *args)
    assert refused.value.code == 2
    assert "not an id (a UUID)" in capsys.readouterr().err


def test_create_organisation_refuses_a_duplicate_or_empty_name_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'orgs.db'}"
    run_cli(url, "migrate")
    uuid.UUID(run_cli(url, "create-organisation", "Gemeente Zeewolde", "municipality").strip())
    with pytest.raises(SystemExit) as refused:
        run_cli(url, "create-organisation", "Gemeente Zeewolde", "municipality")
    assert "exists already" in str(refused.value.code)
    with pytest.raises(SystemExit) as refused:
        run_cli(url, "create-organisation", "", "municipality")
    assert str(refused.value.code).startswith("Invalid organisation: name:")


@pytest.mark.parametrize(
    "label", ["", "   ", "x" * 201, "a\x01b"], ids=["empty", "blank", "long", "control"]
)
def test_create_key_refuses_a_label_the_api_refuses_in_one_line(databases, label):
    # The API refuses such a label (400); the command stored it (on PostgreSQL a label over
    # 200 characters was a traceback from the column's length).
    url = databases.migrated_url()
    org = run_cli(url, "create-organisation", "Gemeente Zeewolde", "municipality").strip()
    with pytest.raises(SystemExit) as refused:
        run_cli(url, "create-key", org, label)
    said = str(refused.value.code)
    assert said.startswith("Invalid key: label:") and "\n" not in said
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM api_keys")).scalar_one() == 0
    finally:
        engine.dispose()


def test_revoking_a_key_revoked_already_says_so_and_when(databases):
    """A second `revoke-key` printed "revoked" again, as if it had revoked the key then: it says
    the key was revoked already, at the time of the first revocation, which it keeps; nothing
    was to be done, so it exits 0 (as `migrate` at the latest migration)."""
    url = databases.migrated_url()
    org = run_cli(url, "create-organisation", "Gemeente Zeewolde", "municipality").strip()
    key_id = run_cli(url, "create-key", org, "twice").split()[2]
    assert run_cli(url, "revoke-key", key_id) == f"revoked {key_id}\n"
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            first = session.get(ApiKey, uuid.UUID(key_id))
            assert first is not None and first.revoked_at is not None
            at = first.revoked_at.strftime("%Y-%m-%d %H:%M:%S")
    finally:
        engine.dispose()
    again = run_cli(url, "revoke-key", key_id)
    assert again == f"API key {key_id} was already revoked at {at} UTC; nothing changed.\n"


def test_openapi_into_a_missing_directory_says_it_cannot_write(tmp_path):
    target = tmp_path / "no-such-directory" / "openapi.json"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{tmp_path / 'x.db'}", "openapi", "--output", str(target))
    assert str(refused.value.code) == f"Cannot write {target}: No such file or directory"


@pytest.mark.parametrize(
    "args",
    [
        ("--port", "70000"),
        ("--port", "-1"),
        ("--port", "http"),
        ("--port", "²"),
        ("--log-level", "loud"),
        # `--host "$HOST"` with the variable unset: it listened on every interface (the
        # default is loopback) and printed, and put in the mails' links, http://:8000.
        ("--host", ""),
        ("--host", "  "),
    ],
    ids=[
        "port-too-high",
        "port-negative",
        "port-name",
        "port-superscript",
        "log-level",
        "host-empty",
        "host-blank",
    ],
)
def test_serve_refuses_a_bad_port_or_log_level_before_touching_the_database(tmp_path, capsys, args):
    database = tmp_path / "x.db"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{database}", "serve", "--demo", *args)
    assert refused.value.code == 2
    assert args[0] in capsys.readouterr().err
    assert not database.exists()


@pytest.mark.parametrize("workers", ["0", "65", "two", "1.5"])
def test_serve_refuses_a_worker_count_naming_the_range_in_one_short_line(tmp_path, capsys, workers):
    """argparse's `choices=range(1, 65)` answered `--workers 0` by listing all 64 numbers."""
    database = tmp_path / "x.db"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{database}", "serve", "--workers", workers)
    assert refused.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--workers" in error and "from 1 to 64" in error and len(error) < 120, error
    # A number out of range was "not a number of workers"; now every refusal says the rule.
    assert error.endswith(f"must be a whole number from 1 to 64, not {workers!r}"), error
    assert not database.exists()


PORT_RULE = "a whole number from 0 to 65535 (0: one the system picks)"


@pytest.mark.parametrize(
    ("option", "given", "rule"),
    [
        *(("--port", given, PORT_RULE) for given in ("-1", "70000", "http", "\u00b2", "1.5", "")),
        *(("--workers", given, "a whole number from 1 to 64") for given in ("-1", "65", "2x")),
    ],
)
def test_serve_refuses_every_bad_number_of_an_option_in_one_plain_sentence(
    capsys, option, given, rule
):
    """`--port -1` said "must be a whole number from 0 to 65535 in the digits 0-9, not '-1'"
    and `--port 70000` "must be ... (0: one the system picks), not 70000": two rules, one in
    words an operator does not use, for one option. Every value refused now gets the rule and
    what was given, quoted (white space seen), as for --workers."""
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["serve", option, given])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"uitstroomtafel serve: error: argument {option}: must be {rule}, not {given!r}"
    )


@pytest.mark.parametrize(
    ("option", "rule"), [("--port", "from 0 to 65535"), ("--workers", "from 1 to 64")]
)
def test_serve_refuses_a_number_of_thousands_of_digits_naming_the_range(
    tmp_path, capsys, option, rule
):
    """5000 nines (a key pasted after the option) were refused in argparse's words, 'invalid
    a_port value: '999...'' with all 5000 digits: Python reads no whole number of more than
    4300 digits, and argparse took that ValueError for a value of the wrong type, so the rule
    and the function's name stood in its place. Out of range, as UITSTROOM_WORKERS says it."""
    database = tmp_path / "x.db"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{database}", "serve", option, "9" * 5000)
    assert refused.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {option}: must be a whole number {rule}" in error, error[:300]
    assert len(error) < 160, error[:300]
    assert not database.exists()


@pytest.mark.parametrize("given", [" 0", "0 ", "\t0\n"])
def test_serve_port_takes_white_space_around_it_as_workers_does(tmp_path, given):
    """`serve --port ' 8272'` (a script's `--port "$PORT"` with a space) was refused as "not a
    port" while `--workers ' 2'` was taken: white space around a number is ignored on the
    command line as in the environment (README, Configuration)."""
    database = tmp_path / "x.db"
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{database}"})
    with pytest.raises(SystemExit) as stopped:  # past argparse: 2 workers refused on SQLite
        main(["serve", "--port", given, "--workers", "2"], settings=settings)
    assert str(stopped.value.code).startswith("Cannot serve with 2 workers on sqlite")
    assert not database.exists()


@pytest.mark.parametrize("given", [" 127.0.0.1", "127.0.0.1 ", "\tlocalhost\n"])
def test_serve_host_takes_white_space_around_it_as_port_does(given):
    """`serve --host ' 127.0.0.1'` (a script's `--host "$HOST"` with a space) was refused with
    'Cannot serve on  127.0.0.1:8000: Name or service not known', the space hard to see, while
    `--port ' 8000'` is taken: no address or host name holds white space."""
    args = build_parser().parse_args(["serve", "--host", given])
    assert args.host == given.strip()


@pytest.mark.parametrize("given", ["a b", "127.0.0.1 8000", " local\thost "])
def test_serve_host_with_white_space_inside_is_a_usage_error(given, capsys):
    """`serve --host 'a b'` looked the name up and exited 1 ("Name or service not known") where
    `--host ' '` is refused with the usage (exit status 2): no address or name holds white
    space, inside it no more than around it."""
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["serve", "--host", given])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"uitstroomtafel serve: error: argument --host: not a host: {given!r} (no address or "
        "name holds white space)"
    )


@pytest.mark.parametrize(
    "given", [" 2", "2 ", "\t3\n", "2", "+2", "2x", "1_0", "\u0663", "0", "65", "", " "]
)
def test_serve_workers_on_the_command_line_is_read_as_uitstroom_workers_is(tmp_path, given):
    """`serve --workers ' 2'` (a script's `--workers "$N"` with a space) was refused as "not a
    number of workers", while UITSTROOM_WORKERS=' 2' started two workers: the environment
    ignores white space around a number (README, Configuration). Both now take the same
    values, spaces around ignored, and refuse the same ones, each naming the rule."""
    try:
        from_environment: int | None = Settings(workers=given).workers
    except ValidationError as refused:
        from_environment = None
        assert configuration_mistake(refused).startswith("UITSTROOM_WORKERS"), refused
    database = tmp_path / "x.db"
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{database}"})
    with pytest.raises(SystemExit) as stopped:  # on SQLite: 2 or more workers refused at once
        main(["serve", "--port", "0", "--workers", given], settings=settings)
    said = str(stopped.value.code)
    if from_environment is None:
        assert stopped.value.code == 2, said  # argparse: usage and the reason
    else:
        assert said.startswith(f"Cannot serve with {from_environment} workers on sqlite"), said
    assert not database.exists()


@pytest.mark.parametrize(
    "setting",
    [
        {"idempotency_ttl_hours": 0},
        {"idempotency_ttl_hours": -1},
        {"max_body_bytes": -1},
        {"max_body_bytes": 0},
        {"key_last_used_resolution_seconds": -5},
        {"max_body_bytes": 1024 * 1024, "import_max_bytes": 5 * 1024 * 1024},
    ],
    ids=[
        "ttl-zero",
        "ttl-negative",
        "body-negative",
        "body-zero",
        "resolution",
        "import-over-body",
    ],
)
def test_a_setting_that_would_break_requests_is_refused_at_start(setting):
    with pytest.raises(ValidationError):
        Settings(**setting)


@pytest.mark.parametrize(
    "setting", [name for name in Settings.model_fields if name.startswith("rate_limit_")]
)
def test_a_rate_limit_no_bucket_can_hold_is_refused_at_start(setting):
    # A bucket counts its tokens as a float: a budget of 400 digits (an operator's "no limit")
    # was taken at start and answered every request of its class with 500 (OverflowError).
    with pytest.raises(ValidationError) as refused:
        Settings(**{setting: 10**400})
    assert setting in str(refused.value)
    assert getattr(Settings(**{setting: 10**9}), setting) == 10**9


@pytest.mark.parametrize(
    "setting", ["webhook_poll_seconds", "mail_poll_seconds", "stall_sweep_seconds"]
)
def test_a_poll_interval_that_is_a_busy_loop_is_refused_at_start(tmp_path, setting):
    # 0.0001 s was taken: the worker (or each replica's sweep) then asked the database for due
    # work thousands of times a second, a core and a connection busy for nothing.
    variable = f"UITSTROOM_{setting.upper()}"
    result = _list_organisations(tmp_path, {variable: "0.0001"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Invalid configuration: {variable} must be a number from 0.1 to "
        f"{Settings.model_fields[setting].metadata[1].le}, such as "
        f"{Settings.model_fields[setting].default:g} (its default)"
    )
    assert getattr(Settings(**{setting: 0.1}), setting) == 0.1


NUMBER_SETTINGS = [
    name for name, field in Settings.model_fields.items() if field.annotation in (int, float)
]


@pytest.mark.parametrize("value", ["1_0", "+5", "1 0", "nan", "inf", "-inf", "\uff11\uff10", "1e1"])
@pytest.mark.parametrize("setting", NUMBER_SETTINGS)
def test_a_number_setting_not_written_in_plain_digits_is_refused_naming_it(
    monkeypatch, setting, value
):
    # Python's int() and float() read `1_0` as 10, `+5` as 5, full-width digits as digits and
    # `1e1` as 10.0: UITSTROOM_WORKERS=1_0 started ten workers. `nan` and `inf` were refused
    # for a range ("less than or equal to 600") that said nothing of what was wrong.
    variable = f"UITSTROOM_{setting.upper()}"
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    [error] = refused.value.errors()
    assert str(error["msg"]).startswith(f"Value error, {variable} must be a"), error
    assert "digits 0-9" in str(error["msg"])


def _just_outside(setting: str) -> list[str]:
    """Values of `setting` just below and just above its range, as an operator writes them."""
    values = []
    for limit in Settings.model_fields[setting].metadata:
        for kind, step in (("ge", -1), ("gt", 0), ("le", 1), ("lt", 0)):
            bound = getattr(limit, kind, None)
            if bound is not None:
                moved = bound + step * (1 if isinstance(bound, int) else 0.05)
                values.append(str(moved) if isinstance(moved, int) else f"{moved:g}")
    return values


@pytest.mark.parametrize(
    ("setting", "value"),
    [(setting, value) for setting in NUMBER_SETTINGS for value in _just_outside(setting)],
)
def test_a_number_setting_out_of_range_is_refused_naming_its_range(monkeypatch, setting, value):
    # UITSTROOM_WORKERS=0 was refused in pydantic's words, "Input should be greater than or
    # equal to 1", unlike every other refusal of a setting (which names the variable and what
    # it takes); now the variable, its range and its default.
    variable = f"UITSTROOM_{setting.upper()}"
    monkeypatch.setenv(variable, f" {value} ")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert len(refused.value.errors()) == 1
    said = configuration_mistake(refused.value)
    assert said.startswith(f"{variable} must be a "), said
    assert said.endswith(" (its default)") and "Input should" not in said, said


@pytest.mark.parametrize("digits", [31, 5000])
def test_a_whole_number_of_many_digits_is_refused_naming_its_range(monkeypatch, digits):
    # 5000 nines (a pasted key or hash in the wrong variable) were refused in Python's words,
    # "UITSTROOM_WORKERS: Exceeds the limit (4300 digits) for integer string conversion: value
    # has 5000 digits; use sys.set_int_max_str_digits() to increase the limit".
    monkeypatch.setenv("UITSTROOM_WORKERS", "9" * digits)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert configuration_mistake(refused.value) == (
        "UITSTROOM_WORKERS must be a whole number from 1 to 64, such as 1 (its default)"
    )


@pytest.mark.parametrize("digits", [31, 5000])
@pytest.mark.parametrize("setting", NUMBER_SETTINGS)
def test_every_number_setting_has_a_range_that_refuses_a_huge_one(monkeypatch, setting, digits):
    # UITSTROOM_SIGNIN_MAX_FAILURES_PER_ADDRESS had no upper bound: 5000 nines were refused in
    # pydantic's words ("Unable to parse input string as an integer, exceeded maximum size"),
    # 31 taken as a lock-out that never comes; every other number names its range.
    variable = f"UITSTROOM_{setting.upper()}"
    monkeypatch.setenv(variable, "9" * digits)
    with pytest.raises(ValidationError) as refused:
        Settings()
    said = configuration_mistake(refused.value)
    assert said.startswith(f"{variable} must be a "), said
    assert said.endswith(" (its default)") and re.search(r" (to|at most) [0-9]", said), said


@pytest.mark.parametrize("setting", NUMBER_SETTINGS)
def test_a_number_setting_in_plain_digits_is_taken_with_spaces_around_it(monkeypatch, setting):
    default = Settings.model_fields[setting].default
    written = str(default) if isinstance(default, int) else f"{default:g}"  # 300, not 300.0
    monkeypatch.setenv(f"UITSTROOM_{setting.upper()}", f" {written} ")
    assert getattr(Settings(), setting) == default


SWITCH_SETTINGS = [
    name for name, field in Settings.model_fields.items() if field.annotation is bool
]


@pytest.mark.parametrize("setting", SWITCH_SETTINGS)
def test_a_switch_is_taken_with_spaces_around_it_and_refused_naming_its_words(monkeypatch, setting):
    # "off " (a space after it) was refused with "Input should be a valid boolean, unable to
    # interpret input", which named no word that is one; a number takes spaces around it.
    variable = f"UITSTROOM_{setting.upper()}"
    monkeypatch.setenv(variable, " Off ")
    assert getattr(Settings(), setting) is False
    monkeypatch.setenv(variable, "nee")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert f"{variable} must be true or false (or 1 or 0, yes or no, on or off)" in str(
        refused.value
    )


@pytest.mark.parametrize("value", ["", "  "])
@pytest.mark.parametrize("setting", NUMBER_SETTINGS + SWITCH_SETTINGS)
def test_a_number_or_switch_given_empty_is_refused_saying_it_is_empty(monkeypatch, setting, value):
    # `UITSTROOM_SMTP_TIMEOUT_SECONDS=` was refused as a number not "written in the digits 0-9
    # (no underscores, plus sign, spaces, ...)", which named nothing that was wrong with it.
    variable = f"UITSTROOM_{setting.upper()}"
    default = Settings.model_fields[setting].default
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    [error] = refused.value.errors()
    said = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(default, bool):
        asked = f"true or false (its default is {str(default).lower()})"
    else:
        # A whole number was asked for as "a number" where out of range it is "a whole number".
        kind = "a whole number" if isinstance(default, int) else "a number"
        asked = f"{kind}, such as {default if isinstance(default, int) else f'{default:g}'}"
        asked += " (its default)"
    assert said == (
        f"{variable} is empty: give {asked}, or leave the variable out to take its default"
    )


def test_a_number_given_empty_in_dotenv_is_refused_at_start_in_one_line(tmp_path):
    (tmp_path / ".env").write_text("UITSTROOM_SMTP_TIMEOUT_SECONDS=\n")
    result = _list_organisations(tmp_path, {})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Invalid configuration: UITSTROOM_SMTP_TIMEOUT_SECONDS is empty: give a number, such as "
        "20 (its default), or leave the variable out to take its default"
    )


def test_a_number_of_seconds_may_have_a_decimal_point(monkeypatch):
    monkeypatch.setenv("UITSTROOM_SMTP_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("UITSTROOM_WEBHOOK_POLL_SECONDS", ".5")
    taken = Settings()
    assert (taken.smtp_timeout_seconds, taken.webhook_poll_seconds) == (2.5, 0.5)


@pytest.mark.parametrize("value", ["0.000001", "0.5"])
def test_an_smtp_timeout_no_conversation_fits_in_is_refused_at_start(tmp_path, value):
    # 1e-300 (or 0.000001) was taken: every SMTP connection timed out before the server could
    # greet, and each mail failed its attempts, said only in the log.
    result = _list_organisations(tmp_path, {"UITSTROOM_SMTP_TIMEOUT_SECONDS": value})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Invalid configuration: UITSTROOM_SMTP_TIMEOUT_SECONDS must be a number from 1 to 300, "
        "such as 20 (its default)"
    )
    assert Settings(smtp_timeout_seconds=1).smtp_timeout_seconds == 1


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"smtp_password": "geheim"},
            "UITSTROOM_SMTP_PASSWORD is set without UITSTROOM_SMTP_USERNAME",
        ),
        (
            {"smtp_username": "", "smtp_password": "geheim"},
            "UITSTROOM_SMTP_PASSWORD is set without UITSTROOM_SMTP_USERNAME",
        ),
        (
            {"smtp_username": "tafel"},
            "UITSTROOM_SMTP_USERNAME is set without UITSTROOM_SMTP_PASSWORD",
        ),
        (
            {"smtp_username": "tafel", "smtp_password": ""},
            "UITSTROOM_SMTP_USERNAME is set without UITSTROOM_SMTP_PASSWORD",
        ),
    ],
    ids=["password-alone", "password-empty-name", "username-alone", "username-empty-password"],
)
def test_an_smtp_sign_in_of_a_username_or_password_alone_is_refused_at_start(given, said):
    # The mail worker signs in only with a username: a password alone was never sent, and the
    # mails went out unauthenticated (or were refused by the server) without a word at start.
    # A username alone signed in with an empty password, which AUTH PLAIN does not allow
    # (RFC 4616): every connection refused, said only in the log.
    with pytest.raises(ValidationError) as refused:
        Settings(**given)
    assert said in str(refused.value)
    assert "geheim" not in str(refused.value)
    both = Settings(smtp_username="tafel", smtp_password="geheim")
    assert both.smtp_username == "tafel"
    assert Settings(smtp_username="", smtp_password="").smtp_username == ""  # both unset


@pytest.mark.parametrize("username", ["   ", "\t", " tafel", "tafel\n"])
def test_an_smtp_username_of_white_space_or_with_it_around_is_refused_at_start(tmp_path, username):
    # "   " was taken: the mail worker signed in as three spaces, which every server refused,
    # and each mail failed its attempts, said only in the log; " tafel" signed in as another
    # account than tafel.
    variables = {"UITSTROOM_SMTP_USERNAME": username, "UITSTROOM_SMTP_PASSWORD": "geheim"}
    result = _list_organisations(tmp_path, variables)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Invalid configuration: UITSTROOM_SMTP_USERNAME has white space at its start or end (or "
        "is nothing but): write the account name alone, or leave it empty to send without "
        "signing in"
    )
    assert Settings(smtp_username="tafel uitstroom", smtp_password="geheim").smtp_username


def test_an_idempotency_key_may_not_be_remembered_longer_than_a_closed_case_is_kept():
    """The record of a case's creation keeps a hash of the request (the case file): remembered
    past the retention period it would outlive the case's anonymisation (breaker 47)."""
    with pytest.raises(ValidationError) as refused:
        Settings(retention_days=30, idempotency_ttl_hours=30 * 24 + 1)
    assert "UITSTROOM_IDEMPOTENCY_TTL_HOURS" in str(refused.value)
    assert Settings(retention_days=30, idempotency_ttl_hours=30 * 24).idempotency_ttl_hours == 720


@pytest.mark.parametrize("content", [None, "geen certificaat"], ids=["missing", "not-pem"])
def test_serve_refuses_an_smtp_ca_file_it_cannot_read_before_it_starts(
    tmp_path, monkeypatch, content
):
    monkeypatch.setattr("app.cli.bind", lambda *_: sys.exit("it went on to serve"))
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_text(content)
    database = tmp_path / "x.db"
    settings = get_settings().model_copy(
        update={
            "database_url": f"sqlite:///{database}",
            "smtp_host": "smtp.example.org",
            "smtp_ca_file": str(ca_file),
            "mail_worker": True,
        }
    )
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--port", "0"], settings=settings)
    assert str(refused.value.code).startswith(f"Cannot use UITSTROOM_SMTP_CA_FILE {ca_file}")
    assert not database.exists()


def test_a_command_on_a_database_never_migrated_says_to_migrate_first(databases):
    with pytest.raises(SystemExit) as refused:
        run_cli(databases.new_url(), "list-organisations")
    said = str(refused.value.code)
    assert said.startswith("Cannot use the database of UITSTROOM_DATABASE_URL")
    assert said.endswith("run `uitstroomtafel migrate` first")


@pytest.mark.parametrize(
    ("database", "role"), [("sqlite", "uitstroom_app"), ("postgresql", "app; DROP TABLE x")]
)
def test_migrate_refuses_a_grant_it_cannot_make_before_it_migrates(tmp_path, database, role):
    """`--grant-to` is checked first: on SQLite (no roles) or with a role name that is no plain
    name, it migrated and only then said no, leaving a database the operator did not ask for
    in a state they did not expect."""
    url = (
        f"sqlite:///{tmp_path / 'fresh.db'}"
        if database == "sqlite"
        else "postgresql+psycopg://uitstroom@127.0.0.1:1/never_reached"
    )
    with pytest.raises(SystemExit) as refused:
        run_cli(url, "migrate", "--grant-to", role)
    assert str(refused.value.code).startswith("Not granted")
    assert "Cannot use the database" not in str(refused.value.code)  # refused before connecting
    if database == "sqlite":
        engine = create_engine(url)
        with engine.connect() as connection:
            tables = connection.execute(text("SELECT name FROM sqlite_master")).all()
        engine.dispose()
        assert tables == []


@pytest.mark.parametrize(
    "command",
    [
        ["list-organisations"],
        ["create-organisation", "Gemeente Elders", "municipality"],
        ["limits"],
        # From cron (run in the home folder) it made an empty database there, migrated it and
        # reported "Anonymised 0 case file(s)" every night, while the real one kept its files.
        ["anonymise"],
    ],
    ids=lambda command: command[0],
)
def test_a_command_on_a_sqlite_file_that_does_not_exist_creates_none_and_names_the_file(
    tmp_path, monkeypatch, command
):
    """The default database is `./uitstroomtafel.db`, relative to the folder the command runs
    in: run from another folder, a command opened (and so created) an empty file there and
    named only the URL, so migrating as it said made a second, empty database beside the one
    `serve` uses. It now creates nothing and names the file it looked for."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as refused:
        run_cli("sqlite:///./uitstroomtafel.db", *command)
    said = str(refused.value.code)
    assert said.startswith("Cannot use the database of UITSTROOM_DATABASE_URL")
    assert f"there is no file {tmp_path / 'uitstroomtafel.db'} " in said  # in full
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["list-organisations"], ["limits"], ["demo"], ["anonymise"]],
    ids=lambda command: command[0],
)
def test_a_sqlite_url_naming_a_file_that_is_no_database_is_refused_in_one_line(tmp_path, command):
    """A URL that names some other file (a typo that points at the README, a CSV, a backup
    archive) was a SQLAlchemy traceback ending in `file is not a database`, where the README
    promises one line naming the setting."""
    other_file = tmp_path / "README.md"
    other_file.write_text("# not a database\n" * 100)
    before = other_file.read_bytes()
    with pytest.raises(SystemExit) as refused:
        run_cli(f"sqlite:///{other_file}", *command)
    said = str(refused.value.code)
    assert said.startswith("Cannot use the database of UITSTROOM_DATABASE_URL")
    assert "file is not a database" in said and "\n" not in said
    assert other_file.read_bytes() == before


def test_the_demo_on_a_sqlite_file_that_does_not_exist_says_it_made_a_new_database(
    tmp_path, monkeypatch
):
    """`uitstroomtafel demo` from another folder than `serve`'s made a second database there
    without a word and printed keys and passwords the running server did not know (401)."""
    monkeypatch.chdir(tmp_path)
    said = run_cli("sqlite:///./uitstroomtafel.db", "demo")
    assert f"New database {tmp_path / 'uitstroomtafel.db'} " in said.splitlines()[0]
    again = run_cli("sqlite:///./uitstroomtafel.db", "demo")
    assert "New database" not in again


def test_the_demo_refused_its_sqlite_file_says_no_new_database(tmp_path):
    """`uitstroomtafel demo` on a file in a folder that does not exist printed 'New database
    ... (there was none)' above its refusal, of a database it never made; `serve` says it only
    once the database is migrated."""
    url = f"sqlite:///{tmp_path / 'gone' / 'demo.db'}"
    settings = get_settings().model_copy(update={"database_url": url})
    said = io.StringIO()
    with redirect_stdout(said), pytest.raises(SystemExit) as refused:
        main(["demo"], settings=settings)
    assert f"there is no folder {tmp_path / 'gone'}" in str(refused.value.code)
    assert "New database" not in said.getvalue()


def test_a_new_database_at_an_absolute_path_is_not_said_to_be_read_from_the_current_folder(
    tmp_path, monkeypatch
):
    """`demo` and `serve` added 'a relative path is read from the current folder' to the new
    database of an absolute path too, which sent the operator to a folder that plays no part."""
    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: None)
    demo = tmp_path / "demo.db"
    said = run_cli(f"sqlite:///{demo}", "demo")
    assert said.splitlines()[0].startswith(f"New database {demo} (there was none): a server")
    served = tmp_path / "served.db"
    settings = get_settings().model_copy(
        update={"database_url": f"sqlite:///{served}", "migrate_on_start": True}
    )
    shown = io.StringIO()
    with redirect_stdout(shown):
        main(["serve", "--port", "0"], settings=settings)
    first = shown.getvalue().splitlines()[0]
    assert first.startswith(f"New database {served} (there was none): the service starts empty")


def test_a_sqlite_path_through_a_missing_folder_and_back_is_the_file_sqlite_opens(
    tmp_path, monkeypatch
):
    """SQLite opens `./gone/../x.db` as ./x.db (SQLAlchemy drops `gone/..` unread), but the
    commands read the path as the system does, through a folder `gone` that is not there:
    `demo` said 'New database', migrated ./x.db and then refused it as in no folder, and
    `serve` called the file new and empty at every start. Both now read the file SQLite opens."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: None)
    url = "sqlite:///./gone/../x.db"
    said = run_cli(url, "demo")
    assert said.splitlines()[0].startswith(f"New database {tmp_path / 'x.db'} (there was none;")
    assert "Demo region loaded" in said
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": True})
    again = io.StringIO()
    with redirect_stdout(again):
        main(["serve", "--port", "0"], settings=settings)
    assert "New database" not in again.getvalue()
    assert again.getvalue().startswith("Serving on http://127.0.0.1:")


def test_serve_on_a_sqlite_file_that_does_not_exist_says_it_starts_empty(tmp_path, monkeypatch):
    # `serve` started in another folder than the last time made a new, empty
    # ./uitstroomtafel.db there without a word: every case, key and person seemed gone.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: None)
    url = "sqlite:///./uitstroomtafel.db"
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": True})
    said = io.StringIO()
    with redirect_stdout(said):
        main(["serve", "--port", "0"], settings=settings)
    assert said.getvalue().splitlines()[0] == (
        f"New database {tmp_path / 'uitstroomtafel.db'} (there was none; a relative path is read "
        "from the current folder): the service starts empty. If it had data, that is in another "
        "file: stop, and set UITSTROOM_DATABASE_URL to that file or start in its folder."
    )
    again = io.StringIO()
    with redirect_stdout(again):
        main(["serve", "--port", "0"], settings=settings)
    assert "New database" not in again.getvalue()
    assert again.getvalue().startswith("Serving on http://127.0.0.1:")
    # The README's first command, in a new folder: the demo fills the new file at once.
    (tmp_path / "demo").mkdir()
    monkeypatch.chdir(tmp_path / "demo")
    demo = io.StringIO()
    with redirect_stdout(demo):
        main(["serve", "--demo", "--port", "0"], settings=settings)
    assert "Demo region loaded" in demo.getvalue()
    assert "New database" not in demo.getvalue()


def test_serve_not_migrating_on_a_sqlite_file_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    # UITSTROOM_MIGRATE_ON_START=false and no file: `serve` made an empty one and served it,
    # /health/ready answering 503 and each background job logging a traceback per round ("no
    # such table: job_leases"), where every other command refuses such a file in one line.
    # That line then lacked the end of `serve`'s refusal of an empty file ("... first. Nothing
    # was started."): the same situation read as another.
    url = f"sqlite:///{tmp_path / 'uitstroomtafel.db'}"
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": False})
    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: None)  # not serving
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--port", "0"], settings=settings)
    assert refused.value.code == (
        f"Cannot use the database of UITSTROOM_DATABASE_URL ({url}): there is no file "
        f"{tmp_path / 'uitstroomtafel.db'}; run `uitstroomtafel migrate` first. Nothing was "
        "started."
    )
    assert not (tmp_path / "uitstroomtafel.db").exists()


def test_a_missing_sqlite_file_is_said_relative_only_of_a_relative_path(tmp_path, monkeypatch):
    # "there is no file /tmp/x/none.db (a relative path is read from the current folder)": the
    # remark, which sqlite_folder_problem makes only of a relative path, followed an absolute
    # one too, pointing the operator at the current folder where it plays no part.
    monkeypatch.chdir(tmp_path)
    absolute = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(SystemExit) as refused:
        run_cli(absolute, "list-organisations")
    assert refused.value.code == (
        f"Cannot use the database of UITSTROOM_DATABASE_URL ({absolute}): there is no file "
        f"{tmp_path / 'none.db'}; run `uitstroomtafel migrate` first"
    )
    with pytest.raises(SystemExit) as refused:
        run_cli("sqlite:///none.db", "list-organisations")
    assert refused.value.code == (
        "Cannot use the database of UITSTROOM_DATABASE_URL (sqlite:///none.db): there is no file "
        f"{tmp_path / 'none.db'} (a relative path is read from the current folder); "
        "run `uitstroomtafel migrate` first"
    )
    assert not (tmp_path / "none.db").exists()


def test_an_unreachable_postgresql_says_what_to_check_its_password_hidden():
    # `list-organisations` (and `serve`, `migrate`) on a PostgreSQL that is not running there
    # ended with the driver's "Connection refused" and nothing of what to check.
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
    with pytest.raises(SystemExit) as refused:
        run_cli(url, "list-organisations")
    said = str(refused.value.code)
    assert said.startswith(
        "Cannot use the database of UITSTROOM_DATABASE_URL (postgresql+psycopg://u:***@127.0.0.1"
        ":1/x): connection failed: "
    ), said
    assert "Connection refused" in said and "\n" not in said and "secret" not in said
    assert said.endswith(
        "; check that PostgreSQL runs at the host and port of UITSTROOM_DATABASE_URL "
        "(127.0.0.1, port 1) and accepts connections from this machine"
    ), said


@pytest.mark.parametrize(
    ("url", "tried", "hint"),
    [
        (
            "postgresql+psycopg://u@/x",
            "/var/run/postgresql/.s.PGSQL.5432",
            "in the folder /var/run/postgresql (port 5432), libpq's own for a "
            "UITSTROOM_DATABASE_URL without a host (`?host=/folder` names another)",
        ),
        (
            "postgresql+psycopg://u@/x?host=/run/pg&port=5433",
            "/run/pg/.s.PGSQL.5433",
            "in the folder /run/pg (port 5433)",
        ),
    ],
    ids=["no-host", "folder-in-the-query"],
)
@pytest.mark.parametrize("why", ["No such file or directory", "Connection refused"])
def test_an_unreachable_postgresql_socket_names_the_folder_tried(url, tried, hint, why):
    # Over the local socket (no host, or the folder as `?host=`), "No such file or directory"
    # came with no hint, "Connection refused" with one to check a host and port it named not.
    failure = OperationalError(
        "SELECT 1", {}, Exception(f'connection to server on socket "{tried}" failed: {why}')
    )
    assert database_failure(url, failure).endswith(
        f"{why}; check that PostgreSQL runs on this machine with its socket {hint}"
    )


def test_a_postgresql_socket_folder_not_there_is_named(tmp_path):
    folder = tmp_path / "no-such-folder"
    with pytest.raises(SystemExit) as refused:
        run_cli(f"postgresql+psycopg://u@/x?host={folder}", "list-organisations")
    said = str(refused.value.code)
    assert said.endswith(
        "No such file or directory; check that PostgreSQL runs on this machine with its socket "
        f"in the folder {folder} (port 5432)"
    ), said


def test_an_unreachable_postgresql_host_in_the_query_is_named():
    # libpq takes the host and port from the query too: the hint named none of them.
    with pytest.raises(SystemExit) as refused:
        run_cli("postgresql+psycopg://u@/x?host=127.0.0.1&port=1", "list-organisations")
    said = str(refused.value.code)
    assert said.endswith(
        "; check that PostgreSQL runs at the host and port of UITSTROOM_DATABASE_URL "
        "(127.0.0.1, port 1) and accepts connections from this machine"
    ), said


def test_migrate_says_from_which_migration_it_migrated(tmp_path):
    # `migrate` on a new, empty database said only "Database is at the latest migration.", as
    # it does when there was nothing to do: not that it had just created every table.
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'tafel.db'}"
    (head,) = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    assert run_cli(url, "migrate") == (
        f"Database migrated from none (a new database) to the latest migration, {head}.\n"
    )
    assert run_cli(url, "migrate") == "Database is at the latest migration.\n"


def test_serve_not_migrating_a_database_behind_the_latest_migration_is_refused(
    tmp_path, monkeypatch
):
    # UITSTROOM_MIGRATE_ON_START=false on a SQLite file that exists but was never migrated (or
    # an older version's): `serve` served it, /health/ready answering 503 and the background
    # jobs logging a traceback every round ("no such table: job_leases"), where it refuses a
    # missing file in one line.
    from app.migrate import alembic_config

    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: None)  # not serving
    never, older = tmp_path / "never.db", tmp_path / "older.db"
    create_engine(f"sqlite:///{never}").connect().close()  # an empty file, as sqlite3 makes
    command.upgrade(alembic_config(f"sqlite:///{older}"), "0033_anonymised_references")
    for database, where in (
        (never, "was never migrated"),
        (older, "is at migration 0033_anonymised_references, not 0034_idempotency_secret_hash"),
    ):
        url = f"sqlite:///{database}"
        settings = get_settings().model_copy(
            update={"database_url": url, "migrate_on_start": False}
        )
        said = io.StringIO()
        with redirect_stdout(said), pytest.raises(SystemExit) as refused:
            main(["serve", "--port", "0"], settings=settings)
        assert refused.value.code == (
            f"Cannot serve the database of UITSTROOM_DATABASE_URL ({url}): it {where}, and "
            "UITSTROOM_MIGRATE_ON_START=false does not migrate it. Run `uitstroomtafel migrate` "
            "first. Nothing was started."
        )
        assert said.getvalue() == ""  # no "Serving on"
    run_cli(f"sqlite:///{older}", "migrate")  # as the refusal says: then it serves
    settings = get_settings().model_copy(
        update={"database_url": f"sqlite:///{older}", "migrate_on_start": False}
    )
    said = io.StringIO()
    with redirect_stdout(said):
        main(["serve", "--port", "0"], settings=settings)
    assert said.getvalue().startswith("Serving on http://127.0.0.1:")


def _refusals(tmp_path: Path) -> dict[str, tuple[str, dict[str, object]]]:
    """Situations `serve` and `migrate` refuse, by name: the database file, and the settings."""
    not_a_database = tmp_path / "text.db"
    not_a_database.write_text("geen database")
    empty = tmp_path / "empty.db"
    create_engine(f"sqlite:///{empty}").connect().close()  # an empty file, as sqlite3 makes
    too_new = tmp_path / "new.db"
    run_cli(f"sqlite:///{too_new}", "migrate")
    engine = create_engine(f"sqlite:///{too_new}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    return {
        "no-file": (f"sqlite:///{tmp_path / 'none.db'}", {"migrate_on_start": False}),
        "empty-file": (f"sqlite:///{empty}", {"migrate_on_start": False}),
        "no-folder": (f"sqlite:///{tmp_path / 'no-folder' / 'x.db'}", {}),
        "not-a-database": (f"sqlite:///{not_a_database}", {}),
        "migrated-by-a-newer-version": (f"sqlite:///{too_new}", {}),
        "workers": (f"sqlite:///{empty}", {"workers": 2}),
    }


@pytest.mark.parametrize(
    "situation",
    [
        "no-file",
        "empty-file",
        "no-folder",
        "not-a-database",
        "migrated-by-a-newer-version",
        "workers",
    ],
)
def test_every_refusal_of_serve_ends_saying_nothing_was_started(tmp_path, situation):
    """A missing SQLite file ended "...; run `uitstroomtafel migrate` first", an empty one
    "... Run `uitstroomtafel migrate` first. Nothing was started.", a file that is no database
    "...: file is not a database", a taken port "Nothing was started." before what to change:
    whether anything ran was said of some refusals and not of others."""
    url, changes = _refusals(tmp_path)[situation]
    settings = get_settings().model_copy(update={"database_url": url, **changes})
    said = io.StringIO()
    with redirect_stdout(said), pytest.raises(SystemExit) as refused:
        main(["serve", "--port", "0"], settings=settings)
    line = str(refused.value.code)
    assert line.endswith(". Nothing was started."), line
    assert line.count("Nothing was started") == 1 and "\n" not in line, line
    assert said.getvalue() == ""


@pytest.mark.parametrize(
    "situation", ["no-folder", "not-a-database", "migrated-by-a-newer-version", "grant-on-sqlite"]
)
def test_every_refusal_of_migrate_ends_with_a_full_stop(tmp_path, situation):
    """A file that is no database ("...: file is not a database") and a grant on SQLite ("Not
    granted, nothing migrated: roles exist on PostgreSQL only") ended without one, a database
    of a newer version with one."""
    if situation == "grant-on-sqlite":
        url, args = f"sqlite:///{tmp_path / 'x.db'}", ["migrate", "--grant-to", "uitstroom_app"]
    else:
        url, args = _refusals(tmp_path)[situation][0], ["migrate"]
    with pytest.raises(SystemExit) as refused:
        run_cli(url, *args)
    line = str(refused.value.code)
    assert line.endswith(".") and not line.endswith(".."), line
    assert "Nothing was started" not in line


def test_other_commands_keep_their_own_ending_of_a_shared_refusal(tmp_path):
    """The line of a database a command cannot use is shared; only `serve` and `migrate` end
    it their way."""
    url = _refusals(tmp_path)["not-a-database"][0]
    with pytest.raises(SystemExit) as refused:
        run_cli(url, "list-organisations")
    assert str(refused.value.code).endswith("): file is not a database")


def test_serve_demo_refused_its_database_prints_no_operator_key_for_the_run(tmp_path):
    # `serve --demo` on a database it cannot serve (a folder for the file, a file never migrated
    # with UITSTROOM_MIGRATE_ON_START=false) printed "Operator key for this run: ust_admin_..."
    # and "Demo: webhooks may go to ..." above the refusal: a key of a run that never started.
    folder = tmp_path / "folder.db"
    folder.mkdir()
    never = tmp_path / "never.db"
    create_engine(f"sqlite:///{never}").connect().close()  # an empty file, as sqlite3 makes
    for database, migrate_on_start in ((folder, True), (never, False)):
        settings = get_settings().model_copy(
            update={
                "database_url": f"sqlite:///{database}",
                "migrate_on_start": migrate_on_start,
                "admin_key": None,
            }
        )
        said = io.StringIO()
        with redirect_stdout(said), pytest.raises(SystemExit) as refused:
            main(["serve", "--demo", "--port", "0"], settings=settings)
        assert str(refused.value.code).startswith("Cannot "), refused.value.code
        assert said.getvalue() == ""


def _demo_into_a_closed_pipe(url: str) -> subprocess.CompletedProcess[str]:
    """`uitstroomtafel demo | head`, with the reader gone before the demo writes a line."""
    read, write = os.pipe()
    os.close(read)
    try:
        env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": url})
        return subprocess.run(
            cli_command("demo"), env=env, stdout=write, stderr=subprocess.PIPE, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        os.close(write)


def test_a_demo_whose_output_is_closed_loads_nothing_and_says_so_in_one_line(tmp_path):
    """`uitstroomtafel demo | head`: the load ended in a BrokenPipeError traceback (rolled back
    by luck: the keys are printed before the commit, but one more flush at the end would have
    left the region loaded with keys nobody saw). It fails cleanly now: one line, nothing
    loaded, and the keys of an earlier run are not revoked."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_cli(url, "migrate")
    result = _demo_into_a_closed_pipe(url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Nothing of the demo was loaded")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM organisations")).scalar() == 0
        run_cli(url, "demo")
        with engine.connect() as connection:
            valid = "SELECT id FROM api_keys WHERE revoked_at IS NULL ORDER BY id"
            keys = connection.execute(text(valid)).scalars().all()
        assert _demo_into_a_closed_pipe(url).returncode == 1
        with engine.connect() as connection:
            assert connection.execute(text(valid)).scalars().all() == keys
    finally:
        engine.dispose()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_demo_whose_output_cannot_be_written_loads_nothing_and_says_why_in_one_line(tmp_path):
    """`uitstroomtafel demo > file` on a full disk (here `/dev/full`) ended in an OSError
    traceback. It fails as a closed pipe does: one line with the system's reason, nothing
    loaded, an earlier run's keys kept."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_cli(url, "demo")
    engine = create_engine(url)
    valid = "SELECT id FROM api_keys WHERE revoked_at IS NULL ORDER BY id"
    try:
        with engine.connect() as connection:
            keys = connection.execute(text(valid)).scalars().all()
        env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": url})
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                cli_command("demo"), env=env, stdout=full, stderr=subprocess.PIPE, text=True,
                timeout=120,
            )  # fmt: skip
        assert result.returncode == 1
        assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("Nothing of the demo was loaded") and "No space left" in last
        with engine.connect() as connection:
            assert connection.execute(text(valid)).scalars().all() == keys
    finally:
        engine.dispose()


def test_a_demo_piped_into_head_stores_what_the_lines_head_showed(tmp_path):
    """`uitstroomtafel demo | head -3` on an unbuffered standard output (PYTHONUNBUFFERED=1):
    head showed "Demo region loaded", the table's id and a key, then left; the next line's
    BrokenPipeError rolled the load back, so the key shown was refused (401) and the next run
    loaded a region with another id. The whole output is now written at once after the load,
    so a reader that got a line got them all, and what they name is committed."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_cli(url, "migrate")
    env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"})
    with subprocess.Popen(
        cli_command("demo"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as demo:  # fmt: skip
        assert demo.stdout is not None and demo.stderr is not None
        shown = "".join(demo.stdout.readline() for _ in range(3))
        demo.stdout.close()  # head -3 leaves
        demo.wait(timeout=120)
        said = demo.stderr.read()
    table_id = DEMO_TABLE_LINE.search(shown).group(1)  # type: ignore[union-attr]
    [key] = DEMO_KEY_LINE.findall(shown)
    assert demo.returncode == 0, said
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            valid = "SELECT count(*) FROM api_keys WHERE key_hash = :hash AND revoked_at IS NULL"
            assert connection.execute(text(valid), {"hash": hash_api_key(key)}).scalar() == 1
    finally:
        engine.dispose()
    assert f"Demo region already loaded: Uitstroomtafel Regio Eemland (demo) ({table_id})." in (
        run_cli(url, "demo")
    )


def test_serve_demo_stopped_by_a_closed_output_after_its_keys_does_not_deny_loading_them(
    tmp_path, monkeypatch
):
    """`serve --demo | head -3`: head left once the demo's lines came, and the address banner
    after them stopped the server with "nothing of the demo was loaded", while the demo (and
    the keys head showed) had been committed. The line now says which holds when."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_cli(url, "migrate")
    settings = get_settings().model_copy(update={"database_url": url})
    monkeypatch.setattr("app.cli.where", Mock(side_effect=BrokenPipeError))  # the banner
    shown = tmp_path / "stdout"
    with shown.open("w") as out, redirect_stdout(out), pytest.raises(SystemExit) as stopped:
        main(["serve", "--demo", "--port", "0"], settings=settings)
    said = str(stopped.value.code)
    assert said.startswith("Stopped: standard output was closed after the demo was loaded")
    assert "The demo's keys and passwords were written in full and work" in said, said
    keys = DEMO_KEY_LINE.findall(shown.read_text())
    assert len(keys) == 6
    assert {hash_api_key(key) for key in keys} <= _valid_key_hashes(url)


def _valid_key_hashes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            valid = "SELECT key_hash FROM api_keys WHERE revoked_at IS NULL"
            return set(connection.execute(text(valid)).scalars())
    finally:
        engine.dispose()


class _ClosedAtTheKeys:
    """Standard output that a reader left before the demo's keys (`serve --demo | head -2`:
    head took the operator key and the webhook line): writing them is a BrokenPipeError."""

    def __init__(self, out) -> None:  # type: ignore[no-untyped-def]
        self.out = out

    def write(self, text: str) -> int:
        if "Demo API keys" in text:
            raise BrokenPipeError(32, "Broken pipe")
        return int(self.out.write(text))

    def flush(self) -> None:
        self.out.flush()

    def fileno(self) -> int:
        return int(self.out.fileno())


def test_serve_demo_stopped_by_a_closed_output_before_its_keys_says_nothing_was_loaded(
    tmp_path,
):
    """`serve --demo | head -2`: head left after the operator key and the webhook line, and
    serve stopped with 'if its keys were written, the demo is loaded and they work; if not,
    nothing of the demo was loaded', where it knows which (it commits the demo only once its
    keys are written): the person, who saw no key either way (head drops what follows), could
    not tell. It now says nothing of the demo was loaded, and nothing is."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_cli(url, "migrate")
    settings = get_settings().model_copy(update={"database_url": url})
    shown = tmp_path / "stdout"
    with (
        shown.open("w") as out,
        redirect_stdout(_ClosedAtTheKeys(out)),  # type: ignore[type-var]
        pytest.raises(SystemExit) as stopped,
    ):
        main(["serve", "--demo", "--port", "0"], settings=settings)
    said = str(stopped.value.code)
    assert said.startswith("Stopped, and nothing of the demo was loaded:"), said
    assert "if its keys were written" not in said
    assert "Demo API keys" not in shown.read_text()
    assert _valid_key_hashes(url) == set()


DEMO_TABLE_LINE = re.compile(r"^Demo region (?:already )?loaded: .*\((\S+)\)", re.M)
DEMO_KEY_LINE = re.compile(
    r"^  (?:municipality|care_provider|housing_corporation) +.+ (ust_\S+)$", re.M
)


def _rename_the_table(client: TestClient, table: dict) -> None:
    changed = client.patch(
        f"/v1/tables/{table['id']}",
        json={"name": "Uitstroomtafel Eemland"},
        headers={**OPERATOR, "If-Match": f'"{table["version"]}"'},
    )
    assert changed.status_code == 200, changed.text


def _hand_the_chair_to_leusden(client: TestClient, table: dict) -> None:
    changed = client.patch(
        f"/v1/tables/{table['id']}",
        json={"chair_organisation_id": table["member_organisation_ids"][1]},
        headers={**OPERATOR, "If-Match": f'"{table["version"]}"'},
    )
    assert changed.status_code == 200, changed.text


def _fill_the_chairs_keys_with_its_own(client: TestClient, table: dict) -> None:
    """Revoke the chair's demo key and issue it as many keys as it may hold."""
    keys = f"/v1/organizations/{table['chair_organisation_id']}/api-keys"
    for key in client.get(keys, headers=OPERATOR).json()["items"]:
        assert client.delete(f"{keys}/{key['id']}", headers=OPERATOR).status_code == 204
    for n in range(MAX_ACTIVE_API_KEYS):
        issued = client.post(keys, json={"label": f"koppeling {n}"}, headers=OPERATOR)
        assert issued.status_code == 201, issued.text


def _deactivate_the_chairs_person(client: TestClient, table: dict) -> None:
    people = f"/v1/organizations/{table['chair_organisation_id']}/people"
    (person,) = client.get(people, headers=OPERATOR).json()["items"]
    changed = client.patch(
        f"{people}/{person['id']}",
        json={"active": False},
        headers={**OPERATOR, "If-Match": f'"{person["version"]}"'},
    )
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize(
    "change",
    [
        _rename_the_table,
        _hand_the_chair_to_leusden,
        _fill_the_chairs_keys_with_its_own,
        _deactivate_the_chairs_person,
    ],
    ids=["renamed", "chair-moved", "keys-full", "person-deactivated"],
)
def test_the_demo_loads_again_whatever_the_operator_changed_in_its_data(live_app, change):
    """`serve --demo` restarted on the same database (the same function as `uitstroomtafel
    demo`) ended in a traceback after the operator renamed the demo table (NoResultFound: it
    looked the table up by its demo name) or gave a demo organisation all the keys it may
    hold (409 too_many_api_keys). A restart starts, names the table as it is now, and prints
    a key for every organisation that can take one and why not for the other; a person the
    operator deactivated keeps no printed password that cannot sign in (the README promises
    one that works right away)."""
    url = live_app.state.settings.database_url
    first = run_cli(url, "demo")
    table_id = DEMO_TABLE_LINE.search(first).group(1)  # type: ignore[union-attr]
    with TestClient(live_app) as client:
        table = client.get(f"/v1/tables/{table_id}", headers=OPERATOR).json()
        change(client, table)
        again = run_cli(url, "demo")
        assert DEMO_TABLE_LINE.search(again).group(1) == table_id  # type: ignore[union-attr]
        name = client.get(f"/v1/tables/{table_id}", headers=OPERATOR).json()["name"]
        assert f"Demo region already loaded: {name} ({table_id})." in again
        keys = DEMO_KEY_LINE.findall(again)
        for key in keys:
            assert (
                client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
            )
    deactivated = "gemeente-amersfoort@demo.example                 (deactivated: no sign-in"
    assert (deactivated in again) == (change is _deactivate_the_chairs_person)
    if change is _fill_the_chairs_keys_with_its_own:
        assert len(keys) == 5
        assert "Gemeente Amersfoort (demo)" in again and "no demo key" in again
    else:
        assert len(keys) == 6


def test_a_dotenv_value_with_a_dash_after_a_lost_equals_sign_is_not_shown_in_part():
    # `UITSTROOM_ADMIN_KEYab12-cd` (the `=` lost, a url-safe key with a dash): the warning showed
    # the name up to the dash, `UITSTROOM_ADMIN_KEYab12`, the key's first characters with it.
    key = "ab12" + "x" * 20 + "-" + "y" * 18
    warnings = unknown_variable_warnings({}, {f"UITSTROOM_ADMIN_KEY{key}": None})
    assert len(warnings) == 1 and key[:4] not in warnings[0]
    assert "name starts UITSTROOM_ADMIN_KEY (in .env) has a character" in warnings[0]


def test_a_misspelt_name_that_lost_its_equals_sign_is_warned_about_without_its_value():
    # The prefix and `SMTP_PASWORDvalue` (one letter lost, and the `=`): no setting's name
    # starts it, so the warning printed it whole, the password with it.
    secret = "s3cr3t" + "z" * 10
    for name, meant in (
        ("UITSTROOM_" + f"SMTP_PASWORD{secret}", "UITSTROOM_SMTP_PASSWORD"),
        ("UITSTROOM_" + f"ADMN_KEY{secret}-{secret}", "UITSTROOM_ADMIN_KEY"),
    ):
        [warning] = unknown_variable_warnings({}, {name: None})
        assert secret[:6] not in warning
        assert f"did you mean {meant}=value?" in warning
    # A misspelt name without anything after it is still shown, with the closest setting.
    misspelt = "UITSTROOM_" + "DATABSE_URL"
    [warning] = unknown_variable_warnings({}, {misspelt: None})
    assert warning.startswith(f"WARNING: {misspelt} (in .env)")
    assert "did you mean UITSTROOM_DATABASE_URL?" in warning
