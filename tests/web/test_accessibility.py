"""The pages as a screen-reader or keyboard user meets them (WCAG 2.1 AA, EN 301 549).

Every page a signed-in person of each kind of organisation can reach by following links from
the overview is checked against the rules in `html_rules.py`, so a new page is guarded
without touching this file. A failed form says so where a screen reader starts reading: the
page's title, and the error summary that takes the focus.
"""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.web.formatting import dutch_date
from app.web.query_values import DATE_RULE
from tests.clock import iso
from tests.web.conftest import (
    DATE,
    Person,
    Published,
    make_person,
    page_client,
    post_form,
    signed_in,
    submit_sign_in,
)
from tests.web.html_rules import page_title, parse, problems

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PER_KIND = 2  # pages of one kind (same path with other ids) worth opening


def crawl(browser: TestClient, start: str = "/overzicht", root: str = "") -> dict[str, str]:
    """The HTML of every page reachable by links from `start` (at most PER_KIND per kind);
    with `root`, the links below that path (the app served below it)."""
    todo, seen, pages = [start], {start}, {}
    kinds: dict[str, int] = {}
    skipped = tuple(root + path for path in ("/static/", "/v1/", "/docs", "/redoc"))
    while todo:
        url = todo.pop(0)
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if "text/html" not in response.headers["content-type"]:
            continue
        pages[url] = response.text
        for href in re.findall(rf'href="({re.escape(root)}/[^"#]*)"', response.text):
            href = href.replace("&amp;", "&")
            if href in seen or href.startswith(skipped):
                continue
            kind = UUID.sub("{id}", href.split("?")[0]) + ("?" if "?" in href else "")
            if kinds.get(kind, 0) < PER_KIND:
                kinds[kind] = kinds.get(kind, 0) + 1
                seen.add(href)
                todo.append(href)
    return pages


PEOPLE: dict[str, Callable[..., Person]] = {
    "chair": lambda client, region: make_person(client, region.chair, "chair", is_admin=True),
    "care_provider": lambda client, region: make_person(client, region.care_provider),
    "corporation": lambda client, region: make_person(client, region.corporation),
    "viewer": lambda client, region: make_person(client, region.municipality, "viewer"),
}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_page_a_person_reaches_meets_the_markup_rules(
    app, client, region, published: Published, housed, who
):
    chair = signed_in(app, PEOPLE["chair"](client, region))
    url = f"/voorstellen/{published.proposal_id}"
    decided = post_form(chair, url + "/besluit", {"besluit": "nominate", "versie": "1"}, url)
    assert decided.status_code == 303, decided.text
    browser = signed_in(app, PEOPLE[who](client, region))
    pages = crawl(browser)
    kinds = {UUID.sub("{id}", u.split("?")[0]) for u in pages}
    # The crawl saw the pages of the meeting cycle and of aftercare, not just the overview.
    assert {"/vergaderingen/{id}", "/voorstellen/{id}", "/dossiers/{id}/nazorg"} <= kinds
    titles: dict[str, str] = {}
    broken = {}
    for path, html in pages.items():
        if found := problems(html):
            broken[path] = found
        titles.setdefault(page_title(html), path)
    assert broken == {}
    assert not [t for t in titles if t.startswith("Fout: ")]  # no page opens with an error
    # Each kind of page has a title of its own (2.4.2): not one title for every page.
    assert len(set(titles)) >= len(kinds) // 2


def error_summary(html: str):  # type: ignore[no-untyped-def]
    summaries = [n for n in parse(html).walk() if "error-summary" in n.attrs.get("class", "")]
    assert len(summaries) == 1, html
    return summaries[0]


def assert_failure_is_announced(html: str) -> None:
    """A screen reader reads the title first on a new page; an alert present at load is not
    read out by every screen reader, so the summary takes the focus (autofocus, no script)."""
    assert page_title(html).startswith("Fout: "), page_title(html)
    summary = error_summary(html)
    assert summary.attrs.get("role") == "alert"
    assert "autofocus" in summary.attrs and summary.attrs.get("tabindex") == "-1"
    assert problems(html) == []


