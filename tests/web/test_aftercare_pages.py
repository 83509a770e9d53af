"""The Nazorg pages: a housed case's tenancy, agreement, checkpoints, omklap and end on the case
page, and the table's tenancies; each organisation sees and does what the API lets it, every
form carries its CSRF token and version, every case shown is logged."""

import uuid
from collections import Counter
from datetime import date

from app.aftercare import service as aftercare_service
from app.aftercare.models import AftercareAgreement, Tenancy
from app.web.formatting import dutch_date
from tests.aftercare.housing import access_log, record_signals, record_visit
from tests.clock import TODAY, iso
from tests.web.conftest import chairs_the_table, csrf_of, make_person, signed_in
from tests.web.html_rules import problems

AGREEMENT = {
    "begeleiding": "moderate",
    "contact": "fortnightly",
    "start": iso(-150),
    "einde": "",
    "signalen": ["rent_arrears", "needs_table"],
}


def tenancy(client, org, case_id):  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/cases/{case_id}/tenancy", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def post(browser, url: str, data: dict, case_id: str):  # type: ignore[no-untyped-def]
    """Post a Nazorg form with the CSRF token of the case's Nazorg page."""
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    return browser.post(url, data={"csrf_token": token, **data})


def test_the_care_provider_makes_the_agreement_and_records_a_checkpoint(
    app, client, region, housed
):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    page = browser.get(f"/dossiers/{case_id}")
    assert page.status_code == 200, page.text
    for part in ("Nazorg", "Nazorgafspraak maken", "Controle vastleggen", "Omklap plannen"):
        assert part in page.text
    assert "Huur beëindigen" in page.text and "Omklap vastleggen" not in page.text
    made = post(browser, f"/dossiers/{case_id}/nazorg/afspraak", AGREEMENT | {
        "organisatie": region.care_provider.id, "versie": "nieuw"}, case_id)  # fmt: skip
    assert made.status_code == 303, made.text
    agreement = client.get(
        f"/v1/cases/{case_id}/aftercare-agreement", headers=region.care_provider.headers
    ).json()
    assert (agreement["contact_frequency"], agreement["action_signals"]) == (
        "fortnightly",
        ["rent_arrears", "needs_table"],
    )
    version = str(tenancy(client, region.care_provider, case_id)["version"])
    recorded = post(
        browser,
        f"/dossiers/{case_id}/nazorg/controle",
        {
            "versie": version,
            "maanden": "3",
            "datum": iso(-2),
            "woont_er": "ja",
            "begeleiding_loopt": "nee",
            "signalen": ["rent_arrears", "needs_table"],
        },
        case_id,
    )
    assert recorded.status_code == 303, recorded.text
    [three] = [c for c in tenancy(client, region.chair, case_id)["checkpoints"] if c["months"] == 3]
    assert three["state"] == "recorded" and three["recorded_on"] == iso(-2)
    assert three["signals"] == ["rent_arrears", "needs_table", "support_stopped"]
    shown = browser.get(f"/dossiers/{case_id}/nazorg").text
    assert "Nazorgafspraak wijzigen" in shown and "Om de week" in shown


