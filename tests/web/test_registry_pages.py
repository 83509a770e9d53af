"""The registry pages: `/dossiers` and `/woningen` with their filters, and the page of one case
and one dwelling, each as the chair, a care provider and a corporation of a table with two
organisations of each kind: nobody sees another's cases or dwellings, not even as counts."""

from datetime import date
from urllib.parse import urlencode

import pytest

from app.web.formatting import dutch_date
from tests.api.helpers import plan_meeting, publish_one_proposal
from tests.api.test_access_log_reads import log_of
from tests.api.test_actions import hand_out
from tests.api.test_actions_of_a_moved_case import move_to_a_second_table
from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import make_person, signed_in
from tests.web.html_rules import problems
from tests.web.test_wrong_query_values import error_text

WHEELCHAIR = {"wheelchair": True, "step_free": True, "max_floor": None, "pets": False}


class People(dict):
    """A signed-in browser per organisation of the table, by name (`chair`, `care_provider`,
    `other_corporation`, ...), each made when a test first asks for it: most tests need two of
    the six, and each costs three requests."""

    def __init__(self, make):  # type: ignore[no-untyped-def]
        super().__init__()
        self._make = make

    def __missing__(self, name: str):  # type: ignore[no-untyped-def]
        self[name] = browser = self._make(name)
        return browser


@pytest.fixture
def people(app, client, region):  # type: ignore[no-untyped-def]
    orgs = {
        "chair": region.chair,
        "municipality": region.municipality,
        "care_provider": region.care_provider,
        "other_care_provider": region.other_care_provider,
        "corporation": region.corporation,
        "other_corporation": region.other_corporation,
    }
    return People(
        lambda name: signed_in(
            app, make_person(client, orgs[name], "chair" if name == "chair" else "member")
        )
    )


@pytest.fixture
def registry(client, region):  # type: ignore[no-untyped-def]
    """Two cases per care provider, a dwelling per corporation; one case no dwelling fits."""
    cp, other_cp = region.care_provider, region.other_care_provider
    return {
        "own": create_case(client, cp, region.table_id, external_ref="EIGEN-001"),
        "blocked": create_case(
            client, cp, region.table_id, external_ref="EIGEN-002", needs=WHEELCHAIR
        ),
        "other": create_case(client, other_cp, region.table_id, external_ref="ANDER-001"),
        "other_blocked": create_case(
            client, other_cp, region.table_id, external_ref="ANDER-002", needs=WHEELCHAIR
        ),
        "dwelling": create_vacancy(client, region.corporation, external_ref="VHE-EIGEN"),
        "other_dwelling": create_vacancy(
            client, region.other_corporation, external_ref="VHE-ANDER"
        ),
    }


def page(browser, url: str) -> str:  # type: ignore[no-untyped-def]
    response = browser.get(url)
    assert response.status_code == 200, response.text
    return response.text


def test_the_chair_lists_every_case_of_the_table_and_finds_one_by_reference(people, registry):  # type: ignore[no-untyped-def]
    html = page(people["chair"], "/dossiers")
    for ref in ("EIGEN-001", "EIGEN-002", "ANDER-001", "ANDER-002"):
        assert ref in html
    found = page(people["chair"], "/dossiers?referentie=ANDER-00")
    assert "ANDER-001" in found and "ANDER-002" in found and "EIGEN-001" not in found


def test_a_case_reference_search_on_the_page_is_matched_with_its_case(client, region, people):  # type: ignore[no-untyped-def]
    """As `?reference=` in the API: `ABC-1` and `abc-1` are two of a care provider's cases,
    and the page's search listed both for either."""
    create_case(client, region.care_provider, region.table_id, external_ref="ABC-1")
    create_case(client, region.care_provider, region.table_id, external_ref="abc-1")
    found = page(people["chair"], "/dossiers?referentie=abc")
    assert "abc-1" in found and "ABC-1" not in found


def test_a_care_provider_sees_only_its_own_cases_and_no_trace_of_the_others(people, registry):  # type: ignore[no-untyped-def]
    html = page(people["care_provider"], "/dossiers")
    assert "EIGEN-001" in html and "EIGEN-002" in html
    assert "ANDER" not in html
    assert registry["other"]["id"] not in html
    other = page(people["other_care_provider"], "/dossiers")
    assert "ANDER-001" in other and "EIGEN" not in other
    # Its own blocked case shows why; the other provider's blocked case counts nowhere.
    blocked = page(people["care_provider"], "/dossiers?blokkade=not_wheelchair_accessible")
    assert "EIGEN-002" in blocked and "EIGEN-001" not in blocked and "ANDER" not in blocked


