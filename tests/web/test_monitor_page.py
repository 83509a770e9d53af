"""The monitor page: the monitor service's figures as SVG charts with the numbers in tables,
suppressed for organisations that may not see the cases."""

import pytest

from app.monitor import contingent, facts, flows, forecast, sustainment
from app.web import routes_monitor
from app.web.query_values import GIVEN_TWICE
from app.web.routes_monitor import period_label
from tests.clock import day, iso
from tests.conftest import create_case
from tests.monitor.history import dwelling, ensure_limits, house, publish
from tests.web.conftest import make_person, signed_in
from tests.web.html_rules import problems

MEETING = iso(-14)
MOVED_IN = day(-10)


def house_one(client, region) -> None:  # type: ignore[no-untyped-def]
    """One case housed through the API in a contingent dwelling, after a published meeting
    whose agenda also had a case no dwelling fits (it needs a wheelchair-accessible one)."""
    ensure_limits(client)
    create_case(client, region.care_provider, region.table_id, ready_since=iso(-329))
    wheelchair = {"wheelchair": True, "step_free": True, "max_floor": None, "pets": False}
    create_case(client, region.care_provider, region.table_id, needs=wheelchair)
    dwelling(client, region.corporation)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": MEETING},
        headers=region.chair.headers,
    ).json()
    client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    [proposal] = client.get(
        f"/v1/tables/{region.table_id}/proposals", headers=region.chair.headers
    ).json()["items"]
    for org, decision in (
        (region.chair, {"decision": "nominate"}),
        (region.corporation, {"decision": "corporation_accept"}),
        (region.corporation, {"decision": "sign_tenancy"}),
        (region.corporation, {"decision": "house", "effective_date": MOVED_IN.isoformat()}),
    ):
        response = client.post(
            f"/v1/proposals/{proposal['id']}/decisions", json=decision, headers=org.headers
        )
        assert response.status_code == 200, response.text


def test_the_chair_reads_the_monitor_with_charts_and_tables(app, client, region):
    house_one(client, region)
    chair = signed_in(app, make_person(client, region.chair, "viewer"))
    page = chair.get(f"/tafels/{region.table_id}/monitor", params={"jaar": MOVED_IN.year})
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count('<svg class="chart"') == 5
    for title in (
        "Wachtlijst aan het eind van elke periode",
        "Instroom en uitstroom per periode",
        "Wachttijd tot huisvesting",
        "Knelpunten in de laatste gepubliceerde agenda",
        f"Contingent {MOVED_IN.year}: gerealiseerd tegen afgesproken",
    ):
        assert f">{title}</title>" in html
    assert 'role="img"' in html and "<desc " in html
    assert f'<th scope="row">{period_label(day(0).strftime("%Y-%m"))}</th>' in html
    assert "afgeschermd" not in html  # the chair sees whole figures


def test_the_bottlenecks_say_that_a_case_can_count_under_more_than_one_reason(app, client, region):
    """Per reason the cases one waived reason would help: a case with two such dwellings counts
    under both, so the figures may add up to more than the cases without a dwelling (a tester
    read 18 against "Zonder passende woning 17" as a miscount, under a caption saying each
    case had no dwelling "alleen door die reden")."""
    house_one(client, region)
    chair = signed_in(app, make_person(client, region.chair, "viewer"))
    html = chair.get(f"/tafels/{region.table_id}/monitor", params={"jaar": MOVED_IN.year}).text
    section = html[html.index('id="h-knelpunten"') : html.index('id="h-contingent"')]
    assert "alleen door die reden" not in section and "alleen daardoor" not in section
    assert "Een dossier kan bij meer dan één reden meetellen" in section  # the chart
    assert "een dossier kan bij meer dan één reden meetellen" in section  # the table


def test_an_organisation_that_may_not_see_the_cases_gets_suppressed_cells(app, client, region):
    house_one(client, region)
    corporation = signed_in(app, make_person(client, region.other_corporation))
    html = corporation.get(f"/tafels/{region.table_id}/monitor").text
    assert "afgeschermd" in html
    assert "–" in html  # noqa: RUF001  (a suppressed cell)


def test_a_care_provider_or_corporation_page_has_no_bottleneck_history(app, client, region):
    """The history counts the whole table per published agenda: the chair's and municipalities'
    (the API answers the others 403)."""
    house_one(client, region)
    for org in (region.care_provider, region.corporation):
        html = signed_in(app, make_person(client, org)).get(f"/tafels/{region.table_id}/monitor")
        assert html.status_code == 200, html.text
        section = html.text.split('id="h-knelpunten"', 1)[1].split("</section>", 1)[0]
        assert "alleen voor de voorzitter en de gemeenten" in section
        assert "<table>" not in section and "Knelpunten in de laatste" not in html.text