def test_the_corporation_sees_its_tenants_status_but_nothing_of_the_support(
    app, client, region, housed
):
    case_id, _ = housed
    record_signals(client, region, case_id)
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/dossiers/{case_id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Signaal huurachterstand" in text and "Vastgelegd" in text and "Te laat" in text
    for support in (
        "Moet terug naar de tafel",
        "Begeleiding loopt niet meer",
        "Om de week",
        "Intensief",
        "Woont er nog",
        "Nazorgafspraak maken",
        "Controle vastleggen",
    ):
        assert support not in text, support
    assert "Omklap vastleggen" in text and "Omklap plannen" in text
    # The other corporation and the other care provider do not see this tenancy at all.
    for org in (region.other_corporation, region.other_care_provider):
        other = signed_in(app, make_person(client, org))
        assert other.get(f"/dossiers/{case_id}/nazorg").status_code == 404
        assert "Nazorg" not in other.get(f"/dossiers/{case_id}").text


def test_the_municipality_reads_the_agreement_and_records_nothing(app, client, region, housed):
    case_id, _ = housed
    record_signals(client, region, case_id)
    browser = signed_in(app, make_person(client, region.municipality))
    text = browser.get(f"/dossiers/{case_id}/nazorg").text
    assert "Intensief" in text and "Moet terug naar de tafel" in text
    assert '<form method="post" action="/dossiers/' not in text
    refused = post(
        browser, f"/dossiers/{case_id}/nazorg/einde",
        {"versie": "1", "datum": iso(-1), "reden": "moved_on"}, case_id,
    )  # fmt: skip
    assert refused.status_code == 403
    assert tenancy(client, region.chair, case_id)["status"] == "awaiting_transfer"


def test_who_may_not_keep_the_tenancy_is_refused_before_the_form_is_read(
    app, client, region, housed
):
    """The omklap and the end of a tenancy with a field left empty: the chair, a municipality
    and a viewer of the care provider were told to fill in the date (400), as if they could
    record it, where the omklap's plan refused them (403); every form now refuses them first."""
    case_id, _ = housed
    people = [
        make_person(client, region.chair, "chair"),
        make_person(client, region.municipality),
        make_person(client, region.care_provider, "viewer"),
    ]
    for person in people:
        browser = signed_in(app, person)
        for form in ("omklap", "overdracht", "einde"):
            refused = post(browser, f"/dossiers/{case_id}/nazorg/{form}", {}, case_id)
            assert refused.status_code == 403, (person.org.kind, form)


def test_the_corporation_records_the_omklap_once_the_conditions_are_met(
    app, client, region, housed
):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.corporation))
    planned = post(
        browser, f"/dossiers/{case_id}/nazorg/omklap",
        {"versie": "1", "gepland": iso(-5), "voorwaarden": ["rent_paid_on_time"]}, case_id,
    )  # fmt: skip
    assert planned.status_code == 303, planned.text
    seen = tenancy(client, region.corporation, case_id)
    assert seen["transfer"]["open_conditions"] == ["rent_paid_on_time"]
    assert seen["transfer"]["overdue"] is True
    blocked = post(
        browser, f"/dossiers/{case_id}/nazorg/overdracht",
        {"versie": str(seen["version"]), "datum": iso(-1)}, case_id,
    )  # fmt: skip
    assert blocked.status_code == 409 and "voorwaarden open" in blocked.text
    cleared = post(
        browser, f"/dossiers/{case_id}/nazorg/omklap", {"versie": str(seen["version"])}, case_id
    )
    assert cleared.status_code == 303, cleared.text
    version = str(tenancy(client, region.corporation, case_id)["version"])
    done = post(
        browser, f"/dossiers/{case_id}/nazorg/overdracht",
        {"versie": version, "datum": iso(-1)}, case_id,
    )  # fmt: skip
    assert done.status_code == 303, done.text
    after = tenancy(client, region.chair, case_id)
    assert (after["status"], after["transfer"]["transferred_on"]) == ("running", iso(-1))


def test_a_corporation_chairing_the_table_records_its_tenants_omklap(app, client, region, housed):
    """The landlord chairing the table reads the full Nazorg section, and is offered and may
    send the forms of the landlord (omklap, end) as at a table it does not chair (it was
    shown none, and a form sent was a 403 page)."""
    case_id, _ = housed
    chairs_the_table(client, region, region.corporation)
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/dossiers/{case_id}/nazorg").text
    for form in ("Omklap plannen", "Omklap vastleggen", "Huur beëindigen"):
        assert form in page
    assert "Nazorgafspraak maken" not in page and "Controle vastleggen" not in page
    done = post(
        browser, f"/dossiers/{case_id}/nazorg/overdracht", {"versie": "1", "datum": iso(-1)},
        case_id,
    )  # fmt: skip
    assert done.status_code == 303, done.text
    assert tenancy(client, region.chair, case_id)["transfer"]["transferred_on"] == iso(-1)


