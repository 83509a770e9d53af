"""Migrations match the models and run up and down cleanly, on SQLite and PostgreSQL; they live
in the top-level `migrations/` folder and ship inside the package."""

import configparser
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import app.all_models  # noqa: F401
from app.migrate import alembic_config, downgrade_to_base, migrations_dir, upgrade_to_head
from tests.conftest import create_case, make_org, make_table

ROOT = Path(__file__).resolve().parent.parent


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_agree(databases):
    url = databases.new_url()
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == [], "run `alembic revision --autogenerate` and review it"


def test_upgrade_downgrade_upgrade_leaves_a_complete_schema(databases):
    url = databases.new_url()
    upgrade_to_head(url)
    assert set(SQLModel.metadata.tables) <= _tables(url)
    downgrade_to_base(url)
    assert _tables(url) <= {"alembic_version"}
    upgrade_to_head(url)
    assert set(SQLModel.metadata.tables) <= _tables(url)


def test_migration_history_is_linear():
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several heads {heads}: set down_revision so history is one line"


def test_migrations_live_in_the_top_level_folder_only():
    assert migrations_dir() == ROOT / "migrations"
    ini = configparser.ConfigParser()
    ini.read(ROOT / "alembic.ini")
    assert ROOT / ini["alembic"]["script_location"] == migrations_dir()
    # A migration added under the old app/migrations would be run by nobody.
    left_behind = sorted(p.name for p in (ROOT / "app" / "migrations").rglob("*.py"))
    assert left_behind == [], "move these to migrations/versions/"


def test_the_built_package_carries_the_migrations_and_finds_them(tmp_path):
    """What `pip install .` puts in site-packages (build_py is the wheel's content)."""
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    shipped = tmp_path / "app" / "migrations"
    source = sorted(p.relative_to(ROOT / "migrations") for p in migrations_dir().rglob("*.py"))
    assert sorted(p.relative_to(shipped) for p in shipped.rglob("*.py")) == source
    assert (shipped / "script.py.mako").is_file()
    fonts = tmp_path / "app" / "web" / "fonts"  # the printed agenda's (app.web.export)
    assert {p.name for p in fonts.iterdir()} == {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"}
    found = subprocess.run(
        [sys.executable, "-c", "import app.migrate; print(app.migrate.migrations_dir())"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == str(shipped)


def test_a_downgrade_past_returning_clients_keeps_every_case_under_a_unique_reference(live_app):
    """0027 lets a returning client's case take the reference of the closed case it follows;
    before it a reference was unique among all of an organisation's cases, so the downgrade
    renames the followed case's reference (`returned:` and its id) instead of failing."""
    with TestClient(live_app) as client:
        cp = make_org(client, "care_provider")
        chair = make_org(client, "municipality")
        table = make_table(client, chair, [cp], ["GM0344"])
        closed = create_case(client, cp, table, external_ref="K-terug")
        withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
        response = client.patch(f"/v1/cases/{closed['id']}", json=withdrawn, headers=cp.headers)
        assert response.status_code == 200, response.text
        returned = create_case(
            client, cp, table, external_ref="K-terug", previous_case_id=closed["id"]
        )
        url = live_app.state.engine.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0026_person_changes")
    engine = create_engine(url)
    with engine.connect() as connection:
        refs = dict(connection.execute(text("SELECT id, external_ref FROM cases")).all())
    engine.dispose()
    by_id = {str(uuid.UUID(str(k))): v for k, v in refs.items()}
    assert by_id == {
        returned["id"]: "K-terug",
        closed["id"]: f"returned:{uuid.UUID(closed['id']).hex}",
    }
    upgrade_to_head(url)


def test_the_action_history_backfill_records_what_is_known_of_each_action(live_app):
    """0032 keeps every change of an action from then on; of the actions before it, it records
    one hand-out each, by the chair at `created_at` (its due date only when the action never
    changed since: a change may have moved it), and one closing for a closed one, at its
    `completed_at` (its actor and what it closed from not known)."""
    from tests.clock import iso

    with TestClient(live_app) as client:
        cp = make_org(client, "care_provider")
        chair = make_org(client, "municipality")
        table = make_table(client, chair, [cp], ["GM0344"])
        ids = {}
        for name in ("untouched", "moved", "done"):
            response = client.post(
                f"/v1/tables/{table}/actions",
                json={"kind": "other", "owner_organisation_id": cp.id, "due_date": iso(7)},
                headers=chair.headers,
            )
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]
        for name, change in (("moved", {"due_date": iso(9)}), ("done", {"status": "done"})):
            response = client.patch(f"/v1/actions/{ids[name]}", json=change, headers=cp.headers)
            assert response.status_code == 200, response.text
        completed_at = response.json()["completed_at"]
        url = live_app.state.engine.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0031_cancel_left_behind_actions")
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT action_id, change, from_status, to_status, to_due_date, "
                "actor_organisation_id, at FROM action_transitions ORDER BY id"
            )
        ).all()
    engine.dispose()
    names = {uuid.UUID(v): k for k, v in ids.items()}
    found = [
        (
            names[uuid.UUID(str(a))],
            change,
            before,
            after,
            due and str(due),
            actor and str(uuid.UUID(str(actor))),
        )
        for a, change, before, after, due, actor, _ in rows
    ]
    chair_id = str(uuid.UUID(chair.id))
    assert sorted(found, key=str) == sorted(
        [
            ("untouched", "created", None, "open", iso(7), chair_id),
            ("moved", "created", None, "open", None, chair_id),
            ("done", "created", None, "open", None, chair_id),
            ("done", "complete", None, "done", None, None),
        ],
        key=str,
    )
    at = next(r[6] for r in rows if r[1] == "complete")
    at = datetime.fromisoformat(at) if isinstance(at, str) else at
    at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite keeps UTC without its zone
    assert at == datetime.fromisoformat(completed_at)