def test_a_failed_form_says_so_in_the_title_and_its_error_summary_takes_the_focus(
    app, client, region, published: Published, housed
):
    anonymous = page_client(app)
    person = make_person(client, region.care_provider)
    assert_failure_is_announced(submit_sign_in(anonymous, person.email, "niet het goede").text)

    chair = signed_in(app, PEOPLE["chair"](client, region))
    table = f"/tafels/{region.table_id}"
    again = post_form(chair, table + "/vergaderingen", {"datum": DATE}, table)
    assert again.status_code == 409
    assert_failure_is_announced(again.text)

    corporation = signed_in(app, make_person(client, region.corporation))
    url = f"/voorstellen/{published.proposal_id}"
    declined = post_form(corporation, url + "/besluit", {"besluit": "corporation_decline"}, url)
    assert declined.status_code == 400
    assert_failure_is_announced(declined.text)

    care = signed_in(app, person)
    aftercare = f"/dossiers/{housed[0]}/nazorg"
    ended = post_form(care, aftercare + "/einde", {"datum": iso(-1), "versie": "1"}, aftercare)
    assert ended.status_code == 400
    assert_failure_is_announced(ended.text)

    new_case = post_form(care, "/dossiers/nieuw", {"table_id": region.table_id}, "/dossiers/nieuw")
    assert new_case.status_code == 400
    assert_failure_is_announced(new_case.text)

    form = care.get("/inlezen").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', form)
    assert token
    imported = care.post(
        "/inlezen",
        data={"csrf_token": token.group(1), "tafel": region.table_id, "controleren": "ja"},
        files={"bestand": ("dossiers.csv", b"niet;het;sjabloon\n1;2;3\n", "text/csv")},
    )
    assert "fout" in imported.text
    assert_failure_is_announced(imported.text)


def test_a_page_without_an_error_has_a_plain_title(app, client, region):
    browser = signed_in(app, make_person(client, region.care_provider))
    html = browser.get("/dossiers/nieuw").text
    assert page_title(html) == "Nieuw dossier · Uitstroomtafel"
    assert "error-summary" not in html


def test_the_error_summary_of_a_case_form_links_to_each_field_in_error(app, client, region):
    """The case file form is long: the summary names each field in error and links to it, so a
    keyboard user does not have to tab through every field to find the marked ones."""
    care = signed_in(app, make_person(client, region.care_provider))
    response = post_form(
        care,
        "/dossiers/nieuw",
        {"table_id": region.table_id, "household.adults": "twee"},
        "/dossiers/nieuw",
    )
    assert response.status_code == 400
    tree = list(parse(response.text).walk())
    invalid = {n.attrs["id"] for n in tree if n.attrs.get("aria-invalid") == "true"}
    assert len(invalid) >= 2
    links = [n for n in error_summary(response.text).walk() if n.tag == "a"]
    assert {a.attrs["href"].lstrip("#") for a in links} == invalid
    assert all(":" in a.text() for a in links)  # "<label>: <what is wrong>"
    # What was typed stays in the form.
    assert 'value="twee"' in response.text


def test_a_refused_meeting_date_stays_in_its_field_which_says_what_is_wrong(
    app, client, region, published: Published
):
    """The chair typed a date the table already meets on: the field showed today instead, so
    pressing the button again would plan a meeting for today, and nothing tied the message
    to the field."""
    chair = signed_in(app, PEOPLE["chair"](client, region))
    table = f"/tafels/{region.table_id}"
    again = post_form(chair, table + "/vergaderingen", {"datum": DATE}, table)
    assert again.status_code == 409
    (field,) = [n for n in parse(again.text).walk() if n.attrs.get("id") == "datum"]
    assert field.attrs["value"] == DATE
    assert field.attrs.get("aria-invalid") == "true"
    assert problems(again.text) == []  # aria-describedby points at the message
    # A refused action form on the same page does not mark the date.
    action = post_form(chair, table + "/acties", {"soort": "onbekend"}, table)
    assert action.status_code == 400
    (field,) = [n for n in parse(action.text).walk() if n.attrs.get("id") == "datum"]
    assert "aria-invalid" not in field.attrs


