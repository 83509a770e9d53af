"""The pages show what the table remembers and the trade-offs, in Dutch: the why-not page for a
declined pair, a case that takes no part, a feasible pair given to another; the agenda's list of
cases left unhoused."""

import pytest

from app.agenda.why_not import STATUS_REASONS
from app.matching import REASON_CODES, TRADE_OFFS
from app.web import labels
from app.web.formatting import case_code
from tests.api.weeks import decide, fitting_dwelling, limits_for, publish_meeting, ready_case
from tests.clock import iso
from tests.web.conftest import signed_in


@pytest.fixture(autouse=True)
def limits(client):
    limits_for(client, -14, 30)


def meeting_today(client, region) -> str:
    response = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(0)},
        headers=region.chair.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def why_not_page(browser, meeting_id, case, vacancy) -> str:
    page = browser.get(
        f"/vergaderingen/{meeting_id}/waarom-niet",
        params={"dossier": case["id"], "woning": vacancy["id"]},
    )
    assert page.status_code == 200, page.text
    return page.text


def test_every_reason_status_and_trade_off_code_has_a_dutch_label():
    for code in (*REASON_CODES, *STATUS_REASONS):
        assert labels.label("reason", code) != code, code
    for code in TRADE_OFFS:
        assert labels.label("trade_off", code) != code, code
    for key in (
        "decision", "reason", "decided_on", "proposal_id", "times", "until", "vacancy_id",
        "case_id", "status_reason", "parked_until", "ready_since", "exit_date",
        "proposal_status", "meeting_date", "window_months", "usage", "cap",
    ):  # fmt: skip
        assert labels.label("detail", key) != key, key


def test_the_why_not_page_shows_an_earlier_decline_in_dutch(app, client, region, chair):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, -7)
    decide(client, region.care_provider, proposal, "client_decline", "location")
    text = why_not_page(signed_in(app, chair), meeting_today(client, region), case, home)
    assert "Eerder afgewezen of ingetrokken voor deze woning" in text
    assert "Cliënt ziet af" in text and "Locatie" in text
    assert "client_decline" not in text


def test_the_why_not_page_says_a_case_on_hold_takes_no_part(app, client, region, chair):
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    response = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "on_hold", "status_reason": "client_request"},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 200, response.text
    text = why_not_page(signed_in(app, chair), meeting_today(client, region), case, home)
    assert "doet niet mee aan de agenda" in text
    assert "Dossier is aangehouden" in text and "Op verzoek van de cliënt" in text


