# Size: one argparse command per subcommand (serve, migrate, demo, openapi, load-areas, ...);
# each is short, and splitting them apart would scatter the one command-line reference.
"""Command line: serve the API, migrate, load demo data, manage organisations, keys and people."""

import argparse
import errno
import io
import json
import logging
import os
import re
import secrets
import signal
import socket
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from app.settings import (
    Settings,
    forwarded_allow_ips,
    get_settings,
    number_rule,
    outside_range,
    plain_http_elsewhere,
)

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from pydantic import ValidationError
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL
    from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
"""Warnings before the server's log is configured: on standard error (Python's last resort), as
`get_settings` says those of unknown variables."""

# Commands import what they need when they run, so that `migrate` or `create-key` does not load
# the whole web application first.


def new_sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL names when there is none yet (migrating will make it), else None."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return None
    if url.database in (None, "", ":memory:") or sqlite_file(url.database).exists():
        return None
    return sqlite_file(url.database)


def sqlite_file(database: str) -> Path:
    """The file SQLite opens for a URL's path: SQLAlchemy makes it absolute as os.path.abspath
    does, which also drops `folder/..` without looking at the folder. Read as written, the path
    `./missing/../x.db` named no file (there is no folder `missing`) where SQLite opened ./x.db:
    `demo` migrated that file and then refused it as in no folder, and `serve` called it a new,
    empty database each start."""
    return Path(os.path.abspath(database))


def refuse_missing_sqlite_file(database_url: str) -> None:
    """Exit when the URL names a SQLite file that does not exist. Opening it would create an
    empty one, and the default `./uitstroomtafel.db` is relative to the current folder: a
    command run from another folder than `serve` made a second, empty database there."""
    from sqlalchemy.engine import make_url

    missing = new_sqlite_file(database_url)
    if missing is None:
        return
    # A folder of the path missing, a file or read-only: `migrate` would fail on it as well.
    problem = sqlite_folder_problem(make_url(database_url))
    if problem:
        sys.exit(f"Cannot use the database of UITSTROOM_DATABASE_URL ({database_url}){problem}")
    sys.exit(
        f"Cannot use the database of UITSTROOM_DATABASE_URL ({database_url}): there is no file "
        f"{missing}{relative_path_remark(make_url(database_url).database)}; run "
        "`uitstroomtafel migrate` first"
    )


RELATIVE_PATH = "a relative path is read from the current folder"


def relative_path_remark(database: str | None, before: str = " (", after: str = ")") -> str:
    """The remark a message about a SQLite file or its folder adds when the URL's path is
    relative, so read from the current folder, which may not be the one meant (`before` and
    `after` it: its place in the message). Said of an absolute path too, it sent the operator
    to a current folder that plays no part."""
    if Path(database or "").is_absolute():
        return ""
    return f"{before}{RELATIVE_PATH}{after}"


def new_database(created: Path, database: str | None) -> str:
    """'New database <file> (there was none...)': the start of what `serve` and `demo` say when
    migrating makes the SQLite file of the URL's path `database`."""
    return f"New database {created} (there was none{relative_path_remark(database, '; ', '')})"


def refuse_unmigrated(database_url: str) -> None:
    """Exit when the database is not at the latest migration, for `serve` that does not migrate
    it (`UITSTROOM_MIGRATE_ON_START=false`): it served such a database, /health/ready answering
    503 and every background job logging a traceback each round ("no such table: job_leases")."""
    from app.migrate import not_migrated

    behind = not_migrated(database_url)
    if behind is None:
        return
    at, latest = behind
    where = "was never migrated" if at == "none" else f"is at migration {at}, not {latest}"
    first = migrate_first(database_url)
    sys.exit(
        f"Cannot serve the database of UITSTROOM_DATABASE_URL ({shown_database_url(database_url)})"
        f": it {where}, and UITSTROOM_MIGRATE_ON_START=false does not migrate it. "
        f"{first[0].upper()}{first[1:]}. {NOTHING_STARTED}"
    )


def migrate_first(database_url: str) -> str:
    """What to do about a database not (or not fully) migrated: run `migrate`; on PostgreSQL,
    when the URL's role may not migrate (the service's own role of README's Database roles),
    who does. "Run `uitstroomtafel migrate` first" sent that role's operator to a command that
    fails as it ("permission denied for schema public", "must be owner of table ...")."""
    from app.migrate import role_that_may_not_migrate

    role = role_that_may_not_migrate(database_url)
    if role is None:
        return "run `uitstroomtafel migrate` first"
    return (
        f"the role of this URL, {role}, may not migrate it: the role that owns the tables (while "
        f"there are none, the database's owner) runs `uitstroomtafel migrate --grant-to {role}` "
        "first, with its own UITSTROOM_DATABASE_URL"
    )


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    from app.db import build_engine

    refuse_missing_sqlite_file(settings.database_url)
    engine = build_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def _migrate(settings: Settings) -> tuple[str, str] | None:
    """Migrate to the latest migration; what `upgrade_to_head` returns (where it was)."""
    from app.migrate import upgrade_to_head

    return upgrade_to_head(settings.database_url)


def demo_settings(settings: Settings) -> Settings:
    """`settings` for a demo run: an operator key for this run if none is set, and webhooks to
    loopback and private addresses unless the setting is given explicitly."""
    changes: dict[str, object] = {}
    if not settings.admin_key:
        changes["admin_key"] = "ust_admin_" + secrets.token_urlsafe(24)
        print(f"Operator key for this run: {changes['admin_key']}")
    if "webhook_allow_private_targets" not in settings.model_fields_set:
        # A demo runs on one machine, so its webhook receiver does too; production refuses that.
        changes["webhook_allow_private_targets"] = True
        print(
            "Demo: webhooks may go to loopback and private addresses "
            "(UITSTROOM_WEBHOOK_ALLOW_PRIVATE_TARGETS=false refuses them)."
        )
    return settings.model_copy(update=changes)


BIND_CHANGES = {
    errno.EADDRINUSE: " Another process listens there (a `serve` still running?): stop it, or "
    "choose another --port.",
    errno.EADDRNOTAVAIL: " This machine has no such address: give --host one of its own "
    "(127.0.0.1, or 0.0.0.0 for all).",
    errno.EACCES: " A port below 1024 needs privileges: choose --port 1024 or higher (a proxy "
    "in front can listen on 80 or 443).",
}
"""What to change when `serve` cannot have its address, by the reason: "Address already in use.
Nothing was started." named the failure, not what to do about it."""