def test_a_refused_end_of_tenancy_keeps_the_date_and_reason_that_were_chosen(
    app, client, region, housed
):
    """An end refused by a rule of the domain (before a checkpoint that found the client
    there) came back with an empty date and 'Kies een reden': what was typed was gone."""
    case_id = housed[0]
    care = signed_in(app, make_person(client, region.care_provider))
    page = f"/dossiers/{case_id}/nazorg"
    html = care.get(page).text
    check = parse(html)
    versions = [n.attrs["value"] for n in check.walk() if n.attrs.get("name") == "versie"]
    recorded = post_form(
        care,
        page + "/controle",
        {"versie": versions[1], "maanden": "3", "datum": iso(-100), "woont_er": "ja",
         "begeleiding_loopt": "ja"},
        page,
    )  # fmt: skip
    assert recorded.status_code == 303, recorded.text
    version = _versions(care, page)[-1]
    refused = post_form(
        care, page + "/einde", {"versie": version, "datum": iso(-150), "reden": "evicted"}, page
    )
    assert refused.status_code == 400, refused.text
    tree = list(parse(refused.text).walk())
    (day,) = [n for n in tree if n.attrs.get("id") == "na-einddatum"]
    assert day.attrs["value"] == iso(-150)
    (reason,) = [n for n in tree if n.tag == "select" and n.attrs.get("id") == "na-reden"]
    chosen = [
        o.attrs["value"] for o in reason.walk() if o.tag == "option" and "selected" in o.attrs
    ]
    assert chosen == ["evicted"]
    # The checkpoint form, not the one sent, shows its defaults.
    assert not [n for n in tree if n.attrs.get("name") == "woont_er" and "checked" in n.attrs]


def test_a_refused_checkpoint_keeps_what_was_ticked(app, client, region, housed):
    case_id = housed[0]
    care = signed_in(app, make_person(client, region.care_provider))
    page = f"/dossiers/{case_id}/nazorg"
    versions = _versions(care, page)
    refused = post_form(
        care,
        page + "/controle",
        {"versie": versions[1], "maanden": "6", "datum": iso(3), "woont_er": "nee",
         "begeleiding_loopt": "ja", "signalen": ["rent_arrears", "nuisance"]},
        page,
    )  # fmt: skip
    assert refused.status_code == 400, refused.text
    tree = list(parse(refused.text).walk())
    ticked = {
        (n.attrs["name"], n.attrs["value"])
        for n in tree
        if n.tag == "input" and "checked" in n.attrs
    }
    assert ticked == {
        ("woont_er", "nee"),
        ("begeleiding_loopt", "ja"),
        ("signalen", "rent_arrears"),
        ("signalen", "nuisance"),
    }
    (day,) = [n for n in tree if n.attrs.get("id") == "na-datum"]
    assert day.attrs["value"] == iso(3)
    (months,) = [n for n in tree if n.attrs.get("id") == "na-maanden"]
    assert [o.attrs["value"] for o in months.walk() if "selected" in o.attrs] == ["6"]


def _versions(browser: TestClient, page: str) -> list[str]:
    tree = parse(browser.get(page).text).walk()
    return [n.attrs["value"] for n in tree if n.attrs.get("name") == "versie"]


def _ticked(tree: list, name: str) -> set[str]:
    return {n.attrs["value"] for n in tree if n.attrs.get("name") == name and "checked" in n.attrs}


def _chosen(tree: list, select_id: str) -> list[str]:
    (select,) = [n for n in tree if n.tag == "select" and n.attrs.get("id") == select_id]
    return [o.attrs["value"] for o in select.walk() if o.tag == "option" and "selected" in o.attrs]


