"""The minutes (besluitenlijst) as a page, a PDF and a CSV; the chair marks them final."""

import csv
import io
from datetime import datetime, time

import time_machine

from app.timeutil import AMSTERDAM
from app.web.formatting import dutch_date
from tests.api.helpers import plan_meeting
from tests.api.test_open_proposals import two_open_proposals
from tests.clock import day, iso
from tests.web.conftest import csrf_of, make_person, post_form, publish_one, signed_in
from tests.web.test_after_leaving_pages import leave
from tests.web.test_limits_pages import pdf_text


def decide(client, org, proposal_id, decision, **body):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/v1/proposals/{proposal_id}/decisions",
        json={"decision": decision, **body},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text


def nominate(client, region, proposal_id):  # type: ignore[no-untyped-def]
    decide(client, region.chair, proposal_id, "nominate")


def test_the_chair_reads_prints_and_freezes_the_minutes(app, client, region, chair):
    last_week, _, proposals = two_open_proposals(client, region)
    nominate(client, region, proposals[0]["id"])
    browser = signed_in(app, chair)
    url = f"/vergaderingen/{last_week}/besluitenlijst"
    page = browser.get(url).text
    assert "Voordragen" in page and "Concept" in page
    assert "Besluitenlijst definitief vaststellen" in page
    rows = list(
        csv.reader(
            io.StringIO(browser.get(url + ".csv").content.decode("utf-8-sig")), delimiter=";"
        )
    )
    assert [r[1] for r in rows if r and r[0] == "besluiten"] == [proposals[0]["case_id"]]
    assert len([r for r in rows if r and r[0] == "openstaande_voorstellen"]) == 2
    pdf = browser.get(url + ".pdf")
    assert pdf.content.startswith(b"%PDF") and b"(Besluiten)" in pdf_text(pdf.content)
    final = post_form(browser, url + "/definitief", {"versie": "2"}, url)
    assert final.status_code == 303, final.text
    nominate(client, region, proposals[1]["id"])
    frozen = browser.get(url).text
    assert "Definitief vastgesteld" in frozen and frozen.count("Voordragen") == 1
    assert "Besluitenlijst definitief vaststellen" not in frozen


def test_a_care_provider_reads_only_its_own_decisions(app, client, region):
    last_week, _, proposals = two_open_proposals(client, region)
    for p in proposals:
        nominate(client, region, p["id"])
    browser = signed_in(app, make_person(client, region.other_care_provider))
    text = browser.get(f"/vergaderingen/{last_week}/besluitenlijst.csv").text
    for p in proposals:
        assert (p["case_id"] in text) == (p["care_provider_id"] == region.other_care_provider.id)


def test_the_pages_say_in_dutch_that_the_meeting_has_not_taken_place(app, client, region, chair):
    from tests.api.test_minutes import future_proposal

    next_week, proposal = future_proposal(client, region)
    browser = signed_in(app, chair)
    page = browser.get(f"/voorstellen/{proposal['id']}").text
    assert "heeft nog niet plaatsgevonden" in page
    assert 'name="besluit" value="nominate"' not in page
    assert 'name="besluit" value="withdraw"' in page  # the chair may still withdraw
    url = f"/vergaderingen/{next_week}/besluitenlijst"
    minutes_page = browser.get(url).text
    assert "kan definitief worden vastgesteld vanaf de vergaderdag" in minutes_page
    assert "Besluitenlijst definitief vaststellen" not in minutes_page
    refused = post_form(browser, url + "/definitief", {"versie": "2"}, url)
    assert refused.status_code == 409
    assert "De vergadering heeft nog niet plaatsgevonden" in refused.text
    early = post_form(
        browser,
        f"/voorstellen/{proposal['id']}/besluit",
        {"versie": "1", "besluit": "nominate"},
        f"/voorstellen/{proposal['id']}",
    )
    assert early.status_code == 409
    assert "De vergadering heeft nog niet plaatsgevonden" in early.text