def test_the_why_not_page_names_who_got_the_dwelling(app, client, region, chair):
    longer = ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    shorter = ready_case(client, region.other_care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    text = why_not_page(signed_in(app, chair), meeting_today(client, region), shorter, home)
    assert "Deze woning past bij dit dossier" in text
    assert "stelt dit paar niet voor" in text
    assert "lagere totaalscore" in text
    assert f"D-{longer['id'].replace('-', '')[-8:].upper()}" in text


def test_the_agenda_page_lists_cases_left_unhoused_with_their_best_alternative(
    app, client, region, chair
):
    ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    shorter = ready_case(client, region.other_care_provider, region.table_id)
    fitting_dwelling(client, region.corporation, "A")
    meeting_id = meeting_today(client, region)
    page = signed_in(app, chair).get(f"/vergaderingen/{meeting_id}")
    assert page.status_code == 200
    assert "Niet gehuisvest ondanks een passende woning" in page.text
    assert f"/dossiers/{shorter['id']}" in page.text
    assert "Evenveel dossiers gehuisvest, maar met een lagere totaalscore" in page.text


def test_the_pages_count_the_housed_in_cases_as_the_agenda_does_not_in_people(
    app, client, region, chair
):
    """The agenda houses as many cases as it can (README: people (cases)), but the pages said
    "mensen" beside a summary that counts cases and persons apart: a couple passed over for a
    single client read "Evenveel mensen gehuisvest" and "huisvest 1 mens", though giving the
    dwelling to the couple houses two people. They now say cases (dossiers)."""
    ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    couple = ready_case(
        client, region.other_care_provider, region.table_id, household={"adults": 2}
    )
    home = fitting_dwelling(client, region.corporation, "A")
    browser = signed_in(app, chair)
    meeting_id = meeting_today(client, region)
    page = browser.get(f"/vergaderingen/{meeting_id}").text
    assert f"/dossiers/{couple['id']}" in page.split('id="afwegingen"')[1]
    assert "zo veel mogelijk dossiers gehuisvest" in page
    assert "Evenveel dossiers gehuisvest" in page
    assert "mensen gehuisvest" not in page
    text = why_not_page(browser, meeting_id, couple, home)
    assert "het beste voorstel met dit paar huisvest 1 dossier, de agenda 1" in text


def test_the_why_not_page_of_a_published_meeting_says_its_agenda_proposes_the_pair(
    app, client, region, chair
):
    """Asked from the frozen agenda that proposes the pair, the page said the case and the
    dwelling took no part in the agenda of this date (they are in that very proposal now)."""
    case = ready_case(client, region.care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, 0)
    browser = signed_in(app, chair)
    text = why_not_page(browser, proposal["meeting_id"], case, home)
    assert "De vastgestelde agenda van deze vergadering stelt dit paar voor" in text
    assert "doet niet mee aan de agenda" not in text
    assert "Dossier zit al in een lopend voorstel" in text  # how it stands now
    # Declined since, the page still says what the meeting proposed, and why it is out now.
    decide(client, region.care_provider, proposal, "client_decline", "location")
    text = why_not_page(browser, proposal["meeting_id"], case, home)
    assert "De vastgestelde agenda van deze vergadering stelt dit paar voor" in text
    assert "Eerder afgewezen of ingetrokken voor deze woning" in text


def test_the_why_not_page_of_a_published_meeting_does_not_deny_a_pair_its_agenda_weighed(
    app, client, region, chair
):
    """The frozen agenda gave the dwelling to the longer waiting case and explained why not the
    other; the page for that pair said the dwelling took no part in the agenda of this date."""
    ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    shorter = ready_case(client, region.other_care_provider, region.table_id)
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, 0)
    text = why_not_page(signed_in(app, chair), proposal["meeting_id"], shorter, home)
    assert "doet niet mee aan de agenda van deze datum" not in text
    assert "doet nu niet mee aan een nieuwe agenda" in text
    assert "Woning zit al in een lopend voorstel" in text


def _published_and_declined_by_the_longest_waiting(client, region) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """A meeting of today published with one dwelling, which went to a new case waiting longer
    than the region's others, whose client then declined it: the proposal and the dwelling."""
    longest = ready_case(client, region.care_provider, region.table_id, ready_since=iso(-700))
    home = fitting_dwelling(client, region.corporation, "A")
    [proposal] = publish_meeting(client, region, 0)
    assert proposal["case_id"] == longest["id"]
    decide(client, region.care_provider, proposal, "client_decline", "location")
    return proposal, home


def test_the_why_not_page_of_a_published_meeting_words_a_pair_it_left_out_as_now(
    app, client, region, chair
):
    """The frozen agenda gave the dwelling to the longer waiting case, who declined it a few
    days later; asked then for the other case from that meeting's agenda, the page said "De
    agenda van deze datum stelt dit paar voor" (the live re-solve now does), while the agenda
    above it lists that case as left unhoused."""
    shorter = ready_case(client, region.other_care_provider, region.table_id)
    proposal, home = _published_and_declined_by_the_longest_waiting(client, region)
    text = why_not_page(signed_in(app, chair), proposal["meeting_id"], shorter, home)
    assert "Deze woning past bij dit dossier" in text
    assert "De agenda van deze datum stelt dit paar voor" not in text
    assert "De vastgestelde agenda van deze vergadering stelt dit paar niet voor" in text
    assert "Een nieuwe agenda van deze datum zou dit paar nu voorstellen" in text
    # The heading asked 'Waarom past dit niet?' whatever the answer, so also above 'Deze
    # woning past bij dit dossier'; a fitting pair is asked about as the agenda's form calls it.
    assert "Waarom past dit niet?" not in text and "<h1>Waarom niet?</h1>" in text