NOTHING_STARTED = "Nothing was started."
"""The end of every refusal of `serve` (`refusal_line`): one that did not say it left the
operator to wonder whether something ran."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port`, or exit saying why (the port is taken, say). `serve`
    binds first, so a demo that cannot serve prints no keys or passwords that then lead nowhere."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        change = BIND_CHANGES.get(exc.errno or 0, "")
        if isinstance(exc, socket.gaierror):
            change = " --host takes an address of this machine, or a name of one (0.0.0.0: all)."
        sys.exit(f"Cannot serve on {host}:{port}: {exc.strerror or exc}.{change} {NOTHING_STARTED}")
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def refuse_unusable_ca_file(settings: Settings) -> None:
    """Exit when `UITSTROOM_SMTP_CA_FILE` cannot be read as certificates: the mail worker would
    fail every mail's attempts against it and mark the mails failed, and say so only in the
    log."""
    import ssl

    if not (settings.mail_enabled and settings.mail_worker and settings.smtp_ca_file):
        return
    try:
        ssl.create_default_context(cafile=settings.smtp_ca_file)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        sys.exit(
            f"Cannot use UITSTROOM_SMTP_CA_FILE {settings.smtp_ca_file}: {reason}. "
            f"{NOTHING_STARTED}"
        )


def base_url(host: str, port: int) -> str:
    """`http://host:port` as a browser on this machine reaches `serve --host host --port port`
    (a wildcard address as loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{host_port(shown, port)}"


def host_port(host: str, port: int) -> str:
    """`host:port`, an IPv6 address in brackets (`[::1]:8000`: `::1:8000` misreads)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def with_public_url(settings: Settings, host: str, port: int) -> Settings:
    """`settings` with `public_url` (where the mails' links point) the address `serve` listens
    on, unless `UITSTROOM_PUBLIC_URL` is given: a fixed default sent every link of a server on
    another port (`serve --port 8150`) to a port nobody serves."""
    if "public_url" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"public_url": base_url(host, port)})


def where(host: str, port: int, root_path: str = "") -> str:
    """The lines `serve` prints once it listens: where the API, the docs and the pages are,
    under the root path of `UITSTROOM_PUBLIC_URL` (`/tafel`), where the app's links point (it
    answers there too, as behind a proxy that passes the path on)."""
    base = base_url(host, port) + root_path
    return "\n".join(
        [
            f"Serving on {base} (listening on {host_port(host, port)})",
            f"  API:        {base}/v1 (contract {base}/v1/openapi.json)",
            f"  docs:       {base}/docs and {base}/redoc",
            f"  pages:      {base}/aanmelden",
            f"  health:     {base}/health/live and {base}/health/ready",
        ]
    )


OPERATOR_OFF = (
    "  UITSTROOM_ADMIN_KEY is not set: the operator API is off (creating organisations, tables "
    "and API keys over HTTP answers 401); set it, serve --demo, or use the CLI commands."
)

PUBLIC_URL_UNSET = (
    "WARNING: UITSTROOM_PUBLIC_URL is not set, so the links in the e-mails (UITSTROOM_SMTP_HOST "
    "is set) start with {}, the address this server listens on, which the people who get them "
    "may not reach; set it to the address people reach the pages at, such as "
    "https://tafel.gemeente.nl."
)

PLAIN_HTTP_SIGN_IN = (
    "WARNING: the pages are at {}, plain http on another host than localhost, where browsers "
    "drop the session cookie (Secure, UITSTROOM_SESSION_COOKIE_SECURE): nobody can sign in "
    "there (the sign-in page says so). Serve them over https (a proxy that ends TLS) and set "
    "UITSTROOM_PUBLIC_URL=https://...; only for a trial on a network you trust, "
    "UITSTROOM_SESSION_COOKIE_SECURE=false."
)

MAX_REQUEST_HEAD_BYTES = 64 * 1024
"""The most of a request's line and headers the server buffers before they end (nginx allows
4 x 8 KiB by default); beyond it the request gets 400 and its connection is closed. A head
that arrives in one read may be longer by that read (at most 256 KiB in asyncio)."""


NEW_DATABASE_SERVED = (
    "{}: the service starts empty. If it had data, that is in another file: stop, and set "
    "UITSTROOM_DATABASE_URL to that file or start in its folder."
)
"""`serve` started in another folder than the last time (a unit file's working directory, a
shell elsewhere) made a new, empty `./uitstroomtafel.db` there without a word: every case,
key and person seemed gone, and the operator could not tell why."""


class RememberedInterrupt:
    """Ctrl-C while `serve` starts, remembered: Python drops an exception raised in a garbage
    collector's callback (SQLAlchemy's, while migrating: "Exception ignored in: <function
    _collection_gced ...> KeyboardInterrupt"), so such a Ctrl-C was lost and the server went
    on to serve. Its handler raises KeyboardInterrupt as Python's does, and `before_serving`
    raises it again if it was lost. Only in place of Python's own handler (an ignored SIGINT,
    a background job's, stays ignored) and in the main thread, where handlers are set."""

    def __init__(self) -> None:
        self.seen = False
        self.before = signal.getsignal(signal.SIGINT)
        self.installed = (
            self.before is signal.default_int_handler
            and threading.current_thread() is threading.main_thread()
        )
        if self.installed:
            signal.signal(signal.SIGINT, self._interrupted)

    def _interrupted(self, signum: int, frame: object) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.before)
            self.installed = False

    def before_serving(self) -> None:
        """Python's handler back (uvicorn sets its own and restores that), and a Ctrl-C that
        was lost on the way raised again."""
        self.restore()
        if self.seen:
            raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    interrupt = RememberedInterrupt()
    try:
        _serve(args, settings, interrupt)
    finally:
        interrupt.restore()


