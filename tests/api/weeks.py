"""Weeks of meetings through the API, every date relative to `tests.clock.TODAY`: cases and
dwellings that fit each other, meetings published, decisions taken, agendas and why-not asked."""

from collections import Counter
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.clock import TODAY, day, iso
from tests.conftest import OPERATOR, Org, Region, create_case, create_vacancy, writable_limits


def limits_for(client: TestClient, first: int, last: int) -> None:
    """Legal limits for every year from day `first` to day `last`: where a year has none, the
    2026 figures (these tests are about the table's memory, not about a year's limits)."""
    figures = client.get("/v1/limits/2026", headers=OPERATOR).json()
    body = writable_limits(figures)
    for year in range(day(first).year, day(last).year + 1):
        if client.get(f"/v1/limits/{year}", headers=OPERATOR).status_code == 404:
            response = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
            assert response.status_code in (200, 201), response.text


def ready_case(client: TestClient, org: Org, table_id: str, **overrides: Any) -> dict:
    """A single client, ready for a year and a half, who fits `fitting_dwelling`."""
    values: dict[str, Any] = {
        "ready_since": iso(-540),
        "birth_year": day().year - 36,
        "registration_date": iso(-1500),
        "beschikking": {"status": "granted", "valid_until": iso(400)},
    }
    return create_case(client, org, table_id, **(values | overrides))


def fitting_dwelling(client: TestClient, org: Org, complex_ref: str, **overrides: Any) -> dict:
    """A contingent two-room flat available now in GM0344 (complexes count per corporation)."""
    values: dict[str, Any] = {
        "complex_ref": complex_ref,
        "available_from": iso(0),
        "respond_before": iso(14),
    }
    return create_vacancy(client, org, **(values | overrides))


def publish_meeting(client: TestClient, region: Region, offset: int) -> list[dict]:
    """Schedule and publish the meeting `offset` days from today; returns its proposals."""
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(offset)},
        headers=region.chair.headers,
    )
    assert meeting.status_code == 201, meeting.text
    published = client.post(
        f"/v1/meetings/{meeting.json()['id']}/publish", headers=region.chair.headers
    )
    assert published.status_code == 200, published.text
    listed = client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"meetingId": meeting.json()["id"]},
        headers=region.chair.headers,
    )
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


def decide(client: TestClient, org: Org, proposal: dict, decision: str, reason: str | None = None):
    body = {"decision": decision} | ({"reason": reason} if reason else {})
    response = client.post(
        f"/v1/proposals/{proposal['id']}/decisions", json=body, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def agenda(client: TestClient, org: Org, table_id: str, offset: int = 0) -> dict:
    response = client.get(
        f"/v1/tables/{table_id}/agenda",
        params={"date": iso(offset), "candidates": 50},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def why_not(
    client: TestClient, org: Org, table_id: str, case: dict, vacancy: dict, offset: int = 0
) -> dict:
    response = client.get(
        f"/v1/tables/{table_id}/why-not",
        params={"caseId": case["id"], "vacancyId": vacancy["id"], "date": iso(offset)},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def pairs(document: dict) -> set[tuple[str, str]]:
    return {(p["case_id"], p["vacancy_id"]) for p in document["proposals"]}


def excluded(document: dict, case: dict) -> dict[str, int]:
    entry = next(e for e in document["candidates_by_case"] if e["case_id"] == case["id"])
    return entry["excluded_counts"]


def codes(answer: dict) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


def reason(answer: dict, code: str) -> dict:
    return next(r["detail"] for r in answer["reasons"] if r["code"] == code)


def why_not_agrees(
    client: TestClient, region: Region, cases: list, dwellings: list, on: date
) -> dict:
    """Why-not on `on` for every pair of cases and dwellings on the agenda of `on` says what
    that agenda does with it, on the same year's limits (every year here has its own)."""
    document = agenda(client, region.chair, region.table_id, (on - TODAY).days)
    proposed = pairs(document)
    by_case = {e["case_id"]: e for e in document["candidates_by_case"]}
    unhoused = {(u["case_id"], u["vacancy_id"]): u for u in document["left_unhoused"]}
    counts: dict[str, Counter] = {c["id"]: Counter() for c in cases}
    for case in cases:
        for dwelling in dwellings:
            answer = why_not(
                client, region.chair, region.table_id, case, dwelling, (on - TODAY).days
            )
            assert answer["limits_year"] == document["limits"]["year"] == on.year
            pair = (case["id"], dwelling["id"])
            assert answer["proposed"] == (pair in proposed), (on, answer)
            candidates = {c["vacancy_id"] for c in by_case[case["id"]]["candidates"]}
            assert answer["feasible"] == (dwelling["id"] in candidates), (on, answer)
            counts[case["id"]].update(codes(answer))
            entry = unhoused.get(pair)
            if entry is not None:
                assert answer["trade_off"]["code"] == entry["trade_off"]
                assert answer["trade_off"]["changes"] == entry["displaced"]
    for case in cases:
        assert dict(counts[case["id"]]) == by_case[case["id"]]["excluded_counts"], on
    return document
