"""Closed case files are anonymised after the retention period; the figures keep working."""

import uuid
from datetime import timedelta

from sqlalchemy import create_engine
from sqlmodel import Session, select

from app.cases.models import Case
from app.cases.retention import anonymise_closed_cases
from app.sqltypes import utcnow
from tests.cli import run_cli
from tests.clock import iso
from tests.conftest import create_case

EXIT_DATE = iso(-213)


def close(client, region, case):
    response = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "own_solution", "exit_date": EXIT_DATE},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 200, response.text


def test_a_case_closed_longer_than_the_retention_period_is_anonymised(client, region, session):
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        birth_year=1987,
        needs={"wheelchair": True, "step_free": True, "max_floor": 2, "pets": True},
    )
    close(client, region, case)
    later = utcnow() + timedelta(days=731)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["anonymised_at"] is not None
    assert stored["external_ref"].startswith("anonymised-")
    assert stored["external_ref"] != case["external_ref"]
    assert stored["birth_year"] == 1980
    assert stored["needs"] == {
        "wheelchair": False,
        "step_free": False,
        "max_floor": None,
        "pets": False,
    }
    assert stored["income"]["annual_taxable"] == 0
    assert (stored["ready_since"], stored["exit_date"], stored["status"]) == (
        case["ready_since"],
        EXIT_DATE,
        "withdrawn",
    )


def test_recently_closed_and_open_cases_are_kept(client, region, session):
    closed = create_case(client, region.care_provider, region.table_id)
    close(client, region, closed)
    create_case(client, region.care_provider, region.table_id)
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 0
    assert session.get(Case, uuid.UUID(closed["id"])).anonymised_at is None


def test_anonymising_twice_changes_nothing_more(client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    close(client, region, case)
    later = utcnow() + timedelta(days=800)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    assert anonymise_closed_cases(session, later, retention_days=730) == 0


def test_the_anonymise_command_anonymises_due_case_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    run_cli(url, "demo")
    engine = create_engine(url)
    with Session(engine) as session:
        case = session.exec(select(Case).order_by(Case.id)).first()
        case.status = "withdrawn"
        case.closed_at = utcnow() - timedelta(days=800)
        session.add(case)
        session.commit()
        case_id = case.id
    assert "Anonymised 1 case file(s)" in run_cli(url, "anonymise")
    assert "Anonymised 0 case file(s)" in run_cli(url, "anonymise")
    with Session(engine) as session:
        assert session.get(Case, case_id).anonymised_at is not None
    engine.dispose()