def test_final_minutes_say_they_run_until_they_were_marked_final(app, client, region, chair):
    """Final minutes said they held the decisions 'tot de vergadering van' the next meeting,
    while a decision taken after marking them final (before that meeting) is not in them: it
    comes in the next meeting's minutes, and the page now says so."""
    last_week, next_week, proposals = two_open_proposals(client, region)
    browser = signed_in(app, chair)
    url = f"/vergaderingen/{last_week}/besluitenlijst"
    assert "tot de vergadering van" in browser.get(url).text  # the draft's period
    final = post_form(browser, url + "/definitief", {"versie": "2"}, url)
    assert final.status_code == 303, final.text
    nominate(client, region, proposals[0]["id"])
    frozen = browser.get(url).text
    assert frozen.count("Voordragen") == 0
    assert "tot de vergadering van" not in frozen
    assert "tot het vaststellen" in frozen
    assert "besluitenlijst van de volgende vergadering" in frozen
    later = browser.get(f"/vergaderingen/{next_week}/besluitenlijst").text
    assert later.count("Voordragen") == 1


def test_the_minutes_title_their_open_proposals_as_of_this_and_earlier_meetings(
    app, client, region, chair
):
    last_week, _, proposals = two_open_proposals(client, region)
    browser = signed_in(app, chair)
    url = f"/vergaderingen/{last_week}/besluitenlijst"
    page = browser.get(url).text
    section = page.split('id="openstaand"', 1)[1].split("</section>", 1)[0]
    assert all(f"/voorstellen/{p['id']}" in section for p in proposals)  # this meeting's own
    assert "van eerdere vergaderingen" not in page
    assert "Openstaande voorstellen van deze en eerdere vergaderingen" in section
    pdf = pdf_text(browser.get(url + ".pdf").content)
    assert b"van eerdere vergaderingen" not in pdf
    assert b"Openstaande voorstellen van deze en eerdere vergaderingen" in pdf


def test_a_stale_final_minutes_form_says_the_minutes_changed_not_a_proposal(
    app, client, region, chair
):
    last_week, _, _ = two_open_proposals(client, region)
    browser = signed_in(app, chair)
    url = f"/vergaderingen/{last_week}/besluitenlijst"
    stale = post_form(browser, url + "/definitief", {"versie": "1"}, url)
    assert stale.status_code == 412
    assert "de besluitenlijst (een besluit, actie of de vergadering) is intussen" in stale.text
    assert "het voorstel is intussen gewijzigd" not in stale.text


def test_publish_and_final_minutes_sent_twice_stand_without_someone_else_was_first(
    app, client, region, chair
):
    browser = signed_in(app, chair)
    meeting = plan_meeting(client, region, iso(10))
    url = f"/vergaderingen/{meeting['id']}"
    csrf = csrf_of(browser, url)
    for _ in range(2):  # a double click: the second carries the version the first changed
        sent = browser.post(url + "/publiceren", data={"csrf_token": csrf, "versie": "1"})
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"] == url + "?melding=gepubliceerd"
    last_week, _, _ = two_open_proposals(client, region)
    minutes = f"/vergaderingen/{last_week}/besluitenlijst"
    csrf = csrf_of(browser, minutes)
    for _ in range(2):
        sent = browser.post(minutes + "/definitief", data={"csrf_token": csrf, "versie": "2"})
        assert sent.status_code == 303, sent.text