def _serve(args: argparse.Namespace, settings: Settings, interrupt: RememberedInterrupt) -> None:
    import uvicorn
    from sqlalchemy.engine import make_url

    workers = args.workers or settings.workers
    if workers > 1 and make_url(settings.database_url).get_backend_name() != "postgresql":
        sys.exit(
            f"Cannot serve with {workers} workers on {make_url(settings.database_url).drivername}: "
            "several server processes need PostgreSQL (UITSTROOM_DATABASE_URL). SQLite serves "
            f"one process. {NOTHING_STARTED}"
        )
    refuse_unusable_ca_file(settings)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]  # the one the system picked for `--port 0`
    # The application is imported only now (3-5 s): a serve that cannot have its port or its
    # workers says so at once, and a supervisor of several workers never imports it (each
    # worker builds its own from the factory).
    from app.db import build_engine
    from app.migrate import owner_warning
    from app.server_logging import log_config

    given_settings = set(settings.model_fields_set)
    try:
        settings = with_public_url(settings, args.host, port)
        if not settings.migrate_on_start:  # an empty file it makes has no tables either
            refuse_missing_sqlite_file(settings.database_url)
            refuse_unmigrated(settings.database_url)
        created = new_sqlite_file(settings.database_url)
        if settings.migrate_on_start:
            # Here rather than in the app's start-up: the demo data below needs the tables.
            _migrate(settings)
        if args.demo:  # once the database serves: a refused one printed a key for no run
            settings = demo_settings(settings)
        if created is not None and not args.demo:  # from another folder than the last time
            # (a demo fills it: "starts empty" above "Demo region loaded" misled a new user)
            database = make_url(settings.database_url).database
            print(NEW_DATABASE_SERVED.format(new_database(created, database)), flush=True)
        engine = build_engine(settings.database_url)
        try:
            if args.demo:
                with Session(engine, expire_on_commit=False) as session:
                    load_demo_shown(session)
                args.demo_loaded = True  # a closed output from here on: `main` says it is
            # Migrated above, once: the app must not do it again when it starts.
            settings = settings.model_copy(update={"migrate_on_start": False})
            print(where(args.host, port, settings.root_path), flush=True)
            if not settings.admin_key:  # a walk-through's first call would get 401, unexplained
                print(OPERATOR_OFF, flush=True)
            if settings.session_cookie_secure and plain_http_elsewhere(settings.public_url):
                print(PLAIN_HTTP_SIGN_IN.format(settings.public_url), file=sys.stderr, flush=True)
            if settings.mail_enabled and "public_url" not in given_settings:
                print(PUBLIC_URL_UNSET.format(settings.public_url), file=sys.stderr, flush=True)
            for warning in missing_limits(engine):  # as the warnings of unknown variables
                log.warning(warning)
            owner = owner_warning(engine)  # once, not once per worker
            if owner:
                log.warning(f"WARNING: {owner}")
            proxy = proxy_options(args, settings)
            # One worker serves this app; more build theirs from the factory (`serve_workers`).
            config = uvicorn.Config(
                _served_app(settings, engine) if workers == 1 else "app.main:create_served_app",
                factory=workers > 1,
                workers=workers,
                log_level=args.log_level,
                # uvicorn's own configuration, with query values kept out of the log.
                log_config=log_config(),
                proxy_headers=bool(proxy["proxy_headers"]),
                forwarded_allow_ips=str(proxy["forwarded_allow_ips"]),
                # h11 rather than httptools: httptools reads a request line and headers of any
                # size into memory (10 MB of one header were read and answered); h11 stops at
                # its limit with 400 and closes the connection. It is slower: about 0.1 ms of
                # server CPU per request; a batch of 1,000 vacancies is not measurably slower
                # (side by side on 2026-12-05: docs/benchmarks.md, case and ingest rounds).
                http="h11",
                h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
            )
            # A Ctrl-C from here on stops a server: uvicorn says so, and re-raises it once it
            # has shut down ("before serve was serving, ... rolled back" was said after it).
            interrupt.before_serving()
            args.serving = True
            if workers == 1:
                uvicorn.Server(config).run(sockets=[sock])
            else:
                serve_workers(settings, config, sock)
        finally:
            engine.dispose()
    finally:
        sock.close()


def missing_limits(engine: "Engine") -> list[str]:
    """`serve`'s warning for each year up to next year without legal limits of its own: its
    agendas use an earlier year's. Said once per start, not per worker; every migration said
    it, so `migrate`, `demo` and `anonymise` too (a cron job mails it each run), and a `serve`
    that did not migrate never (`uitstroomtafel limits --check` is the check for cron)."""
    from app.limits.service import missing_years
    from app.timeutil import today

    with Session(engine) as session:
        missing = missing_years(session, through=today().year + 1)
    return [
        f"WARNING: no legal limits for {gap.year}: agendas in it use those of "
        f"{gap.falls_back_to} until they are added (PUT /v1/limits/{gap.year})."
        for gap in missing
    ]


def _served_app(settings: Settings, engine: "Engine") -> "FastAPI":
    """The app of a server of one process (imported once the port is bound: see `cmd_serve`)."""
    from app.main import create_app

    return create_app(settings, engine=engine, served=True)


def serve_workers(settings: Settings, config: "uvicorn.Config", sock: socket.socket) -> None:
    """`config.workers` server processes on `sock`, started and watched by uvicorn's supervisor
    (a worker that dies is replaced). Each is a fresh process that builds the app from its
    environment (`config.app` names the factory), so what this command changed in `settings`
    goes there first.

    Every worker runs the webhook and mail workers (deliveries are claimed with leases in the
    database) and the periodic jobs (each round claimed by one process, `app.periodic`).
    """
    from uvicorn.supervisors import Multiprocess

    read = get_settings()
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value != getattr(read, name):
            os.environ[f"UITSTROOM_{name.upper()}"] = _environment_value(value)

    class Supervisor(Multiprocess):
        """uvicorn's supervisor, ended by a signal as one server process is: it stopped its
        workers on Ctrl-C and returned, so `serve --workers 2` ended with status 0 where
        `serve` ended with 130, as a shell reports a command that Ctrl-C ended."""

        def __init__(self) -> None:
            self.original_handlers = {sig: signal.getsignal(sig) for sig in STOPPING}
            self.stopped_by: list[int] = []
            super().__init__(config, sockets=[sock])

        def handle_int(self) -> None:
            self.stopped_by.append(signal.SIGINT)
            super().handle_int()

        def handle_term(self) -> None:
            self.stopped_by.append(signal.SIGTERM)
            super().handle_term()

        def end_as_stopped(self) -> None:
            """The signal that stopped the workers raised again under this process's own
            handler, as uvicorn's single server does: Ctrl-C a KeyboardInterrupt (`main`
            exits 130), SIGTERM the end by SIGTERM; nothing if the signal was ignored."""
            for sig, handler in self.original_handlers.items():
                signal.signal(sig, handler)
            for stopped_by in reversed(self.stopped_by):
                signal.raise_signal(stopped_by)

    supervisor = Supervisor()
    supervisor.run()
    supervisor.end_as_stopped()


