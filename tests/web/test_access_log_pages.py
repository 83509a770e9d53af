"""Pages log what they show as the API does, with the person: a proposal page, the open actions
on a table page and the agenda all name cases."""

import time
import uuid

from app.ids import uuid7
from app.proposals import service as proposals_service
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
    # One answer's entries, in no order among themselves.
    assert sorted(entries(client, region, published.case_id, person.id)) == [
        ("profile", "GET /voorstellen/{proposal_id}"),
        ("proposal", "GET /voorstellen/{proposal_id}"),
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


def proposal_and_agenda_entries(app, client, region, published) -> list[dict]:
    """The care provider's own log of its proposed case's entries from the chair's meeting
    page: its case in the agenda, then in the live proposals, each logged by a call."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    assert chair.get(f"/vergaderingen/{published.meeting_id}").status_code == 200
    log = client.get(
        f"/v1/cases/{published.case_id}/access-log",
        params={"limit": 1000},
        headers=region.care_provider.headers,
    ).json()["items"]
    page = [e for e in log if e["endpoint"] == "GET /vergaderingen/{meeting_id}"]
    assert {e["action"] for e in page} == {"agenda", "proposal"}
    return page


def test_the_entries_of_one_page_carry_one_moment(app, client, region, published):
    """The meeting page logs its cases, then its live proposals, then its actions, a call each,
    and each call took the time it was made: in its own case's log a care provider read off the
    time between its case's `agenda` and `proposal` entries how long the page took to log the
    cases before (some microseconds a case), the table's count its view leaves out, and so it
    did off the entries' ids, each call's of its own millisecond. Every entry of one answer
    carries the moment of its first and an id of one window of it, in no order."""
    page = proposal_and_agenda_entries(app, client, region, published)
    assert len({e["at"] for e in page}) == 1
    assert one_millisecond([e["id"] for e in page])


def one_millisecond(ids: list[str]) -> bool:
    """The ids lie within one millisecond's: the same 48 bits of time, or two neighbouring
    ones' as one window can straddle them (its 74 random bits and 6 fixed)."""
    values = [uuid.UUID(i).int for i in ids]
    return max(values) - min(values) < 2**80


def test_ids_made_elsewhere_while_a_page_is_made_do_not_date_its_later_entries(
    app, client, region, published, monkeypatch
):
    """Ids count on from the last this process made: when another request made one between
    the page's calls, a later call's entries took ids of that later millisecond, which dated
    the call again (the time the page took to log and load the cases before it). Every entry
    of one answer takes an id of its one window."""
    logged = proposals_service.log_shown

    def after_another_request(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.003)
        uuid7()  # a row of another request, meanwhile
        return logged(*args, **kwargs)

    monkeypatch.setattr(proposals_service, "log_shown", after_another_request)
    page = proposal_and_agenda_entries(app, client, region, published)
    assert one_millisecond([e["id"] for e in page])