def test_nobody_opens_a_case_or_dwelling_of_another_organisation(people, registry):  # type: ignore[no-untyped-def]
    refused = [
        ("care_provider", f"/dossiers/{registry['other']['id']}"),
        ("other_care_provider", f"/dossiers/{registry['own']['id']}"),
        ("corporation", f"/dossiers/{registry['own']['id']}"),  # never proposed to it
        ("corporation", f"/woningen/{registry['other_dwelling']['id']}"),
        ("other_corporation", f"/woningen/{registry['dwelling']['id']}"),
        ("care_provider", f"/woningen/{registry['dwelling']['id']}"),
    ]
    for who, url in refused:
        assert people[who].get(url).status_code == 404, (who, url)


def test_a_corporation_lists_only_its_own_dwellings_and_no_cases(people, registry):  # type: ignore[no-untyped-def]
    html = page(people["corporation"], "/woningen")
    assert "VHE-EIGEN" in html and "VHE-ANDER" not in html
    cases = page(people["corporation"], "/dossiers")
    for ref in ("EIGEN-001", "ANDER-001"):
        assert ref not in cases
    assert "VHE-ANDER" in page(people["other_corporation"], "/woningen")
    both = page(people["chair"], "/woningen")
    assert "VHE-EIGEN" in both and "VHE-ANDER" in both


def test_the_case_page_shows_the_whole_file_and_why_no_dwelling_fits(people, registry):  # type: ignore[no-untyped-def]
    html = page(people["chair"], f"/dossiers/{registry['blocked']['id']}")
    assert "EIGEN-002" in html
    assert "Geen enkele woning past" in html
    assert "Niet rolstoeltoegankelijk" in html
    assert "Participatiewet" in html  # the income, part of the whole file


def test_the_case_page_lists_the_best_dwellings_by_their_reference(people, registry):  # type: ignore[no-untyped-def]
    html = page(people["care_provider"], f"/dossiers/{registry['own']['id']}")
    assert "Beste passende woningen" in html
    assert "VHE-EIGEN" in html and "W-" not in html


def test_a_corporation_sees_only_the_five_field_profile_of_a_case_proposed_to_it(  # type: ignore[no-untyped-def]
    client, region, people
):
    _, proposal = publish_one_proposal(client, region)
    case = client.get(f"/v1/cases/{proposal['case_id']}", headers=region.care_provider.headers)
    html = page(people["corporation"], f"/dossiers/{proposal['case_id']}")
    for shown in ("Huishoudgrootte", "Begeleiding", "Huismeester nodig", "Contractvorm"):
        assert shown in html
    assert case.json()["external_ref"] not in html
    assert "Geboortejaar" not in html and "Tijdlijn" not in html
    other = people["other_corporation"].get(f"/dossiers/{proposal['case_id']}")
    assert other.status_code == 404


def test_the_dwelling_page_shows_the_chair_its_best_cases_and_the_corporation_no_count(  # type: ignore[no-untyped-def]
    client, region, people, registry
):
    url = f"/woningen/{registry['dwelling']['id']}"
    chair = page(people["chair"], url)
    assert "Beste passende dossiers" in chair
    assert f"/dossiers/{registry['own']['id']}" in chair
    own = page(people["corporation"], url)
    assert "Er zijn passende dossiers" not in own  # no meeting planned: not day by day
    assert "ziet u op de datum van een vergadering" in own
    plan_meeting(client, region, iso(7))
    own = page(people["corporation"], url)
    assert "Er zijn passende dossiers" in own
    assert "passende dossiers voor deze woning" not in own
    assert "/dossiers/" not in own
    # The candidates the chair saw are cases shown: in the access log.
    entries = log_of(client, region, registry["own"]["id"])
    assert any(e["action"] == "list" and e["organisation_id"] == region.chair.id for e in entries)


def test_every_case_on_a_list_page_is_in_the_access_log(client, region, people, registry):  # type: ignore[no-untyped-def]
    page(people["municipality"], "/dossiers?referentie=ANDER-001")
    entries = log_of(client, region, registry["other"]["id"])
    assert [(e["action"], e["organisation_id"]) for e in entries][-1] == (
        "list",
        region.municipality.id,
    )
    assert not [e for e in log_of(client, region, registry["own"]["id"]) if e["action"] == "list"]


