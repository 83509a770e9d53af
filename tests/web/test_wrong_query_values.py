"""A value in a page's address that its form does not offer (a link cut short, a bookmark of
an older release, a value typed over): every page's 400 names the field as the page's form
labels it and says what it may hold, in Dutch. `/dossiers?status=xx` answered a bare
"Ongeldig verzoek" that named nothing, while the monitor named its query key (`periode`), not
the form's label (`Per`)."""

import html
import re
import uuid
from datetime import date

import pytest
from fastapi.routing import APIRoute

from app.cursors import encode_cursor
from app.web import page_modules
from app.web.query_values import DATE_RULE, GIVEN_TWICE, query_fields
from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.web.conftest import make_person, other_spellings, signed_in
from tests.web.html_rules import problems

T = "{table}"
SOME_CURSOR = encode_cursor(uuid.UUID(int=1))


def list_filters(page: str, reference: str, organisation: str, size: str, sort: str) -> list:  # type: ignore[type-arg]
    """The rows of the filters both lists share, labelled as each list's form labels them."""
    return [
        (page, "referentie", "a\x01b", reference, "stuurtekens"),
        (page, "tafel", "xx", "Tafel", "Kies een tafel uit de lijst"),
        (page, "status", "xx", "Status", "Kies een van: "),
        (page, "organisatie", "0", organisation, f"Kies een {organisation.lower()} uit de lijst"),
        (page, "blokkade", "xx", "Blokkade", "Kies een van: "),
        (page, "huishouden", "0", size, "Een getal van 1 tot en met 12"),
        (page, "sortering", "naam", "Volgorde", f"Kies een van: {sort}"),
        (page, "na", "x", "Volgende pagina", "Volgende pagina onder de lijst"),
    ]


WRONG = [
    # (page, key, value, the form's label, a part of what it may hold)
    *list_filters(
        "/dossiers",
        "Referentie (of een deel ervan)",
        "Zorgaanbieder",
        "Huishoudgrootte",
        "Langst wachtend eerst",
    ),
    ("/dossiers", "status", "\u00e9", "Status", "Kies een van: Aangemeld,"),
    ("/dossiers", "voorziening", "xx", "Voorziening", "Kies een van: "),
    *list_filters(
        "/woningen",
        "Referentie van de corporatie (of een deel ervan)",
        "Corporatie",
        "Past bij huishoudgrootte",
        "Langst beschikbaar eerst",
    ),
    (
        "/woningen",
        "referentie",
        "\x00",
        "Referentie van de corporatie (of een deel ervan)",
        "stuurtekens",
    ),
    ("/woningen", "huishouden", "99", "Past bij huishoudgrootte", "Een getal van 1 tot en met 12"),
    (f"/tafels/{T}/nazorg", "status", "gone", "Status", "Kies een van: "),
    (f"/tafels/{T}/nazorg", "na", "x", "Volgende pagina", "Volgende pagina onder de lijst"),
    # A letter outside ASCII in the cursor was a 500; a character base64 skips paged on.
    *(
        (page, "na", cursor, "Volgende pagina", "Volgende pagina onder de lijst")
        for page in ("/dossiers", "/woningen", f"/tafels/{T}/nazorg")
        for cursor in (SOME_CURSOR[:11] + "\u00e9" + SOME_CURSOR[11:], "!" + SOME_CURSOR + "!!")
    ),
    (f"/tafels/{T}/monitor", "periode", "jaarlijks", "Per", "Kies een van: Maand, Kwartaal, Jaar"),
    (f"/tafels/{T}/monitor", "indeling", "wijk", "Uitsplitsen naar", "Geen (hele tafel)"),
    (f"/tafels/{T}/monitor", "jaar", "1899", "Contingentjaar", "jaartal van 2000 tot en met 2100"),
    (f"/tafels/{T}/monitor/nazorg.csv", "periode", "xx", "Per", "Kies een van: Maand,"),
    (f"/tafels/{T}/monitor/nazorg.csv", "van", "31/12/2026", "Van", "bijvoorbeeld 2027-01-31"),
    (f"/tafels/{T}/monitor/nazorg.csv", "tot", "1-1-27", "Tot en met", "bijvoorbeeld 2027-01-31"),
]


def error_text(page: str) -> str:
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


@pytest.mark.parametrize(("page", "key", "value", "label", "holds"), WRONG)
def test_a_wrong_value_in_the_address_names_the_forms_field_and_what_it_may_hold(  # type: ignore[no-untyped-def]
    app, client, region, page, key, value, label, holds
):
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(page.format(table=region.table_id), params={key: value})
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert f"Deze waarde klopt niet: {label}." in text, text
    assert holds in text.split(f"klopt niet: {label}.", 1)[1], text


