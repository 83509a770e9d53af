"""The case and dwelling pages' 'on the meeting of' section: it names a meeting only where one
is planned, and once that meeting's agenda is published it does not deny the case or dwelling
took part in it (the standing shown is of now, for a new agenda)."""

import re
from datetime import datetime, time

import time_machine

from app.timeutil import AMSTERDAM
from app.web.formatting import dutch_date
from tests.api.helpers import plan_meeting
from tests.clock import day, iso
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import make_person, signed_in


def test_without_a_planned_meeting_the_pages_name_no_meeting_of_today(
    app, client, region, published
):
    browser = signed_in(app, make_person(client, region.care_provider))
    today = dutch_date(day(0))
    for url in (f"/dossiers/{published.case_id}", f"/woningen/{published.vacancy_id}"):
        page = signed_in(app, make_person(client, region.chair, "chair")).get(url).text
        assert f"Op de vergadering van {today}" not in page, url
        assert "nog geen vergadering gepland" in page, url
    assert "nog geen vergadering gepland" in browser.get(f"/dossiers/{published.case_id}").text


def test_a_case_proposed_on_todays_published_agenda_is_not_said_to_be_outside_it(
    app, client, region
):
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation)
    meeting = plan_meeting(client, region, iso(0))
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    today = dutch_date(day(0))
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    for url in (f"/dossiers/{case['id']}", f"/woningen/{vacancy['id']}"):
        page = chair.get(url).text
        assert f"Doet niet mee aan de agenda van {today}" not in page, url
        assert f"Op de vergadering van {today}" not in page, url
        assert f"De agenda van {today} is gepubliceerd" in page, url
    assert "Doet nu niet mee aan een nieuwe agenda" in chair.get(f"/dossiers/{case['id']}").text


def test_a_housed_cases_waiting_days_stop_at_its_move_in(app, client, region, housed):
    mine, _ = housed  # ready 600 days ago, moved in 200 days ago
    page = signed_in(app, make_person(client, region.care_provider)).get(f"/dossiers/{mine}")
    line = page.text.split("<dt>Klaar voor uitstroom sinds</dt>", 1)[1].split("</dd>", 1)[0]
    assert f"{dutch_date(day(-600))} (400 dagen)" in line, line


def test_a_let_dwelling_no_longer_counts_days_available(app, client, region, housed):
    """The page and the list counted a let dwelling's days from its availability on, as if it
    still waited; its let day is a client's move-in day, so nothing is shown instead."""
    [let] = [
        v
        for v in client.get("/v1/vacancies", headers=region.corporation.headers).json()["items"]
        if v["status"] == "let"
    ]
    waiting = create_vacancy(client, region.corporation, available_from=iso(-30))
    browser = signed_in(app, make_person(client, region.corporation))
    for vacancy, shown in ((let, ""), (waiting, "30")):
        page = browser.get(f"/woningen/{vacancy['id']}").text
        line = page.split("<dt>Beschikbaar vanaf</dt>", 1)[1].split("</dd>", 1)[0]
        assert ("dagen)" in line) == bool(shown), line
        listed = browser.get("/woningen").text.split(f'href="/woningen/{vacancy["id"]}"', 1)[1]
        row = listed.split("</tr>", 1)[0]
        assert row.rstrip().endswith(f'<td class="num">{shown}</td>'), row


def test_a_case_ready_only_from_a_later_day_is_not_said_to_be_ready_since_it(app, client, region):
    """A case whose ready date lies ahead (it takes part in the agenda of next week's meeting)
    read 'Klaar voor uitstroom sinds <that later day> (0 dagen)' on its page."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(3))
    page = signed_in(app, make_person(client, region.care_provider)).get(f"/dossiers/{case['id']}")
    assert page.status_code == 200
    assert "<dt>Klaar voor uitstroom sinds</dt>" not in page.text
    line = page.text.split("<dt>Klaar voor uitstroom vanaf</dt>", 1)[1].split("</dd>", 1)[0]
    assert f"{dutch_date(day(3))} (over 3 dagen)" in line, line


def test_the_case_list_does_not_count_waiting_days_for_a_case_ready_only_later(app, client, region):
    """The case list's 'Wachttijd (dagen)' read 0 for a case whose ready date lies ahead, as if
    it had been waiting since today, while its page says 'vanaf <that day> (over N dagen)'
    (found by a breaker). The list now says, as the page, from when it is ready; a case ready
    today has waited 0 days, one ready earlier its days."""
    later = create_case(client, region.care_provider, region.table_id, ready_since=iso(3),
                        external_ref="K-later")  # fmt: skip
    today = create_case(client, region.care_provider, region.table_id, ready_since=iso(0),
                        external_ref="K-today")  # fmt: skip
    earlier = create_case(client, region.care_provider, region.table_id, ready_since=iso(-5),
                          external_ref="K-earlier")  # fmt: skip
    for person in (make_person(client, region.care_provider), make_person(client, region.chair)):
        listed = signed_in(app, person).get("/dossiers").text
        cells = {}
        for case in (later, today, earlier):
            row = listed.split(f'href="/dossiers/{case["id"]}"', 1)[1].split("</tr>", 1)[0]
            cells[case["external_ref"]] = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)[1]
        assert cells == {
            "K-later": f"nog niet: klaar vanaf {dutch_date(day(3))} (over 3 dagen)",
            "K-today": "0",
            "K-earlier": "5",
        }, cells


def test_a_case_not_ready_yet_is_not_said_to_be_ready_since_a_later_day(app, client, region):
    """The reason a case ready only from a later day takes no part in the agenda read 'Dossier
    is op deze datum nog niet klaar voor uitstroom (klaar voor uitstroom sinds: <that later
    day>)' on its page (found by a breaker); the date of that reason always lies ahead of the
    agenda's, so it reads 'vanaf'."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(17))
    for person in (make_person(client, region.care_provider), make_person(client, region.chair)):
        page = signed_in(app, person).get(f"/dossiers/{case['id']}").text
        said = f"(klaar voor uitstroom vanaf: {dutch_date(day(17))})"
        assert said in page, page
        assert "klaar voor uitstroom sinds" not in page