def test_list_pages_page_on_and_refuse_unknown_filters(client, region, people):  # type: ignore[no-untyped-def]
    for days in range(55):
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-days - 1))
    first = page(people["chair"], "/dossiers?sortering=-waitingTime")
    assert 'rel="next"' in first
    href = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = page(people["chair"], href.replace("&amp;", "&"))
    assert 'rel="next"' not in second
    bads = ("?status=nope", "?blokkade=nope", "?huishouden=0", "?sortering=naam", "?na=x")
    for bad in (*bads, "?huishouden=²", "?huishouden=\u0661"):  # digits `int` cannot read or reads
        assert people["chair"].get("/dossiers" + bad).status_code == 400, bad


def test_why_not_shows_the_dwelling_by_its_reference_and_beschikking_codes_in_dutch(  # type: ignore[no-untyped-def]
    client, region, people
):
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        beschikking={"status": "none", "valid_until": None},
    )
    dwelling = create_vacancy(client, region.corporation, external_ref="VHE-01006")
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    ).json()
    html = page(
        people["chair"],
        f"/vergaderingen/{meeting['id']}/waarom-niet?dossier={case['id']}&woning={dwelling['id']}",
    )
    assert "VHE-01006" in html and "W-" not in html
    assert "Wmo-beschikking ontbreekt" in html
    assert "Geen" in html and "Aangevraagd" in html
    assert ">none<" not in html and ">requested<" not in html


def evaluated_rows(monkeypatch):  # type: ignore[no-untyped-def]
    """Records (cases, dwellings) of every engine evaluation the pages run."""
    from app.registry import standing

    calls: list[tuple[int, int]] = []
    evaluate = standing.matching.evaluate

    def recording(cases, dwellings, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((len(cases), len(dwellings)))
        return evaluate(cases, dwellings, *args, **kwargs)

    monkeypatch.setattr(standing.matching, "evaluate", recording)
    return calls


def test_a_list_page_evaluates_only_the_cases_it_shows(people, registry, monkeypatch):  # type: ignore[no-untyped-def]
    calls = evaluated_rows(monkeypatch)
    found = page(people["chair"], "/dossiers?referentie=EIGEN-002")
    assert "EIGEN-002" in found and "EIGEN-001" not in found
    assert calls == [(1, 2)]  # the one case shown, against both dwellings
    calls.clear()
    page(people["chair"], f"/dossiers/{registry['own']['id']}")
    assert calls == [(1, 2)]
    calls.clear()
    page(people["chair"], f"/woningen/{registry['dwelling']['id']}")
    assert calls == [(4, 1)]


def test_the_standing_of_a_page_is_the_standing_in_the_whole_table(registry, session, region):  # type: ignore[no-untyped-def]
    import uuid

    from app.registry.standing import table_standing
    from app.tables.models import OutflowTable
    from tests.clock import day

    table = session.get(OutflowTable, uuid.UUID(region.table_id))
    whole = table_standing(session, table, day(7))
    for key in ("own", "blocked", "other_blocked"):
        case_id = registry[key]["id"]
        alone = table_standing(session, table, day(7), only_cases=[case_id])
        assert set(alone.cases) == {case_id}
        assert alone.cases[case_id] == whole.cases[case_id]
    dwelling_id = registry["dwelling"]["id"]
    alone = table_standing(session, table, day(7), only_dwellings=[dwelling_id])
    assert alone.dwellings == {dwelling_id: whole.dwellings[dwelling_id]}


@pytest.mark.parametrize("path", ["/dossiers", "/woningen"])
def test_a_reference_search_with_a_nul_byte_is_refused(people, registry, path):  # type: ignore[no-untyped-def]
    """The API refuses a NUL byte in `?reference=` (it cut SQLite's LIKE pattern short, so every
    dwelling was listed; PostgreSQL refuses such a string: a 500); the pages' search field
    took it as typed (found by the nineteenth breaker)."""
    response = people["chair"].get(f"{path}?referentie=EIGEN%00")
    assert response.status_code == 400, response.text
    html = response.text
    for ref in ("EIGEN-001", "EIGEN-002", "ANDER-001", "ANDER-002", "VHE-EIGEN", "VHE-ANDER"):
        assert ref not in html


@pytest.mark.parametrize(
    ("path", "key", "ref"),
    [("/dossiers", "other", "ANDER-001"), ("/woningen", "other_dwelling", "VHE-ANDER")],
)
@pytest.mark.parametrize("copied", [" {ref} ", "{ref}\t", "\n{ref}"])
def test_a_reference_copied_with_spaces_around_it_is_found(  # type: ignore[no-untyped-def]
    people, registry, path, key, ref, copied
):
    """A reference pasted with a space, tab or line end around it (from an e-mail or a
    spreadsheet cell) found nothing, without a word: no reference holds one."""
    sent = urlencode({"referentie": copied.format(ref=ref)})
    found = page(people["chair"], f"{path}?{sent}")
    assert f'<a href="{path}/{registry[key]["id"]}">' in found, found


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/dossiers", "Referentie (of een deel ervan)"),
        ("/woningen", "Referentie van de corporatie (of een deel ervan)"),
    ],
)
@pytest.mark.parametrize("typed", ["ANDER-001" + "x" * 56, "ANDER 001", "VHE/ANDER", "ANDÉR"])
def test_a_reference_no_reference_can_hold_is_named_not_cut_or_searched(  # type: ignore[no-untyped-def]
    people, registry, path, label, typed
):
    """A reference search over 64 characters was cut to 64 without a word (the API refuses it:
    `string_too_long`), and one with a space or another character no reference holds listed
    nothing: the page names the field and what it may hold, as for its other wrong values."""
    response = people["chair"].get(path, params={"referentie": typed})
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert f"Deze waarde klopt niet: {label}. Hoogstens 64 tekens:" in text, text


