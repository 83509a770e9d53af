"""Every case id an agenda-like answer names is in the access log for that answer, and no
other: the answer is walked for every field that holds a case id, whatever section it is in,
so a section added later without logging fails here."""

import uuid
from typing import Any

import pytest

from tests.clock import iso
from tests.conftest import create_case, create_vacancy

DAY = iso()
CASE_KEYS = ("case_id", "case_ids", "vacancy_proposed_to")


def case_ids_in(node: Any) -> set[str]:
    """Every case id in a JSON answer: fields named for a case, and a change's `id` whose
    subject is a case."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CASE_KEYS:
                values = value if isinstance(value, list) else [value]
                found |= {str(uuid.UUID(v)) for v in values if isinstance(v, str)}
            else:
                found |= case_ids_in(value)
        if node.get("subject") == "case" and isinstance(node.get("id"), str):
            found.add(node["id"])
    elif isinstance(node, list):
        for item in node:
            found |= case_ids_in(item)
    return found


@pytest.fixture
def crowded(client, region):  # type: ignore[no-untyped-def]
    """Five cases of two care providers for two dwellings: some are left unhoused."""
    cases = [
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-900 + 50 * i))
        for i in range(3)
    ] + [
        create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-400 - i))
        for i in range(2)
    ]
    vacancies = [create_vacancy(client, region.corporation, complex_ref=f"C{i}") for i in range(2)]
    return [c["id"] for c in cases], [v["id"] for v in vacancies]


ANSWERS = [
    ("chair", "/v1/tables/{table_id}/agenda"),
    ("municipality", "/v1/tables/{table_id}/agenda"),
    ("care_provider", "/v1/tables/{table_id}/agenda"),
    ("chair", "/v1/meetings/{meeting_id}/agenda"),
    ("care_provider", "/v1/meetings/{meeting_id}/agenda"),
    ("corporation", "/v1/meetings/{meeting_id}/agenda"),
    ("chair", "/v1/meetings/{meeting_id}/minutes"),
    ("care_provider", "/v1/meetings/{meeting_id}/minutes"),
    ("chair", "/v1/tables/{table_id}/proposals"),
    ("chair", "/v1/tables/{table_id}/agenda/cases/{case_id}/candidates"),
    ("care_provider", "/v1/tables/{table_id}/agenda/cases/{case_id}/candidates"),
    ("chair", "/v1/tables/{table_id}/agenda/vacancies/{vacancy_id}/candidates"),
    ("chair", "/v1/tables/{table_id}/why-not"),
    ("care_provider", "/v1/tables/{table_id}/why-not"),
    ("chair", "/v1/tables/{table_id}/agenda/cases/{other_case_id}/alternative"),
    ("municipality", "/v1/tables/{table_id}/agenda/cases/{other_case_id}/alternative"),
]


@pytest.mark.parametrize(("actor", "template"), ANSWERS, ids=[f"{a} {t}" for a, t in ANSWERS])
def test_an_answer_logs_exactly_the_cases_it_names(client, region, crowded, actor, template):
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": DAY}, headers=region.chair.headers
    ).json()["id"]
    if "meetings" in template:
        published = client.post(f"/v1/meetings/{meeting}/publish", headers=region.chair.headers)
        assert published.status_code == 200, published.text
    org = getattr(region, actor)

    def logged() -> list[dict]:
        return client.get(
            f"/v1/tables/{region.table_id}/access-log",
            params={"limit": 1000},
            headers=region.chair.headers,
        ).json()["items"]

    before = {e["id"] for e in logged()}
    cases, vacancies = crowded
    url = template.format(
        table_id=region.table_id,
        meeting_id=meeting,
        case_id=cases[0],
        other_case_id=cases[4],
        vacancy_id=vacancies[0],
    )
    params: dict[str, object] = {}
    if template.endswith(("/agenda", "/proposals", "/candidates")):
        params["limit"] = 1000
    if template.startswith("/v1/tables/{table_id}/agenda") or template.endswith("/why-not"):
        params["date"] = DAY
    if template.endswith("/why-not"):
        params |= {"caseId": cases[0], "vacancyId": vacancies[1]}
    response = client.get(url, params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    named = case_ids_in(response.json())
    entries = [e for e in logged() if e["id"] not in before]
    endpoint = "GET " + template.replace("{other_case_id}", "{case_id}")
    assert {(e["organisation_id"], e["endpoint"]) for e in entries} <= {(org.id, endpoint)}
    assert {e["case_id"] for e in entries} == named