def test_publish_and_final_minutes_without_their_version_do_nothing(app, client, region, chair):
    """As the action and aftercare forms: a post that does not say which version it showed is
    refused, not carried out unchecked."""
    browser = signed_in(app, chair)
    meeting = plan_meeting(client, region, iso(10))
    url = f"/vergaderingen/{meeting['id']}"
    refused = browser.post(url + "/publiceren", data={"csrf_token": csrf_of(browser, url)})
    assert refused.status_code == 400 and "niet welke versie" in refused.text
    read = client.get(f"/v1/meetings/{meeting['id']}", headers=region.chair.headers).json()
    assert read["published_at"] is None
    last_week, _, _ = two_open_proposals(client, region)
    minutes = f"/vergaderingen/{last_week}/besluitenlijst"
    csrf = csrf_of(browser, minutes)
    refused = browser.post(minutes + "/definitief", data={"csrf_token": csrf})
    assert refused.status_code == 400 and "niet welke versie" in refused.text
    doc = client.get(f"/v1/meetings/{last_week}/minutes", headers=region.chair.headers).json()
    assert doc["final"] is False


def test_the_minutes_name_a_corporation_that_has_left_the_table_since(app, client, region, chair):
    """The minutes and the proposal page named only the table's members now: a corporation that
    declined a proposal and then left the table became "onbekende organisatie" in the record of
    the meeting, and "onbekend" as the proposal's party (found by breaker 38)."""
    published = publish_one(client, region)
    nominate(client, region, published.proposal_id)
    reason = "unsuitable_for_dwelling"
    decide(client, region.corporation, published.proposal_id, "corporation_decline", reason=reason)
    dwelling = f"/v1/vacancies/{published.vacancy_id}"
    gone = client.delete(dwelling, headers=region.corporation.headers)
    assert gone.status_code == 204, gone.text
    leave(client, region, region.corporation)
    browser = signed_in(app, chair)

    page = browser.get(f"/vergaderingen/{published.meeting_id}/besluitenlijst").text
    proposal = browser.get(f"/voorstellen/{published.proposal_id}").text

    assert region.corporation.name in page
    assert "onbekende organisatie" not in page
    assert proposal.count(region.corporation.name) == 2  # the party, who declined
    assert "onbekend" not in proposal


def test_the_minutes_page_title_names_the_meeting_day_in_dutch(app, client, region, chair):
    """The browser tab (`<title>`) of the minutes read `Besluitenlijst 2026-11-23` while the
    heading and the agenda's tab read `23 november 2026`."""
    last_week, _, _ = two_open_proposals(client, region)
    page = signed_in(app, chair).get(f"/vergaderingen/{last_week}/besluitenlijst").text
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == f"Besluitenlijst {dutch_date(day(-7))} · Uitstroomtafel"


def test_printed_draft_minutes_say_when_they_were_drawn_up(app, client, region, chair):
    """Draft minutes change with every decision until they are final, yet their PDF and CSV
    said only 'Concept: bijgewerkt tot nu': two printouts could not be told apart, nor a
    reader learn what 'nu' was. They now name the moment (today, Europe/Amsterdam), as the
    agenda's 'Berekend' does; nothing else in them is today's date."""
    last_week, _, _ = two_open_proposals(client, region)
    browser = signed_in(app, chair)
    url = f"/vergaderingen/{last_week}/besluitenlijst"
    rows = csv.reader(
        io.StringIO(browser.get(url + ".csv").content.decode("utf-8-sig")), delimiter=";"
    )
    status = next(r[2] for r in rows if r[:2] == ["besluitenlijst", "status"])
    assert status.startswith("Concept") and dutch_date(day()) in status
    assert "tot nu" not in status
    pdf = pdf_text(browser.get(url + ".pdf").content).decode()
    assert f"bijgewerkt tot {dutch_date(day())}" in pdf


