"""On PostgreSQL the service runs as a role that does not own the tables: it reads and writes
rows, and may only add to the access log. Its owner (who migrates) or a superuser could drop or
disable the append-only triggers; the runtime role can do neither."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlmodel import Session

from app.cli import main
from app.db import build_engine, get_session
from app.main import create_app
from app.migrate import alembic_config, grant_runtime_role, owner_warning
from app.settings import get_settings
from tests.cli import run_cli
from tests.conftest import OPERATOR, PG, case_body


@pytest.fixture
def runtime(databases) -> Iterator[tuple[str, Engine]]:  # type: ignore[no-untyped-def]
    """A migrated database, a fresh login role granted by `grant_runtime_role`, and an engine
    that connects as that role; the role is dropped afterwards (roles outlive databases)."""
    if databases.backend != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's; SQLite has none")
    url = databases.migrated_url()
    role = f"uitstroom_rt_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    engine = None
    try:
        grant_runtime_role(url, role)
        engine = build_engine(make_url(url).set(username=role, password=None).render_as_string())
        yield url, engine
    finally:
        if engine is not None:
            engine.dispose()
        drop_owned(url, role)
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def drop_owned(url: str, *roles: str) -> None:
    """Drop what the roles own and were granted in the database of `url` (roles outlive it)."""
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        quoted = ", ".join(f'"{role}"' for role in roles)
        connection.execute(text(f"DROP OWNED BY {quoted}"))
    owner.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET endpoint = 'forged'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
        "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only",
        "DROP TRIGGER access_log_append_only ON access_log",
        "DROP TABLE access_log",
        "UPDATE person_changes SET value = 'chair'",
        "DELETE FROM person_changes",
        "TRUNCATE person_changes",
        "DROP TRIGGER person_changes_append_only ON person_changes",
        "UPDATE alembic_version SET version_num = 'x'",
    ],
)
def test_the_runtime_role_cannot_rewrite_the_access_log(runtime, statement):
    _, engine = runtime
    with pytest.raises((ProgrammingError, DBAPIError)) as refused, engine.begin() as connection:
        connection.execute(text(statement))
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


def test_the_service_works_as_the_runtime_role_and_its_reads_are_logged(runtime, settings):
    _, engine = runtime
    app = create_app(settings, engine=engine)

    def runtime_session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    app.dependency_overrides[get_session] = runtime_session
    with TestClient(app) as client:
        org = client.post(
            "/v1/organizations", json={"name": "Zorg", "kind": "care_provider"}, headers=OPERATOR
        ).json()
        chair = client.post(
            "/v1/organizations", json={"name": "Gemeente", "kind": "municipality"}, headers=OPERATOR
        ).json()
        key = client.post(
            f"/v1/organizations/{org['id']}/api-keys", json={"label": "t"}, headers=OPERATOR
        ).json()["key"]
        chair_key = client.post(
            f"/v1/organizations/{chair['id']}/api-keys", json={"label": "t"}, headers=OPERATOR
        ).json()["key"]
        table = client.post(
            "/v1/tables",
            json={
                "name": "Regio",
                "municipality_codes": ["GM0344"],
                "chair_organisation_id": chair["id"],
                "member_organisation_ids": [org["id"]],
            },
            headers=OPERATOR,
        ).json()
        headers = {"Authorization": f"Bearer {key}"}
        case = client.post("/v1/cases", json=case_body(table["id"]), headers=headers)
        assert case.status_code == 201, case.text
        read = client.get(f"/v1/cases/{case.json()['id']}", headers=headers)
        assert read.status_code == 200, read.text
        log = client.get(
            f"/v1/tables/{table['id']}/access-log",
            headers={"Authorization": f"Bearer {chair_key}"},
        ).json()["items"]
    assert [e["action"] for e in log] == ["create", "read"]
    assert owner_warning(engine) is None


def test_the_owner_or_a_superuser_is_refused_as_the_runtime_role(databases):
    if databases.backend != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's")
    url = databases.migrated_url()
    superuser = make_url(url).username
    with pytest.raises(ValueError, match="superuser or owns"):
        grant_runtime_role(url, superuser)
    engine = create_engine(url)
    try:
        assert "owner of access_log or a superuser" in (owner_warning(engine) or "")
    finally:
        engine.dispose()


def test_migrating_as_the_runtime_role_is_refused_in_one_line_saying_which_role_migrates(runtime):
    # The service's role migrating, as `serve` does by default (UITSTROOM_MIGRATE_ON_START) and
    # `migrate` run with the service's URL: once a release brought a migration, both ended in a
    # traceback of psycopg's "must be owner of table idempotency_records".
    url, engine = runtime
    command.downgrade(alembic_config(url), "0033_anonymised_references")  # as the owner
    as_runtime = engine.url.render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as refused:
        run_cli(as_runtime, "migrate")
    said = str(refused.value.code)
    assert said.startswith(f"Cannot use the database of UITSTROOM_DATABASE_URL ({as_runtime}): ")
    assert "must be owner of table" in said and "\n" not in said
    assert said.endswith(
        ". Migrate as the role that owns the tables (`uitstroomtafel migrate --grant-to ROLE` "
        "then grants the service's ROLE what it needs), and serve as ROLE with "
        "UITSTROOM_MIGRATE_ON_START=false."
    )


@pytest.mark.settings(migrate_on_start=False)
def test_an_app_started_with_the_database_down_says_so_in_one_line(settings, caplog):
    # An app started by another server (`create_app`, not `serve`) checks the role at start; with
    # PostgreSQL not answering, that check logged a traceback of some 60 lines for what requests
    # then answer as 503 anyway.
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    try:
        with (
            caplog.at_level("WARNING", logger="app.main"),
            TestClient(create_app(settings, engine=engine)),
        ):
            pass
    finally:
        engine.dispose()
    said = [r for r in caplog.records if "database role" in r.getMessage()]
    assert len(said) == 1 and said[0].exc_info is None, said
    assert "could not check the database role" in said[0].getMessage()
    assert "127.0.0.1" in said[0].getMessage()  # the driver's first line: where it tried


@contextmanager
def login_role(prefix: str = "uitstroom_rt") -> Iterator[str]:
    """A fresh login role of no rights but the defaults, dropped afterwards; its name (quoted,
    so as given) the prefix and a random tail."""
    role = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        yield role
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def serve_refusal(url: str) -> str:
    """What `serve` with UITSTROOM_MIGRATE_ON_START=false on `url` exits with (it must refuse)."""
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": False})
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--port", "0"], settings=settings)
    return str(refused.value.code)


def run_refused(url: str, *args: str) -> str:
    with pytest.raises(SystemExit) as refused:
        run_cli(url, *args)
    return str(refused.value.code)


def test_serve_not_migrating_says_who_migrates_when_its_role_may_not(runtime, databases):
    """With UITSTROOM_MIGRATE_ON_START=false on a database never migrated or behind the latest
    migration, `serve` said "Run `uitstroomtafel migrate` first" to the service's own role,
    which may not: the command then failed as it ("permission denied for schema public", "must
    be owner of table ..."). It names the role that migrates and the grant to this one."""
    url, engine = runtime
    command.downgrade(alembic_config(url), "0033_anonymised_references")  # as the owner
    as_runtime = engine.url.render_as_string(hide_password=False)
    role = engine.url.username
    empty = databases.new_url()
    with login_role() as other:
        never = make_url(empty).set(username=other, password=None).render_as_string()
        for served, where, as_role in (
            (as_runtime, "is at migration 0033_anonymised_references, not ", role),
            (never, "was never migrated, ", other),
        ):
            said = serve_refusal(served)
            assert where in said, said
            assert said.endswith(
                f"does not migrate it. The role of this URL, {as_role}, may not migrate it: the "
                "role that owns the tables (while there are none, the database's owner) runs "
                f"`uitstroomtafel migrate --grant-to {as_role}` first, with its own "
                "UITSTROOM_DATABASE_URL. Nothing was started."
            ), said
        # Said also by a command that found no table (it said "run `uitstroomtafel migrate`").
        listed = run_refused(never, "list-organisations")
        assert listed.endswith(
            f"`uitstroomtafel migrate --grant-to {other}` first, with its own "
            "UITSTROOM_DATABASE_URL"
        ), listed
    # The owner (here a superuser) may: it is told to migrate, as on SQLite.
    for owner in (url, empty):
        assert serve_refusal(owner).endswith(
            "does not migrate it. Run `uitstroomtafel migrate` first. Nothing was started."
        )


def test_a_role_with_a_hyphen_and_capitals_is_granted_as_serve_says_it_must_be(databases):
    """`serve` tells a role that may not migrate: the owner "runs `uitstroomtafel migrate
    --grant-to <role>` first". For a role named as PostgreSQL allows with quotes (a hyphen, as
    `uitstroom-app`), that very command was refused: "Not granted, nothing migrated: not a plain
    role name". The grant quotes the name, so it takes such a role, capitals kept."""
    if databases.backend != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's; SQLite has none")
    url = databases.new_url()
    with login_role("Uitstroom-App") as role:
        served = make_url(url).set(username=role, password=None).render_as_string()
        said = serve_refusal(served)
        assert f"`uitstroomtafel migrate --grant-to {role}` first" in said, said
        try:
            run_cli(url, "migrate", "--grant-to", role)  # what it says, as the owner
            engine = build_engine(served)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
                with pytest.raises(ProgrammingError):
                    connection.execute(text("DELETE FROM access_log"))
            engine.dispose()
        finally:
            drop_owned(url, role)


def test_a_member_of_the_owning_role_is_told_to_migrate_not_who_may(databases):
    """The database (and so its tables, once made) owned by a group role and migrated by its
    members, a common set-up: `serve` told such a member "The role of this URL, <member>, may
    not migrate it: the role that owns the tables ... runs `uitstroomtafel migrate --grant-to
    <member>`", though `migrate` as that member works. Membership in the owner counts."""
    if databases.backend != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's; SQLite has none")
    url = databases.new_url()
    name = make_url(url).database
    admin = create_engine(PG.url, isolation_level="AUTOCOMMIT")
    with login_role("uitstroom_owners") as owners, login_role() as member:
        with admin.connect() as connection:
            connection.execute(text(f'GRANT "{owners}" TO "{member}"'))
            connection.execute(text(f'ALTER DATABASE "{name}" OWNER TO "{owners}"'))
        as_member = make_url(url).set(username=member, password=None).render_as_string()
        try:
            assert serve_refusal(as_member).endswith(
                "does not migrate it. Run `uitstroomtafel migrate` first. Nothing was started."
            )
            run_cli(as_member, "migrate")  # as it says: the member may
        finally:
            drop_owned(url, member, owners)
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" OWNER TO CURRENT_USER'))
    admin.dispose()


@pytest.mark.parametrize("inherit", ["INHERIT", "NOINHERIT"])
def test_a_member_of_the_access_logs_owner_is_refused_as_the_runtime_role(databases, inherit):
    """The access log owned by a group role: a member of it has its owner's rights (it may
    `ALTER TABLE access_log DISABLE TRIGGER`), yet `migrate --grant-to <member>` granted it as
    the service's role and the service connecting as it was not warned. Both as for the owner;
    a member that does not inherit the owner's rights too, as it takes them with `SET ROLE`."""
    if databases.backend != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's")
    url = databases.migrated_url()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with login_role("uitstroom_owners") as owners, login_role() as member:
        with admin.connect() as connection:
            connection.execute(text(f'GRANT "{owners}" TO "{member}"'))
            connection.execute(text(f'ALTER ROLE "{member}" {inherit}'))
            connection.execute(text(f'ALTER TABLE access_log OWNER TO "{owners}"'))
        try:
            with pytest.raises(ValueError, match="superuser or owns"):
                grant_runtime_role(url, member)
            engine = create_engine(make_url(url).set(username=member, password=None))
            try:
                assert "owner of access_log or a superuser" in (owner_warning(engine) or "")
            finally:
                engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text("ALTER TABLE access_log OWNER TO CURRENT_USER"))
            drop_owned(url, member, owners)
    admin.dispose()