def test_a_care_provider_cannot_record_the_omklap(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    refused = post(
        browser, f"/dossiers/{case_id}/nazorg/overdracht",
        {"versie": "1", "datum": iso(-1)}, case_id,
    )  # fmt: skip
    assert refused.status_code == 403
    # Without a date too: it was told first to fill in the date (400), a date it may never send.
    undated = post(
        browser, f"/dossiers/{case_id}/nazorg/overdracht", {"versie": "1", "datum": ""}, case_id
    )
    assert undated.status_code == 403 and "De omklap legt de corporatie vast." in undated.text
    assert "Vul de datum" not in undated.text
    assert tenancy(client, region.chair, case_id)["transfer"]["transferred_on"] is None


def test_ending_the_tenancy_takes_a_reason_code_and_a_date(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case_id}/nazorg/einde"
    unknown = post(browser, url, {"versie": "1", "datum": iso(-1), "reden": "fled"}, case_id)
    assert unknown.status_code == 400 and "reden" in unknown.text
    future = post(browser, url, {"versie": "1", "datum": iso(3), "reden": "evicted"}, case_id)
    assert future.status_code == 400 and "toekomst" in future.text
    no_reason = post(browser, url, {"versie": "1", "datum": iso(-1)}, case_id)
    assert no_reason.status_code == 400
    assert tenancy(client, region.chair, case_id)["status"] == "awaiting_transfer"
    ended = post(browser, url, {"versie": "1", "datum": iso(-1), "reden": "evicted"}, case_id)
    assert ended.status_code == 303, ended.text
    after = tenancy(client, region.chair, case_id)
    assert (after["status"], after["ended_on"], after["end_reason"]) == (
        "ended",
        iso(-1),
        "evicted",
    )
    page = browser.get(f"/dossiers/{case_id}/nazorg").text
    assert "Uitgezet" in page and "Huur beëindigen" not in page


def test_an_omklap_planned_too_far_ahead_is_refused_in_dutch(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.corporation))
    before = tenancy(client, region.corporation, case_id)
    late = post(
        browser, f"/dossiers/{case_id}/nazorg/omklap",
        {"versie": str(before["version"]), "gepland": "2100-01-01"}, case_id,
    )  # fmt: skip
    assert late.status_code == 400
    assert "binnen tien jaar na de verhuizing" in late.text
    assert tenancy(client, region.chair, case_id)["transfer"] == before["transfer"]


def test_an_end_before_a_checkpoint_that_found_the_client_there_is_refused_in_dutch(
    app, client, region, housed
):
    case_id, _ = housed
    record_visit(client, region, case_id, 5, living_there=True)
    browser = signed_in(app, make_person(client, region.corporation))
    version = str(tenancy(client, region.corporation, case_id)["version"])
    url = f"/dossiers/{case_id}/nazorg/einde"
    early = post(browser, url, {"versie": version, "datum": iso(-30), "reden": "evicted"}, case_id)
    assert early.status_code == 400
    assert "De einddatum ligt vóór een vastgelegde controle (" in early.text
    assert "woonde" not in early.text  # the checkpoint's outcome is not the landlord's
    assert tenancy(client, region.chair, case_id)["status"] == "awaiting_transfer"


