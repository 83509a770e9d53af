"""Pages log what they show as the API does, with the person: a proposal page, the open actions
on a table page and the agenda all name cases."""

from tests.api.helpers import assign_action
from tests.clock import iso
from tests.conftest import create_case
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


def test_the_agenda_and_its_exports_log_the_actions_they_show_not_every_action_of_the_table(
    app, client, region, published
):
    """The agenda page lists the actions handed out at its meeting, the PDF and CSV the actions
    open now: an action done about a case withdrawn since is on neither, yet each logged a read
    of that case, as every action of the table was loaded to show a few."""
    gone = create_case(client, region.care_provider, region.table_id)["id"]
    done = assign_action(client, region, region.care_provider, gone).json()["id"]
    headers = region.care_provider.headers
    assert client.patch(f"/v1/actions/{done}", json={"status": "done"}, headers=headers).is_success
    withdrawn = {"status": "withdrawn", "status_reason": "returned_to_care"}
    assert client.patch(f"/v1/cases/{gone}", json=withdrawn, headers=headers).is_success
    at_meeting = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": "other",
            "owner_organisation_id": region.municipality.id,
            "due_date": iso(7),
            "case_id": published.case_id,
            "meeting_id": published.meeting_id,
        },
        headers=region.chair.headers,
    )
    assert at_meeting.status_code == 201, at_meeting.text
    person = make_person(client, region.chair, "chair")
    browser = signed_in(app, person)
    meeting = f"/vergaderingen/{published.meeting_id}"

    for url in (meeting, f"{meeting}/agenda.pdf", f"{meeting}/agenda.csv"):
        shown = browser.get(url)
        assert shown.status_code == 200, shown.text
        assert gone[-8:].upper() not in shown.text

    assert entries(client, region, gone, person.id) == []
    read = [e for e in entries(client, region, published.case_id, person.id) if e[0] == "action"]
    assert read == [
        ("action", "GET /vergaderingen/{meeting_id}"),
        ("action", "GET /vergaderingen/{meeting_id}/agenda.pdf"),
        ("action", "GET /vergaderingen/{meeting_id}/agenda.csv"),
    ]