def test_a_refused_aftercare_agreement_keeps_what_was_chosen_and_typed(app, client, region, housed):
    """An agreement refused for its dates came back as the stored agreement (none yet: the
    defaults), so everything chosen had to be chosen again."""
    case_id = housed[0]
    care = signed_in(app, make_person(client, region.care_provider))
    page = f"/dossiers/{case_id}/nazorg"
    refused = post_form(
        care,
        page + "/afspraak",
        {"versie": "nieuw", "begeleiding": "intensive", "organisatie": str(region.care_provider.id),
         "contact": "monthly", "start": iso(-100), "einde": iso(-150),
         "signalen": ["rent_arrears", "nuisance"]},
        page,
    )  # fmt: skip
    assert refused.status_code == 400, refused.text
    tree = list(parse(refused.text).walk())
    assert _chosen(tree, "na-begeleiding") == ["intensive"]
    assert _chosen(tree, "na-contact") == ["monthly"]
    (start,) = [n for n in tree if n.attrs.get("id") == "na-start"]
    (end,) = [n for n in tree if n.attrs.get("id") == "na-einde"]
    assert (start.attrs["value"], end.attrs["value"]) == (iso(-100), iso(-150))
    assert _ticked(tree, "signalen") == {"rent_arrears", "nuisance"}


def test_a_refused_omklap_plan_keeps_what_was_sent_but_a_stale_one_shows_the_newest_state(
    app, client, region, housed
):
    """A plan refused for its date keeps the date and the boxes ticked; a stale one (412)
    shows the newest state instead, as its message says, to apply the change to again."""
    case_id = housed[0]
    care = signed_in(app, make_person(client, region.care_provider))
    page = f"/dossiers/{case_id}/nazorg"
    ticked = ["budget_management_arranged"]
    for version, day, status in ((_versions(care, page)[-1], -400, 400), ("999", 5, 412)):
        form = {"versie": version, "gepland": iso(day), "voorwaarden": ticked}
        answer = post_form(care, page + "/omklap", form, page)
        assert answer.status_code == status, answer.text
        tree = list(parse(answer.text).walk())
        (planned,) = [n for n in tree if n.attrs.get("id") == "na-gepland"]
        kept = (planned.attrs["value"] == iso(day), _ticked(tree, "voorwaarden") == set(ticked))
        assert kept == ((True, True) if status == 400 else (False, False))


def plan_a_viewing(app, client, region, published: Published, day: str):  # type: ignore[no-untyped-def]
    """The corporation's page form planning a viewing on `day` (as typed), once the chair
    nominated and the corporation accepted the proposal through the API."""
    for org, decision in ((region.chair, "nominate"), (region.corporation, "corporation_accept")):
        done = client.post(
            f"/v1/proposals/{published.proposal_id}/decisions",
            json={"decision": decision},
            headers=org.headers,
        )
        assert done.status_code == 200, done.text
    corporation = signed_in(app, make_person(client, region.corporation))
    url = f"/voorstellen/{published.proposal_id}"
    version = re.search(r'name="versie" value="([^"]*)"', corporation.get(url).text)
    assert version
    sent = {"besluit": "plan_viewing", "bezichtiging": day, "versie": version.group(1)}
    return post_form(corporation, url + "/besluit", sent, url)


def test_a_refused_decision_keeps_the_date_that_was_typed(
    app, client, region, published: Published
):
    """A viewing more than a year ahead is refused by the service (the field has no maximum):
    the page came back with the date field empty."""
    refused = plan_a_viewing(app, client, region, published, iso(400))
    assert refused.status_code == 400, refused.text
    (day,) = [n for n in parse(refused.text).walk() if n.attrs.get("id") == "bezichtiging"]
    assert day.attrs["value"] == iso(400)


def test_a_refused_new_person_keeps_the_admin_box_ticked(app, client, region, chair):
    """The e-mail address was taken: the form came back with the address, name and role but
    the 'beheerder' box cleared, so the corrected form made a person without admin rights."""
    browser = signed_in(app, chair)
    admin = {"naam": "Nieuwe beheerder", "rol": "member", "beheerder": "ja"}
    ticked = {}
    for email, status in ((chair.email, 409), ("nieuw-b46@example.nl", 201)):
        response = post_form(browser, "/mensen", {"email": email, **admin}, "/mensen")
        assert response.status_code == status, response.text
        (box,) = [n for n in parse(response.text).walk() if n.attrs.get("id") == "nieuw-beheerder"]
        ticked[status] = "checked" in box.attrs
    # Ticked again after the refusal; after a person is made the next one starts empty.
    assert ticked == {409: True, 201: False}