@pytest.mark.parametrize(
    "page", ["/dossiers", "/woningen", f"/tafels/{T}/nazorg", f"/tafels/{T}/monitor"]
)
def test_a_list_page_names_every_wrong_value_in_its_address(app, client, region, page):  # type: ignore[no-untyped-def]
    """A link cut short or typed over may hold several wrong values; the page named only the
    first, so the person fixed one and met the next, where the API's 400 names every invalid
    parameter (`invalidParams`)."""
    wrong: dict[str, tuple[str, str, str]] = {}
    for p, key, value, label, holds in WRONG:
        if p == page:
            wrong.setdefault(key, (value, label, holds))
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    sent = {key: value for key, (value, _, _) in wrong.items()}
    response = chair.get(page.format(table=region.table_id), params=sent)
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    for _, label, holds in wrong.values():
        assert f"Deze waarde klopt niet: {label}." in text, (label, text)
        said = text.split(f"klopt niet: {label}.", 1)[1].split("Deze waarde klopt niet:")[0]
        assert holds in said, (label, text)


def test_a_day_the_monitor_reads_itself_is_named_beside_another_wrong_value(app, client, region):  # type: ignore[no-untyped-def]
    """The monitor names a typed day that is no date in its own form's message, but a wrong
    `periode` beside it answered the error page naming only Per: the page was not reached."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    sent = {"periode": "jaarlijks", "van": "31-12-2026", "tot": "2027-01-31"}
    response = chair.get(f"/tafels/{region.table_id}/monitor", params=sent)
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert "Deze waarde klopt niet: Per." in text, text
    assert f"Deze waarde klopt niet: Van. {DATE_RULE}" in text, text
    assert "Tot en met" not in text.split("klopt niet: Per.", 1)[1].split("Naar het")[0], text


def test_a_day_the_monitor_reads_itself_given_twice_is_named_beside_another_wrong_value(
    app, client, region
):  # type: ignore[no-untyped-def]
    """The monitor says a day given twice beside its field; with a wrong `periode` beside it
    the page is not reached, and the error page named Per alone."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    sent = [("periode", "jaarlijks"), ("van", "2026-01-01"), ("van", "2026-02-01")]
    response = chair.get(f"/tafels/{region.table_id}/monitor", params=sent)
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert "Deze waarde klopt niet: Per." in text, text
    assert f"Deze waarde klopt niet: Van. {GIVEN_TWICE}" in text, text


@pytest.mark.parametrize("page", ["/dossiers", "/woningen"])
def test_a_sorted_pages_cursor_is_not_named_for_a_wrong_sort_beside_it(app, client, region, page):  # type: ignore[no-untyped-def]
    """Only the sort is wrong: the cursor of a sorted page beside it is no wrong value."""
    cursor = encode_cursor(uuid.uuid4(), date(2027, 1, 4), reverse=False)
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(page, params={"sortering": "naam", "na": cursor})
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert "klopt niet: Volgorde." in text and "Volgende pagina" not in text, text


@pytest.mark.parametrize(("key", "label"), [("dossier", "Dossier"), ("woning", "Woning")])
def test_the_why_not_question_names_the_choice_that_is_no_id(app, client, region, key, label):  # type: ignore[no-untyped-def]
    meeting = plan_meeting(client, region, iso(7))
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    some = "00000000-0000-0000-0000-000000000001"
    given = {"dossier": some, "woning": some, key: "1-1-27"}
    response = chair.get(f"/vergaderingen/{meeting['id']}/waarom-niet", params=given)
    assert response.status_code == 400
    text = error_text(response.text)
    assert f"Deze waarde klopt niet: {label}." in text
    assert "uit de lijst bij de agenda" in text.split(f"klopt niet: {label}.", 1)[1]