def test_a_form_without_a_valid_csrf_token_changes_nothing(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    refused = browser.post(
        f"/dossiers/{case_id}/nazorg/einde",
        data={"csrf_token": "forged", "versie": "1", "datum": iso(-1), "reden": "evicted"},
    )
    assert refused.status_code == 403
    assert tenancy(client, region.chair, case_id)["status"] == "awaiting_transfer"


def test_a_stale_or_missing_version_stores_nothing(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")  # the page as shown: version 1
    moved = client.patch(
        f"/v1/cases/{case_id}/tenancy",
        json={"transfer_planned_on": iso(30)},
        headers=region.corporation.headers,
    )
    assert moved.status_code == 200, moved.text
    end = {"csrf_token": token, "datum": iso(-1), "reden": "evicted"}
    stale = browser.post(f"/dossiers/{case_id}/nazorg/einde", data=end | {"versie": "1"})
    assert stale.status_code == 412 and "intussen gewijzigd" in stale.text
    missing = browser.post(f"/dossiers/{case_id}/nazorg/einde", data=end)
    assert missing.status_code == 400 and "welke versie" in missing.text
    checkpoint = {"csrf_token": token, "maanden": "3", "woont_er": "ja", "begeleiding_loopt": "ja"}
    stale_check = browser.post(
        f"/dossiers/{case_id}/nazorg/controle", data=checkpoint | {"versie": "1"}
    )
    assert stale_check.status_code == 412
    assert tenancy(client, region.chair, case_id)["status"] == "awaiting_transfer"
    checkpoints = tenancy(client, region.chair, case_id)["checkpoints"]
    assert all(c["state"] != "recorded" for c in checkpoints)
    # An agreement made meanwhile makes a form that showed none stale: nothing is overwritten.
    record_signals(client, region, case_id)
    again = browser.post(
        f"/dossiers/{case_id}/nazorg/afspraak",
        data=AGREEMENT
        | {"csrf_token": token, "organisatie": region.care_provider.id, "versie": "nieuw"},
    )
    assert again.status_code == 412
    agreement = client.get(
        f"/v1/cases/{case_id}/aftercare-agreement", headers=region.chair.headers
    ).json()
    assert agreement["support_intensity"] == "intensive"


def test_an_agreement_made_while_a_new_one_waits_for_the_lock_is_not_overwritten(
    app, client, region, housed, monkeypatch
):
    """A form that showed no agreement (`nieuw`) makes one only where there is none yet, also
    when a colleague's is committed while this request waits for the tenancy's lock (after the
    page's own look, before the service's): the service is asked `If-None-Match: *`, so that
    is a 412 showing the colleague's, not an overwrite of it."""
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    taking_the_lock = aftercare_service.lock_one

    def colleague_first(db, row, **options):  # type: ignore[no-untyped-def]
        locked = taking_the_lock(db, row, **options)
        if isinstance(locked, Tenancy) and db.get(AftercareAgreement, locked.case_id) is None:
            db.add(
                AftercareAgreement(
                    case_id=locked.case_id,
                    support_intensity="intensive",
                    support_organisation_id=uuid.UUID(region.care_provider.id),
                    contact_frequency="weekly",
                    starts_on=TODAY,
                )
            )
            db.flush()
        return locked

    monkeypatch.setattr(aftercare_service, "lock_one", colleague_first)
    mine = browser.post(
        f"/dossiers/{case_id}/nazorg/afspraak",
        data=AGREEMENT
        | {"csrf_token": token, "organisatie": region.care_provider.id, "versie": "nieuw"},
    )
    monkeypatch.undo()
    assert mine.status_code == 412 and "intussen gewijzigd" in mine.text, mine.status_code
    # The stand-in for the colleague's row went with this request's rollback; what matters is
    # that this form stored nothing.
    stored = client.get(f"/v1/cases/{case_id}/aftercare-agreement", headers=region.chair.headers)
    assert stored.status_code == 404, stored.text


def test_invalid_agreement_input_answers_400_in_dutch(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case_id}/nazorg/afspraak"
    base = AGREEMENT | {"organisatie": region.care_provider.id, "versie": "nieuw"}
    bad_code = post(browser, url, base | {"contact": "daily"}, case_id)
    assert bad_code.status_code == 400 and "contact" in bad_code.text
    backwards = post(browser, url, base | {"einde": iso(-200)}, case_id)
    assert backwards.status_code == 400 and "vóór de startdatum" in backwards.text
    outsider = post(browser, url, base | {"organisatie": region.corporation.id}, case_id)
    assert outsider.status_code == 400 and "niet aan de tafel" in outsider.text
    missing = client.get(
        f"/v1/cases/{case_id}/aftercare-agreement", headers=region.care_provider.headers
    )
    assert missing.status_code == 404


def test_an_agreement_outside_the_follow_up_is_refused_in_dutch(app, client, region, housed):
    """The form's start before the move-in (200 days ago) or its end in 2100: 400 with the
    field's Dutch message, nothing stored (both were stored as the agreement)."""
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/dossiers/{case_id}/nazorg/afspraak"
    base = AGREEMENT | {"organisatie": region.care_provider.id, "versie": "nieuw"}
    page = browser.get(f"/dossiers/{case_id}/nazorg")
    assert f'name="start" type="date" required value="{iso(-200)}" min="{iso(-200)}"' in page.text
    early = post(browser, url, base | {"start": iso(-201)}, case_id)
    assert early.status_code == 400 and "vóór de verhuizing" in early.text
    late = post(browser, url, base | {"einde": "2100-12-31"}, case_id)
    assert late.status_code == 400 and "binnen tien jaar na de verhuizing" in late.text
    missing = client.get(
        f"/v1/cases/{case_id}/aftercare-agreement", headers=region.care_provider.headers
    )
    assert missing.status_code == 404


def test_a_viewer_reads_the_aftercare_but_records_nothing(app, client, region, housed):
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider, "viewer"))
    page = browser.get(f"/dossiers/{case_id}/nazorg").text
    assert "Nazorg" in page and "Controle vastleggen" not in page
    refused = post(
        browser, f"/dossiers/{case_id}/nazorg/controle",
        {"versie": "1", "maanden": "3", "woont_er": "ja", "begeleiding_loopt": "ja"}, case_id,
    )  # fmt: skip
    assert refused.status_code == 403


