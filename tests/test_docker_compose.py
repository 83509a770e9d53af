"""docker-compose.yml hands the app a database URL and password that work for any password the
operator sets in POSTGRES_PASSWORD. Docker is not needed: the test interpolates the compose
file's variables as Compose does and gives the app service's environment to the service."""

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from app.db import build_engine
from app.settings import Settings
from tests.conftest import PG

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|:\?)(?P<word>[^}]*))?\}")


def interpolated(value: str, variables: dict[str, str]) -> str:
    """`value` with `${NAME}`, `${NAME:-default}` and `${NAME:?error}` replaced as Compose
    replaces them (the forms docker-compose.yml uses; `$$` is none of them)."""

    def replace(found: re.Match[str]) -> str:
        given = variables.get(found["name"], "")
        if given or found["op"] is None:
            return given
        if found["op"] == ":?":
            raise AssertionError(f"compose would refuse: {found['word']}")
        return found["word"]

    return VARIABLE.sub(replace, value)


def service_environment(service: str, variables: dict[str, str]) -> dict[str, str]:
    compose = yaml.safe_load(COMPOSE.read_text())
    environment = compose["services"][service]["environment"]
    return {name: interpolated(str(value), variables) for name, value in environment.items()}


PASSWORDS = ["p@ss:w/rd%40?#x", "a b@c", "100%", "uitstroom"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_compose_app_is_given_the_databases_password_whatever_it_holds(password):
    # The URL carried ${POSTGRES_PASSWORD} as written: a password with @ was refused at start,
    # one with : or / made another host or port, one with %40 was read as another password.
    variables = {
        "POSTGRES_PASSWORD": password,
        "UITSTROOM_ADMIN_KEY": "k" * 16 + "0123456789abcdef",
    }
    database = service_environment("db", variables)
    app = service_environment("app", variables)
    url = make_url(Settings(database_url=app["UITSTROOM_DATABASE_URL"]).database_url)
    assert url.password is None  # nothing to encode: the password goes apart
    assert (url.username, url.host, url.database) == (
        database["POSTGRES_USER"],
        "db",
        database["POSTGRES_DB"],
    )
    assert app["PGPASSWORD"] == database["POSTGRES_PASSWORD"] == password


def test_the_compose_password_without_one_set_is_the_databases_default():
    assert (
        service_environment("app", {"UITSTROOM_ADMIN_KEY": "x"})["PGPASSWORD"]
        == (service_environment("db", {})["POSTGRES_PASSWORD"])
    )


def test_the_service_connects_with_the_password_of_pgpassword_as_it_is(monkeypatch):
    # What the compose app relies on: a URL without a password, and libpq taking it from
    # PGPASSWORD, unencoded. The suite's server trusts every local login, so the test asks the
    # connection which password it would have sent.
    if not PG.url:
        pytest.skip(f"PostgreSQL: {PG.skip_reason}")
    password = PASSWORDS[0]
    monkeypatch.setenv("PGPASSWORD", password)
    url = make_url(PG.url).set(password=None).render_as_string(hide_password=False)
    engine = build_engine(Settings(database_url=url).database_url)
    try:
        with engine.connect() as connection:
            sent = connection.connection.dbapi_connection.info.password  # type: ignore[union-attr]
    finally:
        engine.dispose()
    assert sent == password