def test_the_final_minutes_form_is_refused_once_a_decision_came_after_the_chair_read_them(
    app, client, region, chair
):
    """The form carried the meeting's version, which a decision does not move: a colleague's
    decision recorded while the chair read the draft was frozen into minutes the chair had not
    seen (the API's minutes ETag was fixed for this; the page's form was not)."""
    last_week, _, proposals = two_open_proposals(client, region)
    browser = signed_in(app, chair)
    url = f"/vergaderingen/{last_week}/besluitenlijst"
    page = browser.get(url).text
    versie = page.split('name="versie" value="', 1)[1].split('"', 1)[0]
    nominate(client, region, proposals[0]["id"])

    stale = post_form(browser, url + "/definitief", {"versie": versie}, url)

    assert stale.status_code == 412, stale.text
    # A decision changed the minutes, not the meeting: the message names the minutes.
    assert "de besluitenlijst (een besluit, actie of de vergadering) is intussen" in stale.text
    doc = client.get(f"/v1/meetings/{last_week}/minutes", headers=region.chair.headers).json()
    assert doc["final"] is False
    versie = browser.get(url).text.split('name="versie" value="', 1)[1].split('"', 1)[0]
    final = post_form(browser, url + "/definitief", {"versie": versie}, url)
    assert final.status_code == 303, final.text
    doc = client.get(f"/v1/meetings/{last_week}/minutes", headers=region.chair.headers).json()
    assert doc["final"] is True and len(doc["decisions"]) == 1


def test_final_minutes_read_before_an_action_fell_overdue_are_not_blamed_on_someone_else(
    app, client, region, chair
):
    """The chair read the draft minutes at 23:50 with an action due that day and sent the
    form at 00:10: the action now reads overdue, so the minutes are no longer as read and the
    form is refused (412), but the page said 'Iemand anders was u voor', though nobody changed
    anything: the date did. It says what may have changed, the date included, and that nothing
    was made final; the fresh page's form then makes them final."""
    published = publish_one(client, region)
    handed = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={"kind": "other", "owner_organisation_id": region.care_provider.id,
              "due_date": iso(0), "meeting_id": published.meeting_id},
        headers=region.chair.headers,
    )  # fmt: skip
    assert handed.status_code == 201, handed.text
    url = f"/vergaderingen/{published.meeting_id}/besluitenlijst"
    with time_machine.travel(datetime.combine(day(0), time(23, 50), tzinfo=AMSTERDAM), tick=True):
        browser = signed_in(app, chair)
        page = browser.get(url).text
        versie = page.split('name="versie" value="', 1)[1].split('"', 1)[0]
        form = {"csrf_token": csrf_of(browser, url), "versie": versie}
    with time_machine.travel(datetime.combine(day(1), time(0, 10), tzinfo=AMSTERDAM), tick=True):
        stale = browser.post(url + "/definitief", data=form)
        assert stale.status_code == 412, stale.text
        assert "Iemand anders" not in stale.text
        assert "of een actie is sindsdien over tijd" in stale.text
        assert "Er is niets vastgesteld" in stale.text
        doc = client.get(
            f"/v1/meetings/{published.meeting_id}/minutes", headers=region.chair.headers
        )
        assert doc.json()["final"] is False
        versie = stale.text.split('name="versie" value="', 1)[1].split('"', 1)[0]
        final = browser.post(url + "/definitief", data=form | {"versie": versie})
        assert final.status_code == 303, final.text


def test_draft_minutes_of_a_meeting_to_come_name_no_period_ending_before_it_starts(
    app, client, region, chair
):
    """The draft minutes of the table's next (and last planned) meeting said they held
    follow-up decisions 'vanaf <the meeting's day> tot <now>': a period ending before it
    begins. They say the meeting has not taken place yet; the page, the PDF and the CSV alike."""
    meeting = plan_meeting(client, region, iso(14))
    url = f"/vergaderingen/{meeting['id']}/besluitenlijst"
    browser = signed_in(app, chair)
    page = browser.get(url).text
    rows = csv.reader(
        io.StringIO(browser.get(url + ".csv").content.decode("utf-8-sig")), delimiter=";"
    )
    status = next(r[2] for r in rows if r[:2] == ["besluitenlijst", "status"])
    for text in (page, status):
        assert f"vanaf {dutch_date(day(14))} tot" not in text
        assert f"vanaf {dutch_date(day(14))} (de vergadering heeft nog niet plaatsgevonden)" in (
            text
        )
        assert f"bijgewerkt tot {dutch_date(day())}" in text  # when it was drawn up, still