# --- the table's page --------------------------------------------------------------------


def table_page(app, client, org, region, **params):  # type: ignore[no-untyped-def]
    browser = signed_in(app, make_person(client, org))
    page = browser.get(f"/tafels/{region.table_id}/nazorg", params=params)
    assert page.status_code == 200, page.text
    return page.text


def test_the_table_page_lists_each_organisation_its_own_tenancies(app, client, region, housed):
    mine, theirs = housed
    for org, shown in (
        (region.chair, {mine, theirs}),
        (region.municipality, {mine, theirs}),
        (region.care_provider, {mine}),
        (region.other_care_provider, {theirs}),
        (region.corporation, {mine}),
        (region.other_corporation, {theirs}),
    ):
        text = table_page(app, client, org, region)
        assert {c for c in (mine, theirs) if f"/dossiers/{c}/nazorg" in text} == shown, org.kind


def test_the_table_page_shows_overdue_checkpoints_signals_and_transfers(
    app, client, region, housed
):
    mine, _ = housed
    record_signals(client, region, mine)
    moved = client.patch(
        f"/v1/cases/{mine}/tenancy",
        json={"transfer_planned_on": iso(-5)},
        headers=region.corporation.headers,
    )
    assert moved.status_code == 200, moved.text
    provider = table_page(app, client, region.care_provider, region)
    assert "Te laat: na 6 maanden" in provider and "over tijd" in provider
    assert "Moet terug naar de tafel" in provider and "Begeleiding loopt niet meer" in provider
    landlord = table_page(app, client, region.corporation, region)
    assert "Signaal huurachterstand" in landlord and "over tijd" in landlord
    assert "Te laat: na 6 maanden" in landlord  # the checkpoint's state, not its content
    assert "Moet terug naar de tafel" not in landlord
    assert "Begeleiding loopt niet meer" not in landlord
    running = table_page(app, client, region.chair, region, status="running")
    assert f"/dossiers/{mine}/nazorg" not in running


def test_an_ended_tenancy_asks_for_no_checkpoint_and_plans_no_omklap(app, client, region, housed):
    """An ended tenancy takes no checkpoint and no omklap any more (409 `tenancy_ended`): the
    table page showed its missed checkpoints as red "Te laat" badges, a call to do what can no
    longer be done, and the omklap as still planned on a day after the end."""
    mine, _ = housed
    planned = tenancy(client, region.chair, mine)["transfer"]["planned_on"]
    ended = client.patch(
        f"/v1/cases/{mine}/tenancy",
        json={"ended_on": iso(-1), "end_reason": "evicted"},
        headers=region.care_provider.headers,
    )
    assert ended.status_code == 200, ended.text
    for org in (region.chair, region.care_provider, region.corporation):
        text = table_page(app, client, org, region)
        assert "Te laat: na 6 maanden" not in text, org.kind
        assert f"gepland {dutch_date(date.fromisoformat(planned))}" not in text, org.kind
        assert "niet omgeklapt" in text, org.kind
    case_page = signed_in(app, make_person(client, region.chair)).get(f"/dossiers/{mine}/nazorg")
    assert "niet omgeklapt (huur beëindigd)" in case_page.text
    assert "Omklap gepland op" not in case_page.text


