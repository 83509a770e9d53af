"""Fixtures for the monitor tests: dwellings every case fits, and limits for every year the
clock's histories reach."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.clock import TODAY, iso
from tests.conftest import OPERATOR, Org, create_case, create_vacancy

HISTORY_DAYS = 450  # how far back the monitor tests write history


def ensure_limits(client: TestClient, first: date, last: date) -> None:
    """Copy the latest known year's limits to the years in [first, last] that have none, so an
    agenda can be published whatever year the suite's clock is in (the figures are not the
    subject of the monitor tests)."""
    known = client.get("/v1/limits", headers=OPERATOR).json()["items"]
    latest = max(known, key=lambda y: y["year"])
    body = {k: v for k, v in latest.items() if k not in ("year", "updated_at")}
    have = {y["year"] for y in known}
    for year in range(first.year, last.year + 1):
        if year not in have:
            response = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
            assert response.status_code in (200, 201), response.text


@pytest.fixture
def limits(client: TestClient) -> None:
    ensure_limits(client, date.fromordinal(TODAY.toordinal() - HISTORY_DAYS), TODAY)


def dwelling(client: TestClient, corporation: Org, **overrides: Any) -> dict[str, Any]:
    """A contingent dwelling any default case fits (rent under the low cap in every year,
    service costs included), available throughout the history."""
    body: dict[str, Any] = {
        "rent": {"base": "600.00", "eligible_service_costs": "0.00"},
        "available_from": iso(-HISTORY_DAYS),
        "respond_before": iso(30),
        "complex_ref": None,
    }
    return create_vacancy(client, corporation, **(body | overrides))


def ready_case(client: TestClient, care_provider: Org, table_id: str, ready: str, **kw: Any) -> Any:
    """A case ready on `ready` that fits `dwelling()`, registered long enough."""
    body: dict[str, Any] = {
        "ready_since": ready,
        "registration_date": iso(-HISTORY_DAYS - 800),
        "beschikking": {"status": "granted", "valid_until": iso(800)},
    }
    return create_case(client, care_provider, table_id, **(body | kw))