def test_a_refused_new_person_marks_the_field_in_error_and_says_why_there(
    app, client, region, chair
):
    """An address already in use or no address at all: the message stood only in the summary
    at the top; the e-mail field itself was not marked, so a screen reader user tabbing back
    to it heard nothing of what was wrong."""
    browser = signed_in(app, chair)
    person = {"naam": "Nieuwe collega", "rol": "member"}
    for email, status in ((chair.email, 409), ("geen e-mailadres", 400)):
        response = post_form(browser, "/mensen", {"email": email, **person}, "/mensen")
        assert response.status_code == status, response.text
        nodes = {n.attrs["id"]: n for n in parse(response.text).walk() if "id" in n.attrs}
        field = nodes["nieuw-email"]
        assert field.attrs.get("aria-invalid") == "true", status
        said = [nodes[i].text() for i in field.attrs.get("aria-describedby", "").split()]
        assert any(text and text in error_summary(response.text).text() for text in said)
        assert "aria-invalid" not in nodes["nieuw-naam"].attrs
        assert problems(response.text) == []


def test_a_floor_below_ground_can_be_typed_on_a_phone(app, client, region):
    """The dwelling's floor may be -1 (souterrain), but the field asked phones for the decimal
    keypad, which on an iPhone has no minus sign: the corporation could not enter it. Fields
    that are never negative keep their digit keypad."""
    corporation = signed_in(app, make_person(client, region.corporation))
    html = corporation.get("/woningen/nieuw").text
    fields = {n.attrs.get("id"): n for n in parse(html).walk() if n.tag == "input"}
    assert "inputmode" not in fields["veld-floor"].attrs
    assert fields["veld-rooms"].attrs.get("inputmode") == "decimal"


def test_a_refused_action_keeps_its_kind_owner_case_and_date(
    app, client, region, published: Published
):
    """A due date years away (2036 typed for 2026) was refused and the hand-out form came back
    reset to the first kind and the first member: correcting only the year handed the action
    to the wrong organisation."""
    chair = signed_in(app, PEOPLE["chair"](client, region))
    meeting = f"/vergaderingen/{published.meeting_id}"
    form = re.search(r'name="formulier" value="([^"]*)"', chair.get(meeting).text)
    assert form
    chosen = {
        "soort": "apply_for_urgency",
        "eigenaar": region.care_provider.id,
        "dossier": published.case_id,
        "uiterlijk": iso(3650),
    }
    refused = post_form(
        chair,
        f"/tafels/{region.table_id}/acties",
        {**chosen, "formulier": form.group(1), "vergadering": published.meeting_id},
        meeting,
    )
    assert refused.status_code == 400, refused.text
    tree = list(parse(refused.text).walk())
    shown = {}
    for name in ("soort", "eigenaar", "dossier"):
        (select,) = [n for n in tree if n.attrs.get("id") == f"actie-{name}"]
        shown[name] = [o.attrs["value"] for o in select.walk() if "selected" in o.attrs]
    (day,) = [n for n in tree if n.attrs.get("id") == "actie-uiterlijk"]
    shown["uiterlijk"] = [day.attrs.get("value")]
    assert shown == {name: [value] for name, value in chosen.items()}