def test_an_unknown_status_filter_is_refused(app, client, region):
    browser = signed_in(app, make_person(client, region.chair))
    assert browser.get(f"/tafels/{region.table_id}/nazorg?status=gone").status_code == 400


def test_a_wrong_status_keeps_the_tenancies_form_with_its_error_beside_the_filter(
    app, client, region, housed
):
    """`?status=gone` answered the bare error page ("Ongeldig verzoek ... Naar het overzicht"):
    the list's filter was gone. The list comes back (400) with its form, the error beside the
    Status filter, linked from the summary, and no rows; the stranger still only signs in."""
    mine, _ = housed
    chair = signed_in(app, make_person(client, region.chair))
    url = f"/tafels/{region.table_id}/nazorg"
    response = chair.get(url, params={"status": "gone"})
    assert response.status_code == 400, response.text
    page = response.text
    assert f'<form method="get" action="{url}"' in page
    assert (
        '<select id="status" name="status" aria-invalid="true" aria-describedby="status-fout">'
        in page
    )
    beside = page.split('<p class="field-error" id="status-fout">', 1)[1].split("</p>", 1)[0]
    assert beside.startswith("Kies een van: "), beside
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<li><a href="#status">Deze waarde klopt niet: Status. Kies een van: ' in summary
    assert "Alle huurders die via deze tafel een woning kregen." in page  # the chair's lead
    assert f"/dossiers/{mine}/nazorg" not in page and "Pas de waarden hierboven aan" in page
    assert problems(page) == []
    # The next page's cursor is no field of the form: named in the summary, linked to nothing.
    cut = chair.get(url, params={"na": "x"})
    assert cut.status_code == 400
    assert "<li>Deze waarde klopt niet: Volgende pagina." in cut.text
    assert "aria-invalid" not in cut.text and problems(cut.text) == []
    stranger = client.get(url, params={"status": "gone"}, follow_redirects=False)
    assert stranger.status_code == 303 and "/aanmelden" in stranger.headers["location"]


def test_the_table_and_case_pages_link_to_the_aftercare(app, client, region, housed):
    browser = signed_in(app, make_person(client, region.care_provider))
    table = browser.get(f"/tafels/{region.table_id}").text
    assert f'href="/tafels/{region.table_id}/nazorg"' in table


# --- the access log ----------------------------------------------------------------------


def page_log(client, region, person) -> Counter:  # type: ignore[no-untyped-def]
    """(action, endpoint, case) of every access-log row the person's pages wrote."""
    return Counter(
        (e["action"], e["endpoint"], e["case_id"])
        for e in access_log(client, region)
        if e["person_id"] == person.id
    )


def test_each_case_on_the_table_page_is_one_access_log_row(app, client, region, housed):
    mine, theirs = housed
    chair = make_person(client, region.chair)
    assert signed_in(app, chair).get(f"/tafels/{region.table_id}/nazorg").status_code == 200
    page = "GET /tafels/{table_id}/nazorg"
    assert page_log(client, region, chair) == Counter(
        {("aftercare", page, mine): 1, ("aftercare", page, theirs): 1}
    )
    landlord = make_person(client, region.corporation)
    signed_in(app, landlord).get(f"/tafels/{region.table_id}/nazorg")
    assert page_log(client, region, landlord) == Counter({("aftercare", page, mine): 1})


def test_the_case_pages_log_the_aftercare_they_show(app, client, region, housed):
    mine, _ = housed
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    browser.get(f"/dossiers/{mine}/nazorg")
    browser.get(f"/dossiers/{mine}")
    log = page_log(client, region, person)
    assert log[("aftercare", "GET /dossiers/{case_id}/nazorg", mine)] == 1
    assert log[("aftercare", "GET /dossiers/{case_id}", mine)] == 1


