"""The pages of an organisation after it left a table: its own closed files there stay its
own, and nothing of the table it left comes back through them."""

import csv
import io
import re

from app.imports.by_hand import form_values
from app.imports.columns import CASES
from app.web.formatting import case_code
from tests.api.helpers import withdraw_case
from tests.clock import iso
from tests.conftest import OPERATOR, create_case, create_vacancy
from tests.monitor.history import publish_on
from tests.web.conftest import csrf_of, make_person, publish_one, signed_in


def leave(client, region, org):  # type: ignore[no-untyped-def]
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    body = {"member_organisation_ids": [m for m in members if m != org.id]}
    response = client.patch(url, json=body, headers=OPERATOR)
    assert response.status_code == 200, response.text


def _as_shown(client, region, case_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The edit form's fields as the page fills them from the stored file (what a browser
    sends back when nothing is touched)."""
    stored = client.get(f"/v1/cases/{case_id}", headers=region.care_provider.headers)
    return form_values(CASES, stored.json())


def test_a_care_provider_that_left_a_table_still_lists_its_closed_cases_there(  # type: ignore[no-untyped-def]
    app, client, region
):
    """Its case list was a 500: the page looked up the table of each case among the tables
    the provider sits at, and a withdrawn case at a table it left has none there."""
    case = create_case(client, region.care_provider, region.table_id, external_ref="OUD-001")
    withdraw_case(client, region.care_provider, case["id"])
    browser = signed_in(app, make_person(client, region.care_provider))
    leave(client, region, region.care_provider)

    page = browser.get("/dossiers")

    assert page.status_code == 200, page.text
    assert "OUD-001" in page.text
    assert region.table_id not in page.text  # no filter choice for a table it left


def test_who_saw_the_file_names_an_organisation_that_has_left_the_table_since(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The page a care worker answers a client's AVG art. 15 question with named a
    municipality that read the file "Een andere organisatie" once it had left the table: the
    names came from the organisations the provider sits with now, not from the log."""
    case = create_case(client, region.care_provider, region.table_id)
    read = client.get(f"/v1/cases/{case['id']}", headers=region.municipality.headers)
    assert read.status_code == 200, read.text
    leave(client, region, region.municipality)
    worker = signed_in(app, make_person(client, region.care_provider))

    page = worker.get(f"/dossiers/{case['id']}/inzage")

    assert page.status_code == 200, page.text
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 2  # the municipality's read, the creation
    assert region.municipality.name in rows[0] and "Een andere organisatie" not in page.text


