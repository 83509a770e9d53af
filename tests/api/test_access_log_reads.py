"""Every answer that names a case writes the access log, not only the case-file routes: proposals,
their decisions, follow-up actions, the dwelling's timeline, a frozen agenda's changes, and the
webhooks that carry a case id to an organisation."""

from dataclasses import dataclass

import pytest

from tests.api.helpers import assign_action, publish_one_proposal
from tests.clock import iso
from tests.conftest import Region, create_case, create_vacancy


@dataclass
class AtTheTable:
    region: Region
    meeting_id: str
    proposal_id: str
    case_id: str
    vacancy_id: str
    action_id: str  # about the case, owned by its care provider
    corporation_action_id: str  # about the case, owned by the dwelling's corporation


def create_action(client, region: Region, owner, case_id: str) -> str:
    response = assign_action(client, region, owner, case_id)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def table(client, region) -> AtTheTable:
    meeting, proposal = publish_one_proposal(client, region)
    case_id = proposal["case_id"]
    return AtTheTable(
        region,
        meeting["id"],
        proposal["id"],
        case_id,
        proposal["vacancy_id"],
        create_action(client, region, region.care_provider, case_id),
        create_action(client, region, region.corporation, case_id),
    )


def log_of(client, region: Region, case_id: str) -> list[dict]:
    response = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case_id, "limit": 1000},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def new_entries(client, t: AtTheTable, call) -> tuple[object, list[dict]]:  # type: ignore[no-untyped-def]
    before = {e["id"] for e in log_of(client, t.region, t.case_id)}
    response = call()
    after = log_of(client, t.region, t.case_id)
    return response, [e for e in after if e["id"] not in before]


READS = [
    ("chair", "GET", "/v1/proposals/{proposal_id}", None, "proposal"),
    ("corporation", "GET", "/v1/proposals/{proposal_id}", None, "proposal"),
    ("care_provider", "GET", "/v1/tables/{table_id}/proposals", None, "proposal"),
    ("municipality", "GET", "/v1/tables/{table_id}/proposals", None, "proposal"),
    ("corporation", "GET", "/v1/vacancies/{vacancy_id}/timeline", None, "timeline"),
    ("chair", "GET", "/v1/vacancies/{vacancy_id}/timeline", None, "timeline"),
    ("care_provider", "GET", "/v1/actions/{action_id}", None, "action"),
    ("chair", "GET", "/v1/tables/{table_id}/actions", None, "action"),
    ("care_provider", "PATCH", "/v1/actions/{action_id}", {"status": "done"}, "action"),
    (
        "chair",
        "POST",
        "/v1/tables/{table_id}/actions",
        {"kind": "other", "owner_organisation_id": "{municipality}", "due_date": "+3"},
        "action",
    ),
    (
        "chair",
        "POST",
        "/v1/proposals/{proposal_id}/decisions",
        {"decision": "nominate"},
        "decision",
    ),
]


def _fill(value, t: AtTheTable):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return {k: _fill(v, t) for k, v in value.items()} | (
            {"case_id": t.case_id} if "owner_organisation_id" in value else {}
        )
    if value == "+3":
        return iso(3)
    return value.format(
        proposal_id=t.proposal_id,
        table_id=t.region.table_id,
        vacancy_id=t.vacancy_id,
        action_id=t.action_id,
        municipality=t.region.municipality.id,
    )


@pytest.mark.parametrize(("actor", "method", "template", "body", "action"), READS)
def test_every_answer_naming_a_case_is_in_the_access_log(
    client, table, actor, method, template, body, action
):
    org = getattr(table.region, actor)
    url = _fill(template, table)
    json = _fill(body, table) if body else None

    response, entries = new_entries(
        client, table, lambda: client.request(method, url, json=json, headers=org.headers)
    )

    assert response.status_code in (200, 201), response.text
    assert table.case_id in response.text
    mine = [e for e in entries if e["organisation_id"] == org.id]
    assert [(e["action"], e["endpoint"]) for e in mine] == [(action, f"{method} {template}")]


def test_a_corporation_shown_an_action_without_its_case_is_not_logged_as_reading_it(client, table):
    corporation = table.region.corporation
    response, entries = new_entries(
        client,
        table,
        lambda: client.get(
            f"/v1/actions/{table.corporation_action_id}", headers=corporation.headers
        ),
    )
    assert response.status_code == 200 and response.json()["case_id"] is None
    assert entries == []


def test_an_organisation_refused_the_proposal_leaves_no_entry(client, table):
    outsider = table.region.other_corporation
    response, entries = new_entries(
        client,
        table,
        lambda: client.get(f"/v1/proposals/{table.proposal_id}", headers=outsider.headers),
    )
    assert response.status_code == 404
    assert entries == []


def test_a_proposal_list_logs_only_the_page_it_returns(client, region):
    cases = [create_case(client, region.care_provider, region.table_id) for _ in range(2)]
    for _ in cases:
        create_vacancy(client, region.corporation)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(-7)},
        headers=region.chair.headers,
    ).json()
    client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    page = client.get(
        f"/v1/tables/{region.table_id}/proposals", params={"limit": 1}, headers=region.chair.headers
    ).json()
    [shown] = page["items"]
    assert page["next_cursor"] is not None
    listed = {
        case["id"]: [
            e
            for e in client.get(
                f"/v1/tables/{region.table_id}/access-log",
                params={"caseId": case["id"]},
                headers=region.chair.headers,
            ).json()["items"]
            if e["action"] == "proposal"
        ]
        for case in cases
    }
    assert len(listed[shown["case_id"]]) == 1
    assert [len(v) for k, v in listed.items() if k != shown["case_id"]] == [0]


def test_a_frozen_agendas_changes_are_logged_for_the_cases_they_name(client, table):
    region = table.region
    late = create_case(client, region.care_provider, region.table_id)  # ready since: added
    agenda = client.get(f"/v1/meetings/{table.meeting_id}/agenda", headers=region.chair.headers)
    assert agenda.status_code == 200, agenda.text
    assert late["id"] in {c["id"] for c in agenda.json()["changes"]}
    entries = log_of(client, region, late["id"])
    assert [e["action"] for e in entries] == ["create", "agenda"]


def test_a_webhook_naming_a_case_is_logged_as_given_to_its_organisation(client, table):
    region = table.region
    hook = client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.org/corp", "events": ["proposal.decided"]},
        headers=region.corporation.headers,
    )
    assert hook.status_code == 201, hook.text
    response, entries = new_entries(
        client,
        table,
        lambda: client.post(
            f"/v1/proposals/{table.proposal_id}/decisions",
            json={"decision": "nominate"},
            headers=region.chair.headers,
        ),
    )
    assert response.status_code == 200, response.text
    told = [e for e in entries if e["action"] == "notification"]
    assert [(e["organisation_id"], e["endpoint"], e["api_key_id"]) for e in told] == [
        (region.corporation.id, "webhook proposal.decided", None)
    ]
