"""Operable out of the box: probes an orchestrator can use, docs that work without internet,
and a `serve` that fails before it hands out credentials."""

import base64
import hashlib
import re
import socket
import subprocess

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from app.main import create_app
from app.operations import readiness
from tests.clocked import cli_command, clock_env


def test_liveness_answers_without_a_key(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_checks_the_database_and_that_it_is_migrated_to_head(live_app):
    # The app on its own database: the `client` fixture's test transaction holds SQLite's
    # write lock, which a probe's transaction would wait for.
    with TestClient(live_app) as client:
        response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


@pytest.mark.parametrize("probe", ["/health/live", "/health/ready"])
def test_a_probe_answers_options_as_the_api_does_naming_get_and_the_head_it_answers(
    live_app, probe
):
    with TestClient(live_app) as client:
        options = client.options(probe)
        got, head = client.get(probe), client.head(probe)
    assert options.status_code == 204 and options.content == b""
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize("probe", ["/health/live", "/health/ready"])
def test_another_method_on_a_probe_is_a_405_naming_every_method_it_answers(client, probe):
    response = client.post(probe)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("probe", ["/health/live", "/health/ready"])
def test_no_cache_may_keep_a_probes_answer(live_app, probe):
    with TestClient(live_app) as client:
        response = client.get(probe)
    assert response.headers["cache-control"] == "no-store"


def test_an_unmigrated_database_is_not_ready(tmp_path, settings):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(settings.model_copy(update={"database_url": url, "migrate_on_start": False}))
    with TestClient(app) as fresh:
        response = fresh.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["checks"]["migrations"].startswith("not at head: at none")


def test_an_unreachable_database_is_not_ready(tmp_path):
    missing = tmp_path / "no-such-folder" / "x.db"
    url = f"sqlite:///{missing}"
    checks = readiness(create_engine(url), url)
    assert checks["database"].startswith("unreachable")


def test_the_docs_load_their_scripts_from_the_package_not_a_cdn(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert sources, page
        assert all(s.startswith("/") for s in sources), (page, sources)
        for source in sources:
            if source.startswith("/docs-assets/"):
                assert client.get(source).status_code == 200, source


def test_version_names_the_package_and_the_api_version():
    done = subprocess.run(
        cli_command("--version"), capture_output=True, text=True, env=clock_env(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"uitstroomtafel \S+ \(API 1\.0\.0\)\n", done.stdout), done.stdout


def test_serve_on_a_taken_port_fails_before_printing_any_key(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = clock_env()
        env.pop("UITSTROOM_ADMIN_KEY", None)
        env["UITSTROOM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
        done = subprocess.run(
            cli_command("serve", "--demo", "--port", str(port)),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"Cannot serve on 127.0.0.1:{port}" in output
    assert "ust_" not in output and "key" not in done.stdout.lower(), output
    assert not (tmp_path / "demo.db").exists(), "nothing may be set up for a server that cannot run"


@pytest.mark.parametrize("path", ["/static/app.css", "/docs-assets/swagger-ui-bundle.js"])
def test_a_static_file_is_served_with_nosniff(client, path):
    """A stylesheet or script answered without it could be sniffed into another type."""
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_run_only_their_own_scripts_and_no_site_frames_them(client, page):
    """The docs share the pages' origin and so their session cookie: a script injected there
    could act as the signed-in person. Only the packaged scripts and the page's own inline
    script (by hash) run, and no other site may frame the page."""
    answer = client.get(page)
    directives = answer.headers["Content-Security-Policy"].split("; ")
    policy = {name: value for name, _, value in (d.partition(" ") for d in directives)}
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    allowed = policy["script-src"].split()
    assert "'unsafe-inline'" not in allowed and "'unsafe-eval'" not in allowed
    inline = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in inline
    }
    assert set(allowed) == {"'self'", *hashes}
    assert answer.headers["X-Frame-Options"] == "DENY"