def test_a_nazorg_form_sent_twice_stands_instead_of_asking_to_do_it_again(
    app, client, region, housed
):
    """A double click on a checkpoint or on ending the tenancy: the second sending found the
    version moved by the first and answered 412 'someone else changed it, enter your change
    again', which then answered 409 (found by the eighth breaker). It stands as asked; a
    different checkpoint from that stale form is still refused."""
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    checkpoint = {
        "csrf_token": token,
        "versie": "1",
        "maanden": "3",
        "datum": iso(-2),
        "woont_er": "ja",
        "begeleiding_loopt": "nee",
        "signalen": ["rent_arrears"],
    }
    url = f"/dossiers/{case_id}/nazorg/controle"
    first, second = browser.post(url, data=checkpoint), browser.post(url, data=checkpoint)
    assert first.status_code == second.status_code == 303, second.text
    other = browser.post(url, data=checkpoint | {"maanden": "6", "datum": iso(-1)})
    assert other.status_code == 412
    end = {"csrf_token": token, "versie": "2", "datum": iso(-1), "reden": "evicted"}
    url = f"/dossiers/{case_id}/nazorg/einde"
    first, second = browser.post(url, data=end), browser.post(url, data=end)
    assert first.status_code == second.status_code == 303, second.text
    after = tenancy(client, region.chair, case_id)
    assert (after["status"], after["ended_on"], after["end_reason"]) == (
        "ended",
        iso(-1),
        "evicted",
    )
    recorded = [c["months"] for c in after["checkpoints"] if c["state"] == "recorded"]
    assert recorded == [3]


def test_an_anonymised_case_takes_no_agreement_and_says_so_in_dutch(
    app, client, region, housed, session
):
    """Retention deleted the agreement with the case's other details: the page offers no form
    to make a new one, and a form sent anyway is refused in Dutch (found by the eighteenth
    breaker: a new agreement brought support details back into the anonymised file)."""
    from datetime import timedelta

    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) >= 1
    session.commit()  # as a request's would: a refused request rolls back only its own writes
    page = browser.get(f"/dossiers/{case_id}/nazorg")
    assert "Dit dossier is geanonimiseerd" in page.text
    assert "Nazorgafspraak maken" not in page.text
    sent = browser.post(
        f"/dossiers/{case_id}/nazorg/afspraak",
        data={"csrf_token": token, **AGREEMENT, "organisatie": region.care_provider.id,
              "versie": "nieuw"},
    )  # fmt: skip
    assert sent.status_code == 409
    assert "geanonimiseerd" in sent.text
    stored = client.get(
        f"/v1/cases/{case_id}/aftercare-agreement", headers=region.care_provider.headers
    )
    assert stored.status_code == 404


def test_an_anonymised_case_offers_no_checkpoint_form(app, client, region, housed, session):
    """Retention anonymised the file: a checkpoint is refused (409 case_anonymised), so the
    page offers no form to record one, as it offers no agreement."""
    from datetime import timedelta

    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    assert "Controle vastleggen" in browser.get(f"/dossiers/{case_id}/nazorg").text
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) >= 1
    session.commit()
    page = browser.get(f"/dossiers/{case_id}/nazorg")
    assert "Dit dossier is geanonimiseerd" in page.text
    assert "Controle vastleggen" not in page.text


def test_the_tenancies_page_shows_no_checkpoint_due_of_an_anonymised_case(
    app, client, region, housed, session
):
    """An anonymised file takes no checkpoint (409 case_anonymised) and has left the agenda's
    due checkpoints: the table's tenancies page does not list them as due or overdue either."""
    from datetime import timedelta

    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.chair))

    def row() -> str:
        page = browser.get(f"/tafels/{region.table_id}/nazorg")
        assert page.status_code == 200, page.text
        return page.text.split(f"/dossiers/{case_id}/nazorg", 1)[1].split("</tr>", 1)[0]

    assert "na 3 maanden" in row()
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) >= 1
    session.commit()
    assert "na 3 maanden" not in row() and "geen open controle" in row()


