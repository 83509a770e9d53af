"""Settings come from one place and are passed in: the app and the CLI use the Settings object
they are given (its database, its keys, its switches), never the environment behind it."""

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

import app.cli
import app.main
import app.migrate
from app.main import create_app
from app.migrate import upgrade_to_head
from app.settings import Settings, plain_http_elsewhere

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = "settings-test-operator-key"


def organisation_names(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM organisations")).scalars().all()
    engine.dispose()
    return list(names)


def test_the_app_works_on_the_database_of_the_settings_it_is_given(databases, settings):
    url = databases.new_url()
    given = settings.model_copy(
        update={"database_url": url, "migrate_on_start": True, "admin_key": OPERATOR}
    )
    assert os.environ.get("UITSTROOM_DATABASE_URL") != url
    with TestClient(create_app(given)) as client:
        created = client.post(
            "/v1/organizations",
            json={"name": "Gemeente Zeist", "kind": "municipality"},
            headers={"Authorization": f"Bearer {OPERATOR}"},
        )
        assert created.status_code == 201, created.text
    assert organisation_names(url) == ["Gemeente Zeist"]


def test_the_operator_key_is_the_one_in_the_settings(databases, settings):
    url = databases.migrated_url()
    given = settings.model_copy(update={"database_url": url, "admin_key": OPERATOR})
    with TestClient(create_app(given)) as client:
        assert (
            client.get(
                "/v1/organizations", headers={"Authorization": f"Bearer {OPERATOR}"}
            ).status_code
            == 200
        )
        other = {"Authorization": f"Bearer {os.environ['UITSTROOM_ADMIN_KEY']}"}
        assert client.get("/v1/organizations", headers=other).status_code == 401


@pytest.fixture
def serve_in_process(monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """`uitstroomtafel serve` up to the point where uvicorn would take over: returns the app it
    would run, what it printed, and how often the migrations ran."""
    migrations: list[str] = []
    served = {}

    def counting_upgrade(url: str) -> None:
        migrations.append(url)
        upgrade_to_head(url)

    monkeypatch.setattr(app.migrate, "upgrade_to_head", counting_upgrade)
    monkeypatch.setattr(app.main, "upgrade_to_head", counting_upgrade)
    monkeypatch.setattr(
        "uvicorn.Server.run", lambda server, **_: served.update(app=server.config.app)
    )

    def serve(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
        # Port 0: serve binds its port before anything else; any free one will do here.
        app.cli.main(["serve", "--port", "0", *args], settings=settings)
        return served["app"], capsys.readouterr().out, migrations

    return serve


def test_the_mails_links_point_where_serve_listens_unless_a_public_url_is_set(
    tmp_path, settings, serve_in_process
):
    """The links in the mails started with http://localhost:8000 whatever port `serve` took:
    a demo on --port 8150 mailed links to a port nobody served."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    unset = settings.model_copy(update={"database_url": url, "migrate_on_start": True})
    unset.model_fields_set.discard("public_url")
    application, output, _ = serve_in_process(unset)
    [listening] = re.findall(r"Serving on (http://\S+) ", output)
    assert not listening.endswith(":0")  # the port the system picked, not the 0 asked for
    assert application.state.settings.public_url == listening
    given = Settings(database_url=url, public_url="https://tafel.example.nl")
    application, _, _ = serve_in_process(given)
    assert application.state.settings.public_url == "https://tafel.example.nl"


def test_serve_with_smtp_but_no_public_url_warns_where_the_mails_links_point(
    tmp_path, settings, monkeypatch, capsys
):
    """In the container (`serve --host 0.0.0.0`) with UITSTROOM_SMTP_HOST set and no
    UITSTROOM_PUBLIC_URL, every mail's link pointed to http://127.0.0.1:8000, the recipient's
    own machine, without a word at start."""
    monkeypatch.setattr("uvicorn.Server.run", lambda server, **_: None)
    url = f"sqlite:///{tmp_path / 'served.db'}"
    mailing = settings.model_copy(
        update={"database_url": url, "migrate_on_start": True, "smtp_host": "smtp.example.org"}
    )
    mailing.model_fields_set.discard("public_url")
    app.cli.main(["serve", "--port", "0", "--host", "0.0.0.0"], settings=mailing)
    [warning] = capsys.readouterr().err.strip().splitlines()
    assert re.fullmatch(
        r"WARNING: UITSTROOM_PUBLIC_URL is not set, so the links in the e-mails "
        r"\(UITSTROOM_SMTP_HOST is set\) start with http://127\.0\.0\.1:\d+, .*",
        warning,
    ), warning
    for quiet in (
        mailing.model_copy(update={"public_url": "https://tafel.example.nl"}),
        mailing.model_copy(update={"smtp_host": None}),
    ):
        app.cli.main(["serve", "--port", "0"], settings=quiet)
        assert capsys.readouterr().err == ""


def _to_serve(settings: Settings, tmp_path: Path, **changes: object) -> Settings:
    """`settings` with `changes` for a `serve` on a new SQLite file, migrated on start."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    return settings.model_copy(update={"database_url": url, "migrate_on_start": True, **changes})


@pytest.mark.parametrize(
    ("url", "elsewhere"),
    [
        ("http://192.0.2.2:8262", True),
        ("http://tafel.gemeente.lan/tafel", True),
        ("HTTP://[fd00::2]:8000", True),
        ("http://127.0.0.1:8262", False),
        ("http://127.1.2.3", False),
        ("http://[::1]:8000", False),
        ("http://localhost:8000", False),
        ("http://tafel.localhost", False),
        ("https://192.0.2.2", False),
        ("https://tafel.gemeente.nl", False),
        ("", False),
        ("null", False),
        ("http://[::1", False),
    ],
)
def test_plain_http_elsewhere_is_http_on_another_host_than_loopback(url, elsewhere):
    assert plain_http_elsewhere(url) is elsewhere


def test_serve_warns_when_the_pages_are_on_plain_http_away_from_localhost(
    tmp_path, settings, monkeypatch, capsys
):
    """With UITSTROOM_PUBLIC_URL=http://192.0.2.2:8262 (or serve --host on the machine's own
    address) the session cookie is Secure, which a browser drops over plain http anywhere but on
    loopback: nobody could sign in, and nothing at start said why."""
    monkeypatch.setattr("uvicorn.Server.run", lambda server, **_: None)
    lan = _to_serve(
        settings, tmp_path, public_url="http://192.0.2.2:8262", session_cookie_secure=True
    )
    app.cli.main(["serve", "--port", "0"], settings=lan)
    [warning] = capsys.readouterr().err.strip().splitlines()
    assert warning.startswith(
        "WARNING: the pages are at http://192.0.2.2:8262, plain http on another host than "
        "localhost, where browsers drop the session cookie"
    ), warning
    for quiet in (
        lan.model_copy(update={"public_url": "https://tafel.example.nl"}),
        lan.model_copy(update={"public_url": "http://127.0.0.1:8262"}),
        lan.model_copy(update={"session_cookie_secure": False}),
    ):
        app.cli.main(["serve", "--port", "0"], settings=quiet)
        assert capsys.readouterr().err == ""


def test_serve_prints_the_addresses_under_the_public_urls_path(
    tmp_path, settings, serve_in_process
):
    """With `UITSTROOM_PUBLIC_URL=http://127.0.0.1:8245/uitstroom` the app's links, forms,
    contract and index all start with `/uitstroom`, but `serve` printed the host's root
    (`http://127.0.0.1:8245/v1`, `/aanmelden`), so a user opened pages whose every link left
    the address they typed, and the operator could not tell where the app is meant to be."""
    rooted = _to_serve(settings, tmp_path, public_url="http://127.0.0.1:8245/uitstroom")
    application, output, _ = serve_in_process(rooted)
    [base] = re.findall(r"Serving on (http://\S+) ", output)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/uitstroom", base), output
    printed = re.findall(r"http://127\.0\.0\.1:\d+(/[^\s)]*)", output.split("Serving on", 1)[1])
    assert len(printed) == 8, output  # the base, API, contract, docs twice, pages, probes twice
    with TestClient(application) as client:
        for path in printed:
            assert path.startswith("/uitstroom"), output
            assert client.get(path).status_code == 200, path


def test_serve_migrates_once_on_start(tmp_path, settings, serve_in_process):
    url = f"sqlite:///{tmp_path / 'served.db'}"
    application, _, migrations = serve_in_process(
        settings.model_copy(update={"database_url": url, "migrate_on_start": True})
    )
    with TestClient(application) as client:
        assert client.get("/openapi.json").status_code == 200
    assert migrations == [url]


def test_a_demo_gets_its_operator_key_without_touching_the_environment(
    tmp_path, settings, serve_in_process
):
    environment = dict(os.environ)
    # As a user starts a demo: no operator key, private webhook targets not mentioned.
    unset = settings.model_dump(exclude={"admin_key", "webhook_allow_private_targets"})
    demo = Settings.model_construct(
        **{**unset, "database_url": f"sqlite:///{tmp_path / 'demo.db'}", "migrate_on_start": True}
    )
    application, output, migrations = serve_in_process(demo, "--demo")
    [key] = re.findall(r"^Operator key for this run: (\S+)$", output, re.M)
    assert os.environ == environment
    assert application.state.settings.admin_key == key
    assert application.state.settings.webhook_allow_private_targets is True
    with TestClient(application) as client:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200, me.text
    assert len(migrations) == 1


ENTRY_POINTS = {"app/settings.py", "app/main.py", "app/cli.py"}


def test_only_entry_points_read_the_settings_from_the_environment():
    readers = {
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "app").rglob("*.py"), *(ROOT / "migrations").glob("*.py")]
        if "get_settings(" in path.read_text()
    }
    assert readers <= ENTRY_POINTS | {"migrations/env.py"}, (
        "take the settings from the app (SettingsDep, app.state.settings) or as a parameter"
    )
