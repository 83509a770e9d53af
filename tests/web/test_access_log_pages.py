"""Pages log what they show as the API does, with the person: a proposal page, the open actions
on a table page and the agenda all name cases."""

from tests.clock import iso
from tests.web.conftest import make_person, signed_in


def entries(client, region, case_id: str, person_id: str) -> list[tuple[str, str]]:
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case_id, "limit": 1000},
        headers=region.chair.headers,
    ).json()["items"]
    return [(e["action"], e["endpoint"]) for e in log if e["person_id"] == person_id]


def test_a_proposal_page_is_logged_as_a_proposal_read(app, client, region, published):
    person = make_person(client, region.corporation)
    page = signed_in(app, person).get(f"/voorstellen/{published.proposal_id}")
    assert page.status_code == 200
    assert entries(client, region, published.case_id, person.id) == [
        ("proposal", "GET /voorstellen/{proposal_id}"),
        ("profile", "GET /voorstellen/{proposal_id}"),
    ]


def test_open_actions_on_a_table_page_are_logged_for_their_cases(app, client, region, published):
    created = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": "request_beschikking",
            "owner_organisation_id": region.care_provider.id,
            "due_date": iso(7),
            "case_id": published.case_id,
        },
        headers=region.chair.headers,
    )
    assert created.status_code == 201, created.text
    person = make_person(client, region.care_provider)
    assert signed_in(app, person).get(f"/tafels/{region.table_id}").status_code == 200
    assert entries(client, region, published.case_id, person.id) == [
        ("action", "GET /tafels/{table_id}")
    ]