def test_a_restricted_viewer_reads_the_page_for_the_year_its_figures_cover(app, client, region):
    """The breaker's case: a range over two years showed the asked range in the heading and form
    while the flows below covered the calendar year of its end."""
    house_one(client, region)
    provider = signed_in(app, make_person(client, region.care_provider))
    asked = {"van": f"{MOVED_IN.year - 1}-06-01", "tot": MOVED_IN.isoformat()}
    page = provider.get(f"/tafels/{region.table_id}/monitor", params=asked)
    assert page.status_code == 200, page.text
    assert f'value="{MOVED_IN.year}-01-01"' in page.text
    assert f'value="{MOVED_IN.year}-12-31"' in page.text
    assert f'value="{asked["van"]}"' not in page.text
    assert f"1 januari {MOVED_IN.year} tot en met 31 december {MOVED_IN.year}" in page.text


def test_a_bad_range_is_explained_on_the_page(app, client, region):
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(
        f"/tafels/{region.table_id}/monitor", params={"van": iso(1), "tot": iso(-300)}
    )
    assert response.status_code == 400
    assert "De einddatum ligt vóór de begindatum." in response.text


@pytest.mark.parametrize(("field", "label"), [("van", "van"), ("tot", "tot en met")])
def test_a_day_that_is_no_date_is_named_on_the_monitor_page(app, client, region, field, label):
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(f"/tafels/{region.table_id}/monitor", params={field: "garbage"})
    assert response.status_code == 400
    assert f"Niet (goed) ingevuld: {label}." in response.text
    assert '<form method="get" action="/tafels/' in response.text  # the page, to correct it on