def test_an_anonymised_cases_page_shows_no_checkpoint_as_late_or_coming(
    app, client, region, housed, session
):
    """The case page's follow-up table of an anonymised file: it takes no checkpoint (409
    case_anonymised), so none stands as 'Te laat' or 'Nog niet aan de beurt' any more (the
    API's tenancy says `not_due`); each says why it lapsed."""
    from datetime import timedelta

    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))

    def schedule() -> str:
        page = browser.get(f"/dossiers/{case_id}/nazorg")
        assert page.status_code == 200, page.text
        return page.text.split('id="tabel-controles"', 1)[1].split("</table>", 1)[0]

    assert "Te laat" in schedule() and "Nog niet aan de beurt" in schedule()
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) >= 1
    session.commit()
    shown = schedule()
    assert "Te laat" not in shown and "Nog niet aan de beurt" not in shown
    assert shown.count("Vervallen (dossier geanonimiseerd)") == 3


def test_an_anonymised_cases_omklap_form_offers_no_open_conditions(
    app, client, region, housed, session
):
    """Retention cleared the omklap's open conditions and none can be set again (409
    case_anonymised): the planning form keeps the day, which may still move, but offers no
    condition to tick."""
    from datetime import timedelta

    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.corporation))
    assert 'name="voorwaarden"' in browser.get(f"/dossiers/{case_id}/nazorg").text
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) >= 1
    session.commit()
    page = browser.get(f"/dossiers/{case_id}/nazorg").text
    assert "Omklap plannen" in page and 'name="voorwaarden"' not in page
    assert "Open voorwaarden worden niet meer vastgelegd" in page
    version = str(tenancy(client, region.corporation, case_id)["version"])
    planned = post(
        browser, f"/dossiers/{case_id}/nazorg/omklap", {"versie": version, "gepland": iso(-5)},
        case_id,
    )  # fmt: skip
    assert planned.status_code == 303, planned.text
    assert tenancy(client, region.corporation, case_id)["transfer"]["planned_on"] == iso(-5)


def test_an_agreement_form_sent_twice_stands_instead_of_asking_to_do_it_again(
    app, client, region, housed
):
    """A double click on making the agreement, and on changing it: the second sending found
    the agreement made (or its version moved) by the first and answered 412 'someone else
    was first, look at the new state' (found by breaker 39). It stands as asked; another
    change from the stale form is still refused."""
    case_id, _ = housed
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, f"/dossiers/{case_id}/nazorg")
    url = f"/dossiers/{case_id}/nazorg/afspraak"
    made = AGREEMENT | {"csrf_token": token, "organisatie": region.care_provider.id}
    first, second = (
        browser.post(url, data=made | {"versie": "nieuw"}),
        browser.post(url, data=made | {"versie": "nieuw"}),
    )
    assert (first.status_code, second.status_code) == (303, 303), second.text
    changed = made | {"versie": "1", "contact": "weekly"}
    first, second = browser.post(url, data=changed), browser.post(url, data=changed)
    assert (first.status_code, second.status_code) == (303, 303), second.text
    other = browser.post(url, data=changed | {"contact": "monthly"})
    assert other.status_code == 412
    agreement = client.get(
        f"/v1/cases/{case_id}/aftercare-agreement", headers=region.care_provider.headers
    ).json()
    assert (agreement["contact_frequency"], agreement["version"]) == ("weekly", 2)


def test_a_recorded_checkpoint_form_is_one_access_log_row_not_two(app, client, region, housed):
    case_id, _ = housed
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    version = str(tenancy(client, region.care_provider, case_id)["version"])
    form = {"versie": version, "maanden": "3", "woont_er": "ja", "begeleiding_loopt": "ja"}
    recorded = post(browser, f"/dossiers/{case_id}/nazorg/controle", form, case_id)
    assert recorded.status_code == 303, recorded.text
    rows = [
        e["action"]
        for e in access_log(client, region)
        if e["person_id"] == person.id
        and e["endpoint"] == "POST /dossiers/{case_id}/nazorg/controle"
    ]
    assert rows == ["aftercare"]
