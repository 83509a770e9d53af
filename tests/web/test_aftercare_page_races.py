"""A Nazorg checkpoint form whose tenancy another request changes between the page's read of it
and its write: the form's version is checked against the tenancy as locked for the write, as
`If-Match` is in the API, not against the row read before (found by breaker 39 with two
servers: the same stale form recorded a second checkpoint, and a double click answered 409
'already recorded' instead of standing).

PostgreSQL only: on SQLite one writer runs at a time, so nothing comes in between."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.access_log.service import AccessContext
from app.aftercare import service as aftercare_service
from app.aftercare.models import CheckpointCreate, Tenancy
from app.auth import Principal
from app.organisations.models import OrganisationKind
from app.web import routes_aftercare
from tests.aftercare.housing import ensure_limits, house
from tests.clock import iso
from tests.conftest import make_region
from tests.web.conftest import csrf_of, make_person, signed_in

pytestmark = pytest.mark.usefixtures("no_deadlocks")

CHECKPOINT = {
    "maanden": "3",
    "datum": iso(-2),
    "woont_er": "ja",
    "begeleiding_loopt": "ja",
}


def _record_meanwhile(monkeypatch: pytest.MonkeyPatch, engine: Any, org: Any) -> None:
    """Once the page has read the tenancy, another request records the 3-month checkpoint the
    form below asks for, and commits (the first time only)."""
    read = aftercare_service.get_tenancy
    done: list[bool] = []

    def read_then_recorded(
        session: Session, context: AccessContext, case_id: uuid.UUID, **options: Any
    ) -> Any:
        found = read(session, context, case_id, **options)
        if not done:
            done.append(True)
            principal = Principal(
                is_operator=False,
                organisation_id=uuid.UUID(org.id),
                organisation_kind=OrganisationKind.care_provider,
            )
            with Session(engine) as other:
                tenancy = other.get_one(Tenancy, case_id)
                data = CheckpointCreate.model_validate(
                    {
                        "months": 3,
                        "recorded_on": iso(-2),
                        "still_living_there": True,
                        "support_active": True,
                    }
                )
                aftercare_service.record_checkpoint(
                    other, AccessContext(principal=principal, endpoint="race"), tenancy, data
                )
                other.commit()
        return found

    monkeypatch.setattr(routes_aftercare.aftercare, "get_tenancy", read_then_recorded)


def _housed(client: TestClient, live_app: Any) -> tuple[Any, str, TestClient, str]:
    region = make_region(client)
    ensure_limits(client, 260)
    case_id = house(client, region, -200)["id"]
    browser = signed_in(live_app, make_person(client, region.care_provider))
    version = str(
        client.get(f"/v1/cases/{case_id}/tenancy", headers=region.care_provider.headers).json()[
            "version"
        ]
    )
    return region, case_id, browser, version


def test_a_checkpoint_form_whose_tenancy_changed_meanwhile_is_412(
    committed_postgresql, live_app, monkeypatch
):
    client, engine = committed_postgresql
    region, case_id, browser, version = _housed(client, live_app)
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    _record_meanwhile(monkeypatch, engine, region.care_provider)

    other = CHECKPOINT | {"maanden": "6", "datum": iso(-1)}
    sent = browser.post(
        f"/dossiers/{case_id}/nazorg/controle",
        data={"csrf_token": token, "versie": version, **other},
    )

    assert sent.status_code == 412, sent.text
    after = client.get(f"/v1/cases/{case_id}/tenancy", headers=region.chair.headers).json()
    assert [c["months"] for c in after["checkpoints"] if c["state"] == "recorded"] == [3]


def test_a_checkpoint_form_sent_twice_at_once_stands(committed_postgresql, live_app, monkeypatch):
    client, engine = committed_postgresql
    region, case_id, browser, version = _housed(client, live_app)
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    _record_meanwhile(monkeypatch, engine, region.care_provider)

    sent = browser.post(
        f"/dossiers/{case_id}/nazorg/controle",
        data={"csrf_token": token, "versie": version, **CHECKPOINT},
    )

    assert sent.status_code == 303, sent.text