@pytest.mark.parametrize(
    ("page", "key", "label"),
    [
        ("/dossiers", "tafel", "Tafel"),
        ("/dossiers", "organisatie", "Zorgaanbieder"),
        ("/woningen", "tafel", "Tafel"),
        ("/woningen", "organisatie", "Corporatie"),
    ],
)
def test_an_id_in_a_lists_address_is_read_only_as_the_api_writes_it(  # type: ignore[no-untyped-def]
    app, client, region, page, key, label
):
    """`/dossiers?tafel={<id>}` (braces, `urn:uuid:`, no hyphens) listed that table's cases,
    where the API's `?tableId=` refuses such an id (400): one list answered at four addresses.
    The list now names the field as any wrong value; upper case stays read, as by the API."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    org = region.care_provider if page == "/dossiers" else region.corporation
    canonical = region.table_id if key == "tafel" else org.id
    for other in other_spellings(canonical):
        response = chair.get(page, params={key: other})
        assert response.status_code == 400, (other, response.text)
        assert f"Deze waarde klopt niet: {label}." in error_text(response.text), other
    assert chair.get(page, params={key: canonical.upper()}).status_code == 200


@pytest.mark.parametrize("key", ["dossier", "woning"])
def test_the_why_not_question_reads_an_id_only_as_the_api_writes_it(app, client, region, key):  # type: ignore[no-untyped-def]
    meeting = plan_meeting(client, region, iso(7))
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    some = "00000000-0000-0000-0000-000000000001"
    for other in other_spellings(some):
        given = {"dossier": some, "woning": some, key: other}
        response = chair.get(f"/vergaderingen/{meeting['id']}/waarom-niet", params=given)
        assert response.status_code == 400, other
        text = error_text(response.text)
        assert f"Deze waarde klopt niet: {key.capitalize()}." in text, text
        assert "klopt niet" not in text.split(f"klopt niet: {key.capitalize()}.", 1)[1], text


def form_fields(page: str) -> set[str]:
    """The names of the fields of a page's GET forms (its filters)."""
    forms = re.findall(r'<form method="get".*?</form>', page, re.S)
    return {n for form in forms for n in re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', form)}


def test_every_filter_a_page_offers_is_named_when_wrong(app, client, region):  # type: ignore[no-untyped-def]
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    for page in ("/dossiers", "/woningen", f"/tafels/{T}/nazorg", f"/tafels/{T}/monitor"):
        shown = chair.get(page.format(table=region.table_id))
        assert shown.status_code == 200, page
        covered = {key for p, key, *_ in WRONG if p == page}
        dates = {"van", "tot"} if page.endswith("/monitor") else set()  # the page's own message
        assert form_fields(shown.text) <= covered | dates, page


@pytest.mark.parametrize(("key", "label"), [("van", "van"), ("tot", "tot en met")])
@pytest.mark.parametrize("typed", ["1-1-27", "2027-02-30", "31/12/2026"])
def test_a_typed_day_on_the_monitor_says_how_a_date_is_written(
    app, client, region, key, label, typed
):  # type: ignore[no-untyped-def]
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(f"/tafels/{region.table_id}/monitor", params={key: typed})
    assert response.status_code == 400
    text = error_text(response.text)
    assert f"Niet (goed) ingevuld: {label}." in text
    assert "bijvoorbeeld 2027-01-31" in text


def test_every_query_parameter_of_a_page_says_its_label_and_what_it_may_hold():
    """A page's own query parameter (FastAPI's) carries its form's label (`title`) and what it
    may hold (`description`), which the error page of a wrong value names (`app.web.core`)."""
    bare = [
        f"{route.path} ?{name}"
        for module in page_modules()
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for name, info in query_fields(route.dependant).items()
        if name != "volgende" and not (info.title and info.description)
    ]
    assert not bare  # `volgende` (where sign-in leads) is any path: none is wrong


TWICE = [
    # (page, key, two values the form offers, the form's label)
    ("/dossiers", "status", ("registered", "ready"), "Status"),
    ("/dossiers", "referentie", ("a", "b"), "Referentie (of een deel ervan)"),
    ("/woningen", "huishouden", ("1", "2"), "Past bij huishoudgrootte"),
    (f"/tafels/{T}/nazorg", "status", ("running", "ended"), "Status"),
    (f"/tafels/{T}/monitor", "periode", ("month", "year"), "Per"),
    (f"/tafels/{T}/monitor", "van", ("2026-01-01", "2026-02-01"), "Van"),
    (f"/tafels/{T}/monitor/nazorg.csv", "van", ("2026-01-01", "2026-02-01"), "Van"),
    (f"/tafels/{T}/monitor/nazorg.csv", "tot", ("2026-10-01", "2026-11-01"), "Tot en met"),
    (f"/tafels/{T}/monitor/nazorg.csv", "periode", ("month", "year"), "Per"),
]


@pytest.mark.parametrize(("page", "key", "twice", "label"), TWICE)
def test_a_field_given_twice_in_the_address_is_named_not_guessed(  # type: ignore[no-untyped-def]
    app, client, region, page, key, twice, label
):
    """`/dossiers?status=a&status=b` listed status b without a word, where the API refuses a
    repeated key with 400: the page names the field given twice, as the form labels it. It
    is the signed-in person's page, with the menu and 'Afmelden', as for a value that is
    wrong once: the monitor's CSV link with a day given twice (and the monitor with `periode`
    twice) answered the error page a stranger gets, without either."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    url = page.format(table=region.table_id)
    assert chair.get(url, params={key: twice[0]}).status_code == 200  # each value alone is fine
    response = chair.get(url, params=[(key, twice[0]), (key, twice[1])])
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert f"Deze waarde klopt niet: {label}. {GIVEN_TWICE}" in text, text
    assert 'class="main-nav"' in response.text and 'action="/afmelden"' in response.text
    assert problems(response.text) == []


def test_a_field_given_twice_is_named_beside_the_other_wrong_values(app, client, region):  # type: ignore[no-untyped-def]
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    sent = [("status", "ready"), ("status", "ready"), ("huishouden", "0")]
    response = chair.get("/dossiers", params=sent)
    assert response.status_code == 400, response.text
    text = error_text(response.text)
    assert f"Deze waarde klopt niet: Status. {GIVEN_TWICE}" in text, text
    assert "Deze waarde klopt niet: Huishoudgrootte. Een getal van 1 tot en met 12." in text, text


def test_the_wrong_values_of_an_address_are_listed_one_per_field(app, client, region):  # type: ignore[no-untyped-def]
    """Several wrong values were named in one long paragraph; the error page lists them, one
    item per field, as an error summary does (GOV.UK, NL Design System)."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    sent = {"status": "xx", "huishouden": "0", "sortering": "naam"}
    response = chair.get("/dossiers", params=sent)
    assert response.status_code == 400, response.text
    items = re.findall(r"<li>(.*?)</li>", response.text.split("<main", 1)[1], re.S)
    wrong = [html.unescape(re.sub(r"<[^>]+>", "", i)) for i in items if "klopt niet" in i]
    assert [i.split(".")[0] for i in wrong] == [
        "Deze waarde klopt niet: Status",
        "Deze waarde klopt niet: Huishoudgrootte",
        "Deze waarde klopt niet: Volgorde",
    ], wrong


@pytest.mark.parametrize("page", ["/dossiers", "/woningen"])
def test_a_wrong_value_in_a_lists_address_is_said_beside_its_filter(app, client, region, page):  # type: ignore[no-untyped-def]
    """`/dossiers?status=xx`, `/woningen?status=xx` named the wrong value in the error summary
    only: the filter to correct was unmarked (WCAG 3.3.1), unlike the tenancies list. Each field
    of the form the person sees is now marked, what it may hold beside it, the summary linking
    to it; the reference's hint stays described with its error; a value with no field on the
    person's form (Tafel with one table, the next page's cursor) is named without a link."""
    wrong: dict[str, tuple[str, str]] = {}
    for p, key, value, label, _ in WRONG:
        if p == page:
            wrong.setdefault(key, (value, label))
    sent = {key: value for key, (value, _) in wrong.items()}
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    response = chair.get(page, params=sent)
    assert response.status_code == 400, response.text
    shown = response.text
    summary = shown.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    fields = [key for key in wrong if key not in ("tafel", "na")]  # the region has one table
    for key in fields:
        assert f'id="{key}-fout">' in shown, key
        label = html.escape(wrong[key][1], quote=False)
        assert f'<li><a href="#{key}">Deze waarde klopt niet: {label}. ' in summary, key
    marks = re.findall(r'<(?:input|select)[^>]* id="([a-z]+)"[^>]*aria-invalid="true"', shown)
    assert sorted(marks) == sorted(fields), marks
    assert 'aria-describedby="referentie-hulp referentie-fout"' in shown
    for key in ("tafel", "na"):
        assert f"<li>Deze waarde klopt niet: {wrong[key][1]}. " in summary, key
    assert problems(shown) == []
    # The reference's hint is described without an error as before.
    assert 'aria-describedby="referentie-hulp" ' in chair.get(page).text
    stranger = client.get(page, params=sent, follow_redirects=False)
    assert stranger.status_code == 303 and "/aanmelden" in stranger.headers["location"]


def test_a_filter_the_persons_form_does_not_show_is_named_without_a_link(app, client, region):  # type: ignore[no-untyped-def]
    """A care provider's case list has no Zorgaanbieder filter: a wrong one is named in the
    summary, linked to nothing, and no field is marked for it."""
    provider = signed_in(app, make_person(client, region.care_provider))
    response = provider.get("/dossiers", params={"organisatie": "0", "status": "xx"})
    assert response.status_code == 400, response.text
    assert "<li>Deze waarde klopt niet: Zorgaanbieder. Kies een zorgaanbieder" in response.text
    assert '<li><a href="#status">Deze waarde klopt niet: Status. ' in response.text
    assert 'id="organisatie"' not in response.text and problems(response.text) == []