@pytest.mark.parametrize("field", ["van", "tot"])
def test_a_day_that_is_no_date_stays_in_its_field_with_its_error_beside_it(
    app, client, region, field
):
    """The page named a typed day that is no date, but its form then showed the default range,
    so what was typed was gone; the field keeps it (escaped), says its error beside it, and the
    summary links to it. The other day, a good one, stays as typed too."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    other = "tot" if field == "van" else "van"
    typed = '31-12-2026"><b>'
    good = iso(-40) if other == "van" else iso(-3)
    response = chair.get(f"/tafels/{region.table_id}/monitor", params={field: typed, other: good})
    assert response.status_code == 400
    page = response.text
    escaped = "31-12-2026&#34;&gt;&lt;b&gt;"
    assert f'<input id="{field}" name="{field}" type="date" value="{escaped}"' in page, page
    assert '"><b>' not in page
    assert f'aria-invalid="true" aria-describedby="{field}-fout"' in page
    assert f'<p class="field-error" id="{field}-fout">Geen datum: <bdi>{escaped}</bdi>.' in page
    assert f'<li><a href="#{field}">' in page  # the summary links to the field
    assert f'<input id="{other}" name="{other}" type="date" value="{good}" required>' in page
    assert problems(page) == []


@pytest.mark.parametrize(("field", "label"), [("van", "Van"), ("tot", "Tot en met")])
def test_a_day_given_twice_is_said_beside_its_field_on_the_page(app, client, region, field, label):
    """`?van=2026-01-01&van=2026-02-01` answered the bare error page ("Ongeldig verzoek ...
    Naar het overzicht"): the monitor's form, and the other day typed, were gone. The page
    comes back (400) with the field empty, what is wrong beside it and the summary linking to
    it; the other day stays as typed. A stranger is still only sent to sign in."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    other = "tot" if field == "van" else "van"
    good = iso(-3) if other == "tot" else iso(-40)
    url = f"/tafels/{region.table_id}/monitor"
    sent = [(field, iso(-60)), (field, iso(-30)), (other, good)]
    response = chair.get(url, params=sent)
    assert response.status_code == 400, response.text
    page = response.text
    assert (
        f'<input id="{field}" name="{field}" type="date" value="" required aria-invalid="true" '
        f'aria-describedby="{field}-fout">'
    ) in page, page
    assert f'<p class="field-error" id="{field}-fout">{GIVEN_TWICE}</p>' in page
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<li><a href="#{field}">Deze waarde klopt niet: {label}. {GIVEN_TWICE}</a>' in summary
    assert f'<input id="{other}" name="{other}" type="date" value="{good}" required>' in page
    assert problems(page) == []
    stranger = client.get(url, params=sent, follow_redirects=False)
    assert stranger.status_code == 303 and "/aanmelden" in stranger.headers["location"]


def test_an_end_before_the_start_is_said_beside_the_end(app, client, region):
    """A backward range was said only in the page's summary ("De einddatum ligt vóór de
    begindatum."); Tot en met, the field to correct, was unmarked. It now says so beside it, and
    the summary links to it; both days stay as typed."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    sent = {"van": iso(-10), "tot": iso(-40)}
    response = chair.get(f"/tafels/{region.table_id}/monitor", params=sent)
    assert response.status_code == 400, response.text
    page = response.text
    assert (
        f'<input id="tot" name="tot" type="date" value="{iso(-40)}" required aria-invalid="true" '
        'aria-describedby="tot-fout">'
    ) in page, page
    said = "De einddatum ligt vóór de begindatum."
    assert f'<p class="field-error" id="tot-fout">{said}</p>' in page
    assert f'<li><a href="#tot">Tot en met: {said}</a></li>' in page
    assert f'<input id="van" name="van" type="date" value="{iso(-10)}" required>' in page
    assert problems(page) == []


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("periode", "jaarlijks", "Per"),
        ("indeling", "wijk", "Uitsplitsen naar"),
        ("jaar", "1899", "Contingentjaar"),
    ],
)
def test_a_choice_that_is_not_offered_is_named_on_the_monitor_page(
    app, client, region, field, value, label
):
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(f"/tafels/{region.table_id}/monitor", params={field: value})
    assert response.status_code == 400
    assert f"Deze waarde klopt niet: {label}." in response.text  # as the form labels it


def test_the_monitor_of_another_table_is_not_found(app, client, region, other_region):
    outsider = signed_in(app, make_person(client, other_region.chair, "chair"))
    assert outsider.get(f"/tafels/{region.table_id}/monitor").status_code == 404


def test_reading_the_monitor_is_in_the_access_log_with_the_person(app, client, region):
    person = make_person(client, region.chair, "chair")
    signed_in(app, person).get(f"/tafels/{region.table_id}/monitor")
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log", headers=region.chair.headers
    ).json()["items"]
    exports = [e for e in log if e["action"] == "monitor_export"]
    assert exports and all(e["person_id"] == person.id for e in exports)
    assert exports[0]["endpoint"] == "GET /tafels/{table_id}/monitor"


def test_the_monitor_page_reads_the_tables_facts_once(app, client, region, monkeypatch):
    """Every figure on the page (the flows with and without groups, the forecast, the
    contingent, the figures after the move) is computed from one read of the table's cases."""
    house_one(client, region)
    reads = []
    real = facts.load_facts

    def counting(session, table_id):  # type: ignore[no-untyped-def]
        reads.append(table_id)
        return real(session, table_id)

    for module in (routes_monitor, flows, forecast, contingent, sustainment):
        monkeypatch.setattr(module, "load_facts", counting, raising=False)
    provider = signed_in(app, make_person(client, region.care_provider))
    page = provider.get(f"/tafels/{region.table_id}/monitor", params={"indeling": "care_provider"})
    assert page.status_code == 200, page.text
    assert len(reads) == 1


@pytest.mark.parametrize("viewer", ["chair", "care_provider", "corporation"])
def test_a_backward_range_is_refused_for_every_viewer(app, client, region, viewer):
    # A restricted viewer's figures are read for the year of the range's end; a backward range
    # showed that year as if it had been asked (breaker).
    person = signed_in(app, make_person(client, getattr(region, viewer), "member"))
    response = person.get(
        f"/tafels/{region.table_id}/monitor", params={"van": iso(1), "tot": iso(-2000)}
    )
    assert response.status_code == 400
    assert "De einddatum ligt vóór de begindatum." in response.text


def test_the_page_shows_a_median_wait_as_the_api_gives_it(app, client, region):
    """Two housings waiting 319 and 320 days: the median is 319.5 in the API and its CSV; the
    page printed it with no decimals, rounded half to even to 320 (and 318.5 to 318)."""
    ensure_limits(client)
    for ready in (iso(-329), iso(-330)):
        create_case(client, region.care_provider, region.table_id, ready_since=ready)
        dwelling(client, region.corporation)
    proposals = publish(client, region, MEETING)
    assert len(proposals) == 2
    for proposal in proposals:
        house(client, region, proposal, MOVED_IN.isoformat())
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    api = client.get(
        f"/v1/tables/{region.table_id}/monitor",
        params={"start": MOVED_IN.isoformat(), "end": MOVED_IN.isoformat()},
        headers=region.chair.headers,
    ).json()
    assert api["totals"][0]["waiting_days_median"] == 319.5

    page = chair.get(
        f"/tafels/{region.table_id}/monitor",
        params={"van": MOVED_IN.isoformat(), "tot": MOVED_IN.isoformat()},
    )

    assert page.status_code == 200, page.text
    totals = page.text.split('<th scope="row">totaal</th>', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">319,5</td>' in totals


def test_the_page_shows_the_forecasts_monthly_pace_as_the_api_gives_it(app, client, region):
    """Three cases became ready in the last twelve months: 0.25 a month in the API; the page
    printed it with one decimal, rounded half to even to 0,2 (so 12 x 0,2 = 2,4 of the 3)."""
    ensure_limits(client)
    for ready in (iso(-100), iso(-200), iso(-300)):
        create_case(client, region.care_provider, region.table_id, ready_since=ready)
    api = client.get(
        f"/v1/tables/{region.table_id}/monitor/forecast", headers=region.chair.headers
    ).json()
    assert api["monthly_new_ready"] == 0.25
    chair = signed_in(app, make_person(client, region.chair, "chair"))

    page = chair.get(f"/tafels/{region.table_id}/monitor")

    assert page.status_code == 200, page.text
    assert "<dt>Per maand nieuw klaar</dt><dd>0,25</dd>" in page.text