def test_a_case_moved_to_another_table_shows_it_none_of_the_earlier_tables_actions(  # type: ignore[no-untyped-def]
    app, client, region
):
    """The case page lists the case's open actions as its timeline does: a table reads those
    handed out at a table it reads. An action the earlier table handed out (its owner, kind and
    date) is that table's business, and answers the new table 404 in the API."""
    case = create_case(client, region.care_provider, region.table_id)
    handed = hand_out(client, region, region.municipality, case_id=case["id"])
    elsewhere, _ = move_to_a_second_table(client, region, case["id"])
    action = client.get(f"/v1/actions/{handed['id']}", headers=elsewhere.headers)
    assert action.status_code == 404
    theirs = signed_in(app, make_person(client, elsewhere, "chair"))
    assert "Wmo-beschikking aanvragen" not in page(theirs, f"/dossiers/{case['id']}")
    own = signed_in(app, make_person(client, region.care_provider, "member"))
    assert "Wmo-beschikking aanvragen" in page(own, f"/dossiers/{case['id']}")


@pytest.mark.parametrize(("path", "status"), [("/dossiers", "ready"), ("/woningen", "available")])
def test_a_wrong_value_keeps_the_lists_filter_form_as_it_was_sent(people, path, status):  # type: ignore[no-untyped-def]
    """A search no reference can hold (a space inside) answered an error page without the
    list's form: the person had to find the list again and choose every filter anew. The list
    comes back with its form as sent and the wrong value named in its error summary."""
    response = people["chair"].get(path, params={"referentie": "K 2024", "status": status})
    assert response.status_code == 400, response.text
    html = response.text
    assert (
        'name="referentie" aria-invalid="true" aria-describedby="referentie-hulp referentie-fout"'
        ' maxlength="200" value="K 2024"' in html
    )
    assert f'<option value="{status}" selected>' in html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<li><a href="#referentie">Deze waarde klopt niet: Referentie' in summary, summary
    assert problems(html) == []


def test_a_cases_timeline_names_the_meeting_of_its_proposal_by_date(app, client, region, published):
    """The case's timeline said 'Voorstel V-... voor woning ... in de vergadering', with no
    word of which meeting; it names the meeting by its date, as the agenda's crumbs do."""
    meeting = client.get(f"/v1/meetings/{published.meeting_id}", headers=region.chair.headers)
    assert meeting.status_code == 200, meeting.text
    on = dutch_date(date.fromisoformat(meeting.json()["date"]))
    page = signed_in(app, make_person(client, region.care_provider)).get(
        f"/dossiers/{published.case_id}"
    )
    assert page.status_code == 200, page.text
    assert f">de vergadering van {on}</a>" in page.text