def test_the_why_not_page_of_a_published_meeting_words_its_trade_off_as_a_new_agendas(
    app, client, region, chair
):
    """The frozen agenda gave the dwelling to the longest waiting case, who declined it; asked
    then for the shortest waiting case, the page's trade-off, of the live re-solve, said 'Deze
    woning gaat naar' the middle case and 'Met dit paar verandert de agenda zo: <middle> heeft
    <dwelling>', under the frozen agenda that gave the dwelling to the longest waiting case and
    nothing to the middle one. It speaks of a new agenda, as the verdict above it does."""
    middle = ready_case(client, region.care_provider, region.table_id, ready_since=iso(-600))
    shortest = ready_case(client, region.care_provider, region.table_id)
    proposal, home = _published_and_declined_by_the_longest_waiting(client, region)
    text = why_not_page(signed_in(app, chair), proposal["meeting_id"], shortest, home)
    assert "De vastgestelde agenda van deze vergadering stelt dit paar niet voor" in text
    assert "Een nieuwe agenda van deze datum zou dit paar nu niet voorstellen" in text
    assert case_code(middle["id"]) in text  # the new agenda's choice, named as such
    for live in ("Deze woning gaat naar", "Dit dossier krijgt", "verandert de agenda zo"):
        assert live not in text, live
    assert "Waarom zou een nieuwe agenda dit paar niet voorstellen?" in text
    assert "In een nieuwe agenda gaat deze woning naar" in text
    assert "Met dit paar verandert een nieuwe agenda zo:" in text


def _twins_after_a_decline(client, region) -> tuple[dict, list[dict], dict]:  # type: ignore[no-untyped-def]
    """The published meeting of today gave its one dwelling to the longest waiting case, whose
    client declined; two cases alike in every scored respect wait besides: a new agenda gives
    the dwelling to one of them by the fixed order (`equal_alternative` for the other)."""
    twins = [
        ready_case(client, region.care_provider, region.table_id, ready_since=iso(-600))
        for _ in range(2)
    ]
    proposal, home = _published_and_declined_by_the_longest_waiting(client, region)
    return proposal, twins, home


def test_a_published_meetings_why_not_words_an_equal_alternative_as_a_new_agendas(
    app, client, region, chair
):
    """Under 'Waarom zou een nieuwe agenda dit paar niet voorstellen?' the trade-off said 'Even
    goed; de vaste volgorde koos het voorstel': in the past tense, as if the meeting's agenda
    had chosen, while it gave the dwelling to another case. It says what a new agenda would
    do, as the heading asks; the live page keeps its own wording."""
    proposal, twins, home = _twins_after_a_decline(client, region)
    browser = signed_in(app, chair)
    texts = [why_not_page(browser, proposal["meeting_id"], twin, home) for twin in twins]
    [text] = [t for t in texts if "Waarom zou een nieuwe agenda" in t]
    assert labels.label("trade_off", "equal_alternative") not in text
    assert "Even goed; de vaste volgorde zou het andere voorstel kiezen" in text
    # The live agenda of a meeting not yet published keeps the label of what it did.
    draft = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    )
    assert draft.status_code == 201, draft.text
    texts = [why_not_page(browser, draft.json()["id"], twin, home) for twin in twins]
    [live] = [t for t in texts if "Waarom niet voorgesteld?" in t]
    assert labels.label("trade_off", "equal_alternative") in live
    assert "zou het andere voorstel kiezen" not in live


def test_every_trade_off_has_a_wording_for_a_new_agenda():
    """The published meeting's why-not page speaks of what a new agenda would do: each
    trade-off has a label in the conditional, not the live agenda's."""
    for code in TRADE_OFFS:
        wording = labels.label("trade_off_new_agenda", code)
        assert wording != code and wording != labels.label("trade_off", code), code
        assert " zou" in wording, wording