STOPPING = (signal.SIGINT, signal.SIGTERM)
"""The signals uvicorn's supervisor stops its workers on (Ctrl-C, a supervisor's stop)."""


def _environment_value(value: object) -> str:
    """A setting as pydantic-settings reads it back from the environment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "get_secret_value"):
        return str(value.get_secret_value())
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "" if value is None else str(value)


def proxy_options(args: argparse.Namespace, settings: Settings) -> dict[str, object]:
    """uvicorn trusts X-Forwarded-For from loopback by default, so behind nothing at all a
    client could pick the address the sign-in lock-out counts. Off unless configured."""
    enabled = settings.proxy_headers if args.proxy_headers is None else args.proxy_headers
    allowed = args.forwarded_allow_ips or settings.forwarded_allow_ips
    return {"proxy_headers": enabled, "forwarded_allow_ips": allowed}


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    if args.grant_to:
        from app.migrate import check_grantable

        try:
            check_grantable(settings.database_url, args.grant_to)
        except ValueError as exc:
            sys.exit(f"Not granted, nothing migrated: {exc}")
    behind = _migrate(settings)
    if behind is None:
        print("Database is at the latest migration.")
    else:  # it said only that, of a new database it had just made every table in
        at, latest = behind
        was = "none (a new database)" if at == "none" else at
        print(f"Database migrated from {was} to the latest migration, {latest}.")
    if args.grant_to:
        from app.migrate import grant_runtime_role

        try:
            grant_runtime_role(settings.database_url, args.grant_to)
        except ValueError as exc:
            sys.exit(f"Not granted: {exc}")
        print(f"{args.grant_to} may now run the service (and cannot rewrite the access log).")


def load_demo_shown(session: Session) -> None:
    """Load the demo region in `session`, print its keys and passwords, and commit only once
    they are written: a standard output closed before (`uitstroomtafel demo | head`) raises
    BrokenPipeError at the flush, and nothing is loaded (an earlier run's keys stay valid)
    rather than keys committed that nobody saw. `main` says so in one line. The output is
    written in one piece, after the load: written line by line, `| head -3` (or an unbuffered
    standard output) took the first lines, table id and a key, then left, and the next line's
    BrokenPipeError rolled back what they named. Now a reader gets every line or none."""
    from app.demo import load_demo

    shown = io.StringIO()
    load_demo(session, out=shown)
    try:
        sys.stdout.write(shown.getvalue())
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as failed:  # `> /dev/full`, a full disk: a traceback, nothing said loaded
        raise DemoNotShown(failed.strerror or str(failed)) from failed
    session.commit()


class DemoNotShown(Exception):
    """Standard output refused the demo's keys and passwords (not a closed pipe): nothing of
    the demo is committed; the reason is the system's (No space left on device)."""


def cmd_demo(_: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    created = new_sqlite_file(settings.database_url)
    _migrate(settings)  # before saying it made a database: it may be refused (no folder)
    if created is not None:  # from another folder than serve's: keys the server does not know
        database = make_url(settings.database_url).database
        print(
            f"{new_database(created, database)}: a server running on another database does "
            "not know the keys below."
        )
    with _session(settings) as session:
        load_demo_shown(session)


def cmd_anonymise(_: argparse.Namespace, settings: Settings) -> None:
    from app.cases.retention import RetentionJob
    from app.db import build_engine

    refuse_missing_sqlite_file(settings.database_url)  # cron's folder is not serve's
    _migrate(settings)
    engine = build_engine(settings.database_url)
    try:
        count = RetentionJob(
            engine, settings.retention_days, idempotency_ttl_hours=settings.idempotency_ttl_hours
        ).run_once()
    finally:
        engine.dispose()
    print(f"Anonymised {count} case file(s) closed more than {settings.retention_days} days ago.")


def cmd_create_organisation(args: argparse.Namespace, settings: Settings) -> None:
    from pydantic import ValidationError

    from app.organisations.models import OrganisationCreate
    from app.organisations.service import create_organisation
    from app.problems import Conflict

    try:
        data = OrganisationCreate(name=args.name, kind=args.kind)
    except ValidationError as exc:
        sys.exit(f"Invalid organisation: {one_line(exc)}")
    with _session(settings) as session:
        try:
            org = create_organisation(session, data)
        except Conflict as refused:
            sys.exit(refused.detail)
        session.commit()
        print(org.id)


def cmd_create_key(args: argparse.Namespace, settings: Settings) -> None:
    from pydantic import ValidationError

    from app.organisations.models import ApiKeyCreate, KeyIssuer, Organisation
    from app.organisations.service import create_api_key
    from app.problems import Conflict

    try:  # the label the API takes (one line, 1-200 characters), as for an organisation's name
        data = ApiKeyCreate(label=args.label)
    except ValidationError as exc:
        sys.exit(f"Invalid key: {one_line(exc)}")
    with _session(settings) as session:
        org = session.get(Organisation, args.organisation_id)
        if org is None:
            sys.exit(f"No organisation {args.organisation_id}")
        try:
            key, raw = create_api_key(session, org, data.label, issued_by=KeyIssuer.command_line)
        except Conflict as refused:
            sys.exit(refused.detail)
        session.commit()
        print(f"key id {key.id}\n{raw}\n(shown once; store it now)")


def cmd_revoke_key(args: argparse.Namespace, settings: Settings) -> None:
    from app.organisations.models import ApiKey
    from app.organisations.service import revoke_api_key

    with _session(settings) as session:
        key = session.get(ApiKey, args.key_id)
        if key is None:
            sys.exit(f"No API key {args.key_id}")
        # As the API revokes: the row locked first, so a revocation committed meanwhile keeps
        # its time rather than being overwritten with this one's; behind one under way.
        key, revoked = revoke_api_key(session, key, queue=True)
        session.commit()
        if not revoked and key.revoked_at is not None:
            # Nothing to do, as `migrate` at the latest migration says so: exit status 0.
            at = key.revoked_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            print(f"API key {key.id} was already revoked at {at}; nothing changed.")
            return
        print(f"revoked {key.id}")


def cmd_create_person(args: argparse.Namespace, settings: Settings) -> None:
    from pydantic import ValidationError

    from app.organisations.models import Organisation
    from app.people.changes import ChangedBy
    from app.people.models import PersonCreate
    from app.people.service import create_person
    from app.problems import ProblemError

    password = read_password() if args.password_stdin else None
    try:
        data = PersonCreate(
            email=args.email,
            display_name=args.display_name,
            role=args.role,
            is_admin=args.admin,
            password=password,
        )
    except ValidationError as exc:
        sys.exit(f"Invalid person: {one_line(exc, password_length_refused(password))}")
    with _session(settings) as session:
        org = session.get(Organisation, args.organisation_id)
        if org is None:
            sys.exit(f"No organisation {args.organisation_id}")
        try:
            by = ChangedBy("CLI create-person")
            person, generated = create_person(session, org, data, by=by)
        except ProblemError as exc:
            sys.exit(str(exc))
        session.commit()
        print(f"person id {person.id} ({person.email}, {person.role})")
        if generated:
            print(f"password: {generated}\n(shown once; hand it over safely)")


def password_length_refused(password: str | None) -> dict[str, str]:
    """The reason for a password of the wrong length in the words of the other refusals of one
    ("Should hold no control characters"), not pydantic's ("String should have at least 12
    characters"), naming an empty one as such: a pipe whose command gave nothing."""
    from app.people.models import PASSWORD_LENGTH_REASON

    reason = PASSWORD_LENGTH_REASON
    if password == "":
        reason += "; none was given (an empty line, or nothing, on standard input)"
    return {"password": reason}


def read_password() -> str:
    """`create-person --password-stdin`: one line of standard input. Typed on a terminal it is
    asked for and not shown (`getpass`): read as a line, it waited without a word and showed the
    password on the screen as it was typed, left in the terminal's scrollback."""
    if sys.stdin.isatty():
        import getpass

        try:
            return getpass.getpass("Password of the new person (not shown): ")
        except (EOFError, KeyboardInterrupt) as left:
            # The terminal ends no line on Ctrl-D or Ctrl-C: what is said next went after the
            # question. Ctrl-D gave a traceback; it is no password, as an empty line piped in.
            if sys.stderr.isatty():
                print(file=sys.stderr)
            if isinstance(left, KeyboardInterrupt):
                raise
            return ""
    return sys.stdin.readline().rstrip("\n")


def cmd_list_organisations(_: argparse.Namespace, settings: Settings) -> None:
    from app.organisations.models import Organisation

    with _session(settings) as session:
        for org in session.exec(select(Organisation).order_by(Organisation.name)):
            print(f"{org.id}  {org.kind:<20} {org.name}")


def cmd_limits(args: argparse.Namespace, settings: Settings) -> None:
    """The years with legal limits, and a warning for every year up to next year without: an
    agenda in such a year falls back to an earlier year's limits. `--check` exits 1 then."""
    from app.limits.service import limits_public, list_limits, missing_years
    from app.timeutil import today

    with _session(settings) as session:
        rows = [limits_public(row) for row in list_limits(session)]
        missing = missing_years(session, through=today().year + 1)
    print(f"{'year':<6}{'low cap':>9}{'high cap':>10}{'DAEB rent':>11}  origin")
    for row in rows:
        print(
            f"{row.year:<6}{row.low_cap:>9}{row.high_cap:>10}{row.daeb_rent_limit:>11}  "
            f"{row.origin or ''}"
        )
        service_costs = (
            "not counted"
            if not row.service_costs_count
            else "counted up to "
            + ("any amount" if row.service_costs_max is None else f"{row.service_costs_max:.2f}")
        )
        figures = (
            f"single {row.income_limit_single:.2f}, more persons {row.income_limit_multi:.2f}; "
            f"at AOW age single {row.income_limit_single_pension:.2f}, more persons "
            f"{row.income_limit_multi_pension:.2f}; DAEB single "
            f"{row.daeb_income_limit_single:.2f}, more persons "
            f"{row.daeb_income_limit_multi:.2f}; service costs {service_costs}"
        )
        print(
            textwrap.fill(
                figures,
                width=100,
                initial_indent="      income limits: ",
                subsequent_indent="      ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
        source = textwrap.fill(
            row.source or "(not recorded)",
            width=100,
            initial_indent="      source: ",
            subsequent_indent="      ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        print(source)
    if not rows:
        print("WARNING: no limits at all; every agenda is refused.", file=sys.stderr)
    this_year = today().year
    for gap in missing:
        when = "now use" if gap.year <= this_year else "will use"
        print(
            f"WARNING: no limits for {gap.year}: agendas in {gap.year} {when} those of "
            f"{gap.falls_back_to}. Add {gap.year} with PUT /v1/limits/{gap.year} or in "
            "app/data/limits.json once the figures are published.",
            file=sys.stderr,
        )
    if args.check and (missing or not rows):
        sys.exit(1)


def cmd_load_areas(args: argparse.Namespace, settings: Settings) -> None:
    """Load the names of CBS areas from a CSV file CBS publishes (format: README, "Area
    names"); nothing is downloaded. Exits 2 on a file it cannot read."""
    from app.areas.service import load_cbs_file

    path = Path(args.file)
    try:
        with _session(settings) as session:
            report = load_cbs_file(session, path, args.source)
            session.commit()
    except (OSError, ValueError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"{report.loaded} area names loaded from {path.name}; {report.skipped} rows skipped")


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> None:
    from app.main import create_app

    text = json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as exc:
            sys.exit(f"Cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)


def one_line(exc: "ValidationError", lengths: dict[str, str] | None = None) -> str:
    """A validation error's reasons on one line, field by field, without the input, in the
    API's words (a pattern's meaning, not the regex); `lengths`: a field's own reason for a
    value too short or too long."""
    from app.problems import error_reason

    said = []
    for e in exc.errors():
        field = ".".join(map(str, e["loc"]))
        own = (lengths or {}).get(field)
        too_long_or_short = e["type"] in ("string_too_short", "string_too_long")
        said.append(f"{field}: {own if own and too_long_or_short else error_reason(dict(e))}")
    return "; ".join(said)


def configuration_mistake(exc: "ValidationError") -> str:
    """Invalid settings on one line, each named by the variable the operator set
    (`UITSTROOM_WORKERS`, not `workers`); a rule's own message already names its variables."""
    from app.problems import error_reason

    said = []
    for e in exc.errors():
        reason = error_reason(dict(e)).removeprefix("Value error, ")
        variable = "UITSTROOM_" + "_".join(map(str, e["loc"])).upper() if e["loc"] else ""
        said.append(f"{variable}: {reason}" if not reason.startswith(variable) else reason)
    return "; ".join(said)


def an_id(text: str) -> uuid.UUID:
    """An id argument (an organisation's, a key's): refused by argparse, with usage and exit
    status 2, when it is not a UUID."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id (a UUID): {text!r}") from None


def a_port(text: str) -> int:
    """`serve --port`: a TCP port (0: one the system picks), white space around ignored as
    around `--workers` and every number in the environment (`--port ' 8272'` was refused where
    `--workers ' 2'` was taken); refused by argparse (usage, exit status 2) otherwise."""
    rule = "a whole number from 0 to 65535 (0: one the system picks)"
    return _whole_number_option(text, rule, lambda port: port > 65535)


def _whole_number_option(text: str, rule: str, outside: "Callable[[float], bool]") -> int:
    """A number option's value, white space around ignored, or argparse's refusal "must be
    `rule`, not '-1'": one sentence for every value refused, the rule and what was given.
    `--port -1` said "must be a whole number from 0 to 65535 in the digits 0-9, not '-1'"
    and `--port 70000` "... (0: one the system picks), not 70000": two rules for one option."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or outside(_whole_number(digits)):
        raise argparse.ArgumentTypeError(f"must be {rule}, not {_shown(text)}")
    return int(digits)


def _whole_number(digits: str) -> float:
    """The number an option's digits 0-9 write; past 30 digits an infinity, out of every range:
    Python reads no whole number of more than 4300 digits, and argparse took its ValueError
    for a value of the wrong type ("invalid a_port value: '999...'", all 5000 digits)."""
    return int(digits) if len(digits.lstrip("0")) <= 30 else float("inf")


def _shown(text: str) -> str:
    """An option's value as a refusal quotes it (white space seen): a long one cut to its start
    and length."""
    return repr(text) if len(text) <= 30 else f"{text[:12]!r}... ({len(text)} characters)"


def a_host(text: str) -> str:
    """`serve --host`: an address or name to listen on, white space around ignored as around
    `--port` (no address or name holds any: `--host ' 127.0.0.1'` was 'Name or service not
    known'); empty (an unset `$HOST`) would listen on every interface, where the default is
    loopback, refused by argparse (usage, exit status 2)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"not a host: {text!r} (0.0.0.0 listens on every interface)"
        )
    if any(character.isspace() for character in text.strip()):  # `--host 'a b'`: a lookup, exit 1
        raise argparse.ArgumentTypeError(
            f"not a host: {text!r} (no address or name holds white space)"
        )
    return text.strip()


def a_worker_count(text: str) -> int:
    """`serve --workers`: as `UITSTROOM_WORKERS` is read, white space around ignored
    (`--workers ' 2'` was refused where the variable started two), refused by argparse (usage,
    exit status 2) in the variable's words: `--workers 0` said "not a number of workers"."""
    return _whole_number_option(
        text, number_rule("workers"), lambda count: outside_range("workers", count)
    )


def a_proxy_list(text: str) -> str:
    """`serve --forwarded-allow-ips`: as `UITSTROOM_FORWARDED_ALLOW_IPS`, refused by argparse
    (usage, exit status 2) when an item is no IP address or network."""
    try:
        return forwarded_allow_ips(text, "it")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uitstroomtafel", description=__doc__)
    parser.add_argument(
        "--version", action=PrintVersion, nargs=0, help="print the package and API versions"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (migrates the database first)")
    serve.add_argument("--host", type=a_host, default="127.0.0.1", help="default 127.0.0.1")
    serve.add_argument("--port", type=a_port, default=8000, help="0-65535 (default 8000)")
    serve.add_argument("--demo", action="store_true", help="load a demo region and print its keys")
    serve.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        default="info",
    )
    serve.add_argument(
        "--workers",
        type=a_worker_count,
        metavar="N",
        help="server processes on the one port, 1-64, PostgreSQL only when more than one "
        "(UITSTROOM_WORKERS, default 1)",
    )
    serve.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        help="behind a reverse proxy: take the client address from X-Forwarded-For "
        "(UITSTROOM_PROXY_HEADERS, default off; --no-proxy-headers: off, whatever it says)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        type=a_proxy_list,
        help="the proxies trusted for --proxy-headers, comma-separated "
        "(UITSTROOM_FORWARDED_ALLOW_IPS, default 127.0.0.1)",
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database to the latest migration")
    migrate.add_argument(
        "--grant-to",
        metavar="ROLE",
        help="PostgreSQL: then grant ROLE (the service's own login) what it needs, and no more "
        "on the access log",
    )
    migrate.set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo region and print its keys").set_defaults(
        func=cmd_demo
    )

    sub.add_parser(
        "anonymise", help="anonymise closed case files past the retention period"
    ).set_defaults(func=cmd_anonymise)
    org = sub.add_parser("create-organisation", help="register an organisation")
    org.add_argument("name")
    org.add_argument("kind", choices=["municipality", "care_provider", "housing_corporation"])
    org.set_defaults(func=cmd_create_organisation)

    key = sub.add_parser("create-key", help="issue an API key for an organisation")
    key.add_argument("organisation_id", type=an_id)
    key.add_argument("label")
    key.set_defaults(func=cmd_create_key)

    revoke = sub.add_parser("revoke-key", help="revoke an API key")
    revoke.add_argument("key_id", type=an_id)
    revoke.set_defaults(func=cmd_revoke_key)

    person = sub.add_parser("create-person", help="create a person who signs in to the pages")
    person.add_argument("organisation_id", type=an_id)
    person.add_argument("email")
    person.add_argument("display_name")
    person.add_argument("--role", choices=["chair", "member", "viewer"], default="member")
    person.add_argument("--admin", action="store_true", help="may manage the organisation's people")
    person.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (otherwise one is generated and printed)",
    )
    person.set_defaults(func=cmd_create_person)

    sub.add_parser("list-organisations", help="list organisations").set_defaults(
        func=cmd_list_organisations
    )

    limits = sub.add_parser(
        "limits", help="list the years with legal limits and warn about missing ones"
    )
    limits.add_argument(
        "--check", action="store_true", help="exit 1 when a year up to next year has no limits"
    )
    limits.set_defaults(func=cmd_limits)

    areas = sub.add_parser(
        "load-areas", help="load CBS municipality, district and neighbourhood names from a CSV"
    )
    areas.add_argument("file", help="the CSV file as CBS publishes it (see the README)")
    areas.add_argument("--source", help="what to record as the names' source (default: file name)")
    areas.set_defaults(func=cmd_load_areas)

    spec = sub.add_parser("openapi", help="print or write the OpenAPI contract")
    spec.add_argument("--output", help="file to write, e.g. openapi/openapi.json")
    spec.set_defaults(func=cmd_openapi)
    return parser


class PrintVersion(argparse.Action):
    """`--version`, importing the app (for its API version) only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
        print(f"{parser.prog} {package_version()}")
        parser.exit()


def package_version() -> str:
    """The installed package's version (pyproject.toml), and the API contract's."""
    from importlib.metadata import PackageNotFoundError, version

    from app.main import API_VERSION

    try:
        installed = version("uitstroomtafel")
    except PackageNotFoundError:  # run from a checkout that was never installed
        installed = "unknown"
    return f"{installed} (API {API_VERSION})"


def main(argv: list[str] | None = None, settings: Settings | None = None) -> None:
    """Run one command; `settings` default to this process's (environment and `.env`), refused
    at start with the reason when they are invalid."""
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    if settings is None:
        try:
            settings = get_settings()
        # Refused at start, with the reason and nothing else; by `serve` and `migrate` ended as
        # their other refusals (it ended "... (its default)" with no full stop nor "Nothing was
        # started.", though the same mistake found later ended with both).
        except ValidationError as exc:
            sys.exit(refusal_line(args, f"Invalid configuration: {configuration_mistake(exc)}"))
        except UnicodeDecodeError as exc:  # `.env` saved in another encoding (Latin-1)
            byte = f"byte {exc.object[exc.start]:#04x} at {exc.start}"
            sys.exit(
                refusal_line(
                    args,
                    f"Invalid configuration: cannot read {Path('.env').absolute()} as "
                    f"{exc.encoding} text ({byte}); save it as {exc.encoding}",
                )
            )
    from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

    from app.migrate import DatabaseTooNew

    try:
        run_refusing(args, settings)
    except KeyboardInterrupt:  # Ctrl-C (serving, uvicorn stops on it itself): not a traceback
        if not getattr(args, "serving", False):  # uvicorn said its shutdown, then re-raised it
            print(stopped_by_interrupt(args), file=sys.stderr)
        sys.exit(130)  # as a shell reports a command that SIGINT ended
    except BrokenPipeError:  # `| head`: the reader left; a traceback would follow it
        # Python flushes standard output once more at exit: into nothing now, not the pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(output_closed(args))
    except DemoNotShown as failed:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # its buffer, at exit
        sys.exit(
            f"Nothing of the demo was loaded: its keys and passwords could not be written to "
            f"standard output ({failed}). The keys of an earlier run still work."
        )
    except DatabaseTooNew as refused:
        sys.exit(refusal_line(args, str(refused)))
    except OperationalError as exc:  # the database cannot be reached or opened, or is empty
        sys.exit(refusal_line(args, database_failure(settings.database_url, exc)))
    except ProgrammingError as exc:  # PostgreSQL: a relation that does not exist (not migrated),
        # or a right the role lacks (the service's own role migrating, as by default on start)
        if getattr(exc.orig, "sqlstate", None) not in ("42P01", INSUFFICIENT_PRIVILEGE):
            raise
        sys.exit(refusal_line(args, database_failure(settings.database_url, exc)))
    except DatabaseError as exc:  # SQLite: the URL names a file that is no database
        if getattr(exc.orig, "sqlite_errorname", None) not in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise
        sys.exit(refusal_line(args, database_failure(settings.database_url, exc)))


def run_refusing(args: argparse.Namespace, settings: Settings) -> None:
    """Run the command; the line of a refusal it exits with ended as `refusal_line` ends it."""
    try:
        args.func(args, settings)
    except SystemExit as refused:
        if isinstance(refused.code, str):
            refused.code = refusal_line(args, refused.code)
        raise


def refusal_line(args: argparse.Namespace, line: str) -> str:
    """A refusal of `serve` or `migrate` ended alike: with a full stop, and for `serve`, before
    it serves, with "Nothing was started.". Of a missing SQLite file `serve` said "...; run
    `uitstroomtafel migrate` first" and of an empty one "... Run `uitstroomtafel migrate` first.
    Nothing was started.", its other refusals with or without either: the same situation read
    as two. The lines of other commands are theirs (shared ones too, such as a database's)."""
    if args.command not in ("serve", "migrate") or getattr(args, "serving", False):
        return line
    if not line.endswith("."):
        line += "."
    if args.command == "serve" and not line.endswith(NOTHING_STARTED):
        line += f" {NOTHING_STARTED}"
    return line


OUTPUT_CLOSED = {
    "": "Stopped: standard output was closed before `{}` had written everything.",
    "demo": "Nothing of the demo was loaded: standard output was closed before its keys and "
    "passwords were all written (`| head`?). Run `uitstroomtafel demo` again and keep its "
    "whole output; the keys of an earlier run still work.",
    "serve --demo": "Stopped, and nothing of the demo was loaded: standard output was closed "
    "before its keys and passwords were all written (`| head`?). Run `uitstroomtafel serve "
    "--demo` again and keep its whole output; the keys of an earlier run still work.",
    "serve --demo loaded": "Stopped: standard output was closed after the demo was loaded, "
    "before `serve` had written everything (`| head`?). The demo's keys and passwords were "
    "written in full and work; if they did not reach you, `uitstroomtafel serve --demo` again "
    "shows new ones (and revokes these).",
}


def stopped_by_interrupt(args: argparse.Namespace) -> str:
    """The one line of a command stopped by Ctrl-C: it ended in a traceback of 50 to 90 lines
    (Alembic's, mid-migration), which read as a crash. What was committed stays, the rest was
    rolled back; the command run again carries on (migrations from the last one recorded)."""
    if args.command == "serve":  # before it listened: migrating, or loading the demo
        return (
            "Stopped by Ctrl-C before `uitstroomtafel serve` was serving: what it had not "
            "committed was rolled back, and the next start carries on."
        )
    return (
        f"Stopped by Ctrl-C before `uitstroomtafel {args.command}` had finished: what it had not "
        "committed was rolled back. Run it again to finish."
    )


def output_closed(args: argparse.Namespace) -> str:
    """The one line of a command whose standard output was closed (`| head`). `serve --demo`
    says whether the demo was loaded, which it knows (`load_demo_shown` commits only once the
    keys are written): it said 'if its keys were written, the demo is loaded ...; if not,
    nothing ...', where `| head -2` shows no key either way."""
    if args.command == "serve" and args.demo:
        return OUTPUT_CLOSED[
            "serve --demo loaded" if getattr(args, "demo_loaded", False) else "serve --demo"
        ]
    return OUTPUT_CLOSED.get(args.command, OUTPUT_CLOSED[""]).format(args.command)


def sqlite_folder_problem(url: "URL") -> str:
    """What is wrong with the folder of a SQLite file that SQLite could not open, where that is
    the folder: "unable to open database file" named neither a folder that does not exist (a
    relative path read from another folder than meant) nor one the service may not write in,
    where SQLite keeps its journal beside the file, so not what to change."""
    if not url.database or url.database == ":memory:" or url.query.get("uri"):
        return ""
    path = sqlite_file(url.database)
    folder = path.parent
    relative = relative_path_remark(url.database)
    if path.is_dir():  # `sqlite:///data`, the file's name left out
        return (
            f": {path} is a folder{relative}; name the database file in it, such as "
            f"{path / 'uitstroomtafel.db'}"
        )
    if not folder.is_dir():
        # A file where a folder of the path belongs cannot be created as one ("create it").
        there = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if there is not None and not there.is_dir():
            return f": {there} is a file, not a folder{relative}; correct the path"
        return f": there is no folder {folder}{relative}; create it or correct the path"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f": the folder {folder} is read-only to this user, and SQLite writes its journal "
            "beside the file; make the folder writable or choose another"
        )
    return ""


INSUFFICIENT_PRIVILEGE = "42501"
"""PostgreSQL's SQLSTATE of a right the role lacks ("must be owner of table ...", "permission
denied for ...")."""


def shown_database_url(database_url: str) -> str:
    """The database URL as a message may show it: its password hidden, also one in the query,
    which libpq takes."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    hidden = {key: "***" for key in url.query if "password" in key.lower()}  # ?password=...
    shown = url.update_query_dict(hidden).render_as_string(hide_password=True)
    return shown.replace("=%2A%2A%2A", "=***")


UNREACHABLE = (
    "Connection refused",
    "timeout expired",
    "No route to host",
    "Network is unreachable",
    "failed to resolve host",
    "could not translate host name",
)
"""What libpq (psycopg) says of a PostgreSQL server it cannot reach: not running at that host
and port, a firewall, a host name that does not resolve."""


SOCKET = re.compile(r'on socket "(?P<folder>.*)/\.s\.PGSQL\.(?P<port>[0-9]+)" failed')
"""libpq's words for the local socket it tried: `connection to server on socket
"/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory` (a URL without a host,
or with the folder as `?host=/var/run/postgresql`)."""


DEFAULT_SOCKET = (
    ", libpq's own for a UITSTROOM_DATABASE_URL without a host (`?host=/folder` names another)"
)


def unreachable_postgresql(url: "URL", reason: str) -> str:
    """What to check, naming what was tried, when libpq could not reach the server ("" when it
    did): the socket's folder and port from libpq's words (a URL without a host: libpq's
    default folder, which the URL does not name), else the host and port of the URL, also those
    given in its query (`?host=db&port=6543`, which libpq takes as well)."""
    local = SOCKET.search(reason)
    if local is not None and ("No such file" in reason or "Connection refused" in reason):
        default = "" if url.host or "host" in url.query else DEFAULT_SOCKET
        return (
            "; check that PostgreSQL runs on this machine with its socket in the folder "
            f"{local['folder']} (port {local['port']}){default}"
        )
    if not any(s in reason for s in UNREACHABLE):
        return ""
    query = {k: ",".join(v) if isinstance(v, tuple) else v for k, v in url.query.items()}
    host = url.host or query.get("host")
    port = url.port or query.get("port") or 5432
    where = f" ({host}, port {port})" if host else ""
    return (
        f"; check that PostgreSQL runs at the host and port of UITSTROOM_DATABASE_URL{where} "
        "and accepts connections from this machine"
    )


def database_failure(database_url: str, exc: "DBAPIError") -> str:
    """One line for a database the command could not use, naming the setting (its password
    hidden, also one in the query, which libpq takes) and the driver's reason."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    shown = shown_database_url(database_url)
    reason = str(exc.orig or exc).strip().splitlines()[0]
    if url.get_backend_name() == "sqlite" and reason == "unable to open database file":
        reason += sqlite_folder_problem(url)
    if url.get_backend_name() == "postgresql":
        reason += unreachable_postgresql(url, reason)
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        reason += f"; {migrate_first(database_url)}"
    if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
        reason += (
            ". Migrate as the role that owns the tables (`uitstroomtafel migrate --grant-to "
            "ROLE` then grants the service's ROLE what it needs), and serve as ROLE with "
            "UITSTROOM_MIGRATE_ON_START=false"
        )
    return f"Cannot use the database of UITSTROOM_DATABASE_URL ({shown}): {reason}"


if __name__ == "__main__":
    main()