def test_editing_a_file_keeps_its_rent_arrears_at_a_corporation_that_has_left_the_table(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The edit form offered a checkbox only per corporation at the table now, so saving any
    change silently dropped the arrears at one that had left (found by breaker 38). The stored
    one is shown checked, marked as gone from the table, and kept unless unticked."""
    debts = {"rent_arrears_corporation_ids": [region.corporation.id]}
    case = create_case(client, region.care_provider, region.table_id, debts=debts)
    leave(client, region, region.corporation)
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case['id']}/bewerken"

    page = browser.get(url).text

    box = re.search(rf'<input[^>]*value="{region.corporation.id}"[^>]*>', page)
    assert box is not None and "checked" in box.group(0)
    assert f"{region.corporation.name} (niet meer aan deze tafel)" in page
    form = {
        "csrf_token": csrf_of(browser, url),
        "versie": re.search(r'name="versie" value="([^"]*)"', page).group(1).replace("&#34;", '"'),  # type: ignore[union-attr]
        **_as_shown(client, region, case["id"]),
        "household.adults": "2",
        "debts.rent_arrears_corporation_ids": region.corporation.id,
    }
    saved = browser.post(url, data=form)

    assert saved.status_code == 303, saved.text
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["household"]["adults"] == 2
    assert stored["debts"]["rent_arrears_corporation_ids"] == [region.corporation.id]


def test_the_chairs_lists_name_a_provider_and_a_corporation_that_have_left(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The table's case and dwelling lists and pages named organisations from the members now,
    so a care provider's withdrawn case and a corporation's withdrawn dwelling showed
    "onbekend", and their timelines no actor, once either had left (found by breaker 38)."""
    case = create_case(client, region.care_provider, region.table_id, external_ref="OUD-002")
    withdraw_case(client, region.care_provider, case["id"])
    vacancy = create_vacancy(client, region.corporation)
    gone = client.delete(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    assert gone.status_code == 204, gone.text
    leave(client, region, region.care_provider)
    leave(client, region, region.corporation)
    chair = signed_in(app, make_person(client, region.chair, "chair"))

    cases = chair.get("/dossiers?status=withdrawn").text
    dwellings = chair.get("/woningen?status=withdrawn").text
    case_page = chair.get(f"/dossiers/{case['id']}").text
    dwelling_page = chair.get(f"/woningen/{vacancy['id']}").text

    assert case_code(case["id"]) in cases
    assert region.care_provider.name in cases
    assert vacancy["external_ref"] in dwellings
    assert region.corporation.name in dwellings
    # The file's provider and who withdrew it (its timeline); the dwelling's corporation.
    assert case_page.count(region.care_provider.name) >= 2, case_page
    assert region.corporation.name in dwelling_page


def test_the_aftercare_rows_name_a_provider_and_a_corporation_that_have_left(  # type: ignore[no-untyped-def]
    app, client, region, housed
):
    """A tenancy in aftercare stays on the agenda after its care provider and landlord left the
    table (nothing stops them), but the agenda's and the minutes' aftercare rows (page, PDF,
    CSV) named organisations from the members now: their cells were blank, so the table did
    not see whom to ask about an overdue checkpoint."""
    _, theirs = housed
    meeting_id = publish_on(client, region, iso(7))
    leave(client, region, region.other_care_provider)
    leave(client, region, region.other_corporation)
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    names = [region.other_care_provider.name, region.other_corporation.name]

    for export in ("agenda.csv", "besluitenlijst.csv"):
        response = chair.get(f"/vergaderingen/{meeting_id}/{export}")
        rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
        theirs_rows = [r for r in rows if r and r[0] == "nazorg" and r[1] == theirs]
        assert theirs_rows, export
        assert all(r[-2:] == names for r in theirs_rows), (export, theirs_rows)


def test_a_meetings_closed_action_names_an_owner_that_has_left_the_table(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The meeting page lists the actions handed out at it, closed ones too; their owners'
    names came from the members now, so the action of an organisation that had closed it and
    left read 'onbekende organisatie' (the minutes named it)."""
    meeting_id = publish_on(client, region, iso(7))
    body = {
        "kind": "plan_viewing",
        "owner_organisation_id": region.other_corporation.id,
        "due_date": iso(14),
        "meeting_id": meeting_id,
    }
    url = f"/v1/tables/{region.table_id}/actions"
    made = client.post(url, json=body, headers=region.chair.headers)
    assert made.status_code == 201, made.text
    done = client.patch(
        f"/v1/actions/{made.json()['id']}",
        json={"status": "done"},
        headers=region.other_corporation.headers,
    )
    assert done.status_code == 200, done.text
    leave(client, region, region.other_corporation)
    chair = signed_in(app, make_person(client, region.chair, "chair"))

    page = chair.get(f"/vergaderingen/{meeting_id}")

    assert page.status_code == 200, page.text
    assert region.other_corporation.name in page.text
    assert "onbekend" not in page.text


def _decide(client, org, proposal_id, decision, reason):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/proposals/{proposal_id}/decisions",
        json={"decision": decision, "reason": reason},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text


def _actors(page: str) -> list[str]:
    """The timeline's 'Door' cells (the last cell of each row)."""
    table = page.split('<table class="timeline">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td>(?:<bdi>)?([^<]*)(?:</bdi>)?</td>\s*</tr>", table)
    return [re.sub(r"\s+", " ", cell).strip() for cell in cells]


def test_a_case_timeline_names_a_corporation_that_declined_and_has_left(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The case page's timeline named its actors from the table's members now and the case's
    provider: the decline of a corporation that has left the table since showed no actor."""
    published = publish_one(client, region)
    _decide(client, region.corporation, published.proposal_id, "corporation_decline", "other")
    gone = client.delete(
        f"/v1/vacancies/{published.vacancy_id}", headers=region.corporation.headers
    )
    assert gone.status_code == 204, gone.text
    leave(client, region, region.corporation)
    chair = signed_in(app, make_person(client, region.chair, "chair"))

    page = chair.get(f"/dossiers/{published.case_id}")

    assert page.status_code == 200, page.text
    assert region.corporation.name in _actors(page.text)


def test_a_dwelling_timeline_names_a_care_provider_that_declined_and_has_left(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The dwelling page's timeline named its actors from the table's members now and the
    dwelling's corporation: the client's decline, by a care provider that has left the table
    since, showed no actor."""
    published = publish_one(client, region)
    _decide(client, region.care_provider, published.proposal_id, "client_decline", "location")
    withdraw_case(client, region.care_provider, published.case_id)
    leave(client, region, region.care_provider)
    chair = signed_in(app, make_person(client, region.chair, "chair"))

    page = chair.get(f"/woningen/{published.vacancy_id}")

    assert page.status_code == 200, page.text
    assert region.care_provider.name in _actors(page.text)