def test_a_case_withdrawn_before_its_ready_date_is_not_said_to_be_ready_in_some_days(
    app, client, region
):
    """A case withdrawn before its ready date read 'Klaar voor uitstroom vanaf <that day> (over
    13 dagen)' beside 'Afgemeld': closed, it never becomes ready (found by a breaker). It now
    says it was withdrawn before that day; an open case still counts the days to it."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(13))
    withdrawn = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "left_region"},
        headers=region.care_provider.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    for person in (make_person(client, region.care_provider), make_person(client, region.chair)):
        page = signed_in(app, person).get(f"/dossiers/{case['id']}").text
        line = page.split("<dt>Klaar voor uitstroom vanaf</dt>", 1)[1].split("</dd>", 1)[0]
        assert f"{dutch_date(day(13))} (vóór die dag afgemeld)" in line, line
        assert "over 13 dagen" not in page


def test_a_case_files_registration_is_not_a_status_change_in_its_timeline(app, client, region):
    """The first line of a case's timeline, its registration, read 'Status gewijzigd' (to
    'Klaar voor uitstroom', or 'Aangemeld' for a case ready later), though no status changed:
    the file was registered. It reads 'Dossier aangemeld'; a later change still reads 'Status
    gewijzigd'."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(3))
    browser = signed_in(app, make_person(client, region.care_provider))
    timeline = browser.get(f"/dossiers/{case['id']}").text.split('id="tabel-tijdlijn"', 1)[1]
    assert "<td>Dossier aangemeld</td>" in timeline, timeline
    assert "Status gewijzigd" not in timeline
    held = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "on_hold", "status_reason": "client_request"},
        headers=region.care_provider.headers,
    )
    assert held.status_code == 200, held.text
    timeline = browser.get(f"/dossiers/{case['id']}").text.split('id="tabel-tijdlijn"', 1)[1]
    assert timeline.count("<td>Status gewijzigd</td>") == 1, timeline
    assert timeline.count("<td>Dossier aangemeld</td>") == 1, timeline


def test_one_day_reads_dag_not_dagen_on_the_case_and_dwelling_pages(app, client, region, published):
    """A case ready since yesterday read 'Klaar voor uitstroom sinds <day> (1 dagen)', its
    proposal made yesterday 'Voorgesteld sinds <day> (1 dagen).' and a dwelling available since
    yesterday 'Beschikbaar vanaf <day> (1 dagen)', while 'over 1 dag' beside a ready date ahead
    was singular. One day is 'dag', on each page."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(0))
    vacancy = create_vacancy(client, region.corporation, available_from=iso(0))
    tomorrow = datetime.combine(day(1), time(10, 0), tzinfo=AMSTERDAM)
    with time_machine.travel(tomorrow, tick=True):
        for person in (
            make_person(client, region.care_provider),
            make_person(client, region.chair),
        ):
            browser = signed_in(app, person)
            page = browser.get(f"/dossiers/{case['id']}").text
            assert f"<dd>{dutch_date(day(0))} (1 dag)</dd>" in page, page
            proposed = browser.get(f"/dossiers/{published.case_id}").text
            assert f"sinds {dutch_date(day(0))} (1 dag).</p>" in proposed, proposed
            assert "1 dagen" not in page + proposed
        dwelling = signed_in(app, make_person(client, region.corporation))
        page = dwelling.get(f"/woningen/{vacancy['id']}").text
        line = page.split("<dt>Beschikbaar vanaf</dt>", 1)[1].split("</dd>", 1)[0]
        assert line.startswith(f"<dd>{dutch_date(day(0))} (1 dag)"), line
        assert "1 dagen" not in page


def test_a_dwelling_available_only_later_is_not_said_to_have_waited_0_days(app, client, region):
    """A dwelling available from a later day read 'Beschikbaar vanaf <that day> (0 dagen)' on
    its page and 0 in the list's waiting time, as cases ready only later did: its page says in
    how many days it comes available, the list that it does not wait yet."""
    vacancy = create_vacancy(client, region.corporation, available_from=iso(3))
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/woningen/{vacancy['id']}").text
    line = page.split("<dt>Beschikbaar vanaf</dt>", 1)[1].split("</dd>", 1)[0]
    assert line.startswith(f"<dd>{dutch_date(day(3))} (over 3 dagen)"), line
    listed = browser.get("/woningen").text
    row = listed.split(f">{vacancy['external_ref']}</a>", 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<td class="num">nog niet</td>', row), row