def assert_said_at_the_field(html: str, input_id: str, said: str) -> None:
    """What is wrong with a refused form's field stands beside it (its input marked invalid
    and described by it), and the error summary links to the field (WCAG 3.3.1; the GOV.UK /
    NL Design System error message and summary): the date rule stood in the summary only."""
    tree = list(parse(html).walk())
    (entry,) = [n for n in tree if n.attrs.get("id") == input_id]
    assert entry.attrs.get("aria-invalid") == "true", entry.attrs
    assert entry.attrs.get("aria-describedby") == f"{input_id}-fout", entry.attrs
    (message,) = [n for n in tree if n.attrs.get("id") == f"{input_id}-fout"]
    assert said in message.text(), message.text()
    links = [n for n in error_summary(html).walk() if n.tag == "a"]
    assert f"#{input_id}" in [a.attrs.get("href") for a in links]
    assert problems(html) == []


@pytest.mark.parametrize(
    ("typed", "said"),
    [("31-12-2026", DATE_RULE), (iso(3650), "De datum ligt meer dan een jaar vooruit.")],
)
def test_a_refused_actions_date_says_what_is_wrong_beside_the_date(
    app, client, region, published: Published, typed, said
):
    chair = signed_in(app, PEOPLE["chair"](client, region))
    meeting = f"/vergaderingen/{published.meeting_id}"
    chosen = {"soort": "apply_for_urgency", "eigenaar": region.care_provider.id, "uiterlijk": typed}
    refused = post_form(
        chair,
        f"/tafels/{region.table_id}/acties",
        {**chosen, "vergadering": published.meeting_id},
        meeting,
    )
    assert refused.status_code == 400, refused.text
    assert_said_at_the_field(refused.text, "actie-uiterlijk", said)


@pytest.mark.parametrize(
    ("typed", "said"),
    [("1-1-27", DATE_RULE), (iso(400), "De datum ligt meer dan een jaar vooruit.")],
)
def test_a_refused_decisions_date_says_what_is_wrong_beside_the_date(
    app, client, region, published: Published, typed, said
):
    refused = plan_a_viewing(app, client, region, published, typed)
    assert refused.status_code == 400, refused.text
    assert_said_at_the_field(refused.text, "bezichtiging", said)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("2026-02-30", DATE_RULE),
        # The move-in day the end may not precede is named (the `housed` fixture's, 200 days ago).
        (iso(-3000), f"De datum ligt vóór de verhuizing ({dutch_date(iso(-200))})."),
    ],
)
def test_a_refused_end_of_tenancy_says_what_is_wrong_beside_the_date(
    app, client, region, housed, typed, said
):
    care = signed_in(app, make_person(client, region.care_provider))
    page = f"/dossiers/{housed[0]}/nazorg"
    version = _versions(care, page)[-1]
    sent = {"versie": version, "datum": typed, "reden": "evicted"}
    refused = post_form(care, page + "/einde", sent, page)
    assert refused.status_code == 400, refused.text
    assert_said_at_the_field(refused.text, "na-einddatum", said)


def test_a_decline_without_a_reason_says_so_beside_the_reason(
    app, client, region, published: Published
):
    corporation = signed_in(app, make_person(client, region.corporation))
    url = f"/voorstellen/{published.proposal_id}"
    version = re.search(r'name="versie" value="([^"]*)"', corporation.get(url).text)
    assert version
    sent = {"besluit": "corporation_decline", "versie": version.group(1)}
    refused = post_form(corporation, url + "/besluit", sent, url)
    assert refused.status_code == 400, refused.text
    assert_said_at_the_field(refused.text, "reden-corporation_decline", "Niet (goed) ingevuld.")


def test_a_reason_sent_with_a_decision_that_takes_none_links_to_no_missing_field(
    app, client, region, published: Published
):
    """A nomination has no reason field: one sent with it anyway (an old or edited form) is
    refused, named in the error summary, but not linked to a `reden-nominate` the page lacks."""
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    url = f"/voorstellen/{published.proposal_id}"
    version = re.search(r'name="versie" value="([^"]*)"', chair.get(url).text)
    assert version
    sent = {"besluit": "nominate", "reden": "not_a_fit", "versie": version.group(1)}
    refused = post_form(chair, url + "/besluit", sent, url)
    assert refused.status_code == 400, refused.text
    assert "Niet (goed) ingevuld: Reden." in refused.text
    assert problems(refused.text) == []
