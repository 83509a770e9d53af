"""The pages a chair and the members use, through HTTP: the meeting cycle in the browser's
terms (forms, redirects, Dutch pages), acting through the same services as the API."""

import csv
import io
import re

import pytest

from app.idempotency import Idempotency, IdempotencyKeyInProgress
from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import (
    DATE,
    PASSWORD,
    csrf_of,
    form_token,
    give_new_password,
    make_person,
    new_password_form,
    page_client,
    post_form,
    signed_in,
    submit_sign_in,
)


def test_a_chair_schedules_and_publishes_a_meeting_and_sees_the_proposal(
    app, client, region, chair
):
    case = create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    browser = signed_in(app, chair)
    scheduled = browser.post(
        f"/tafels/{region.table_id}/vergaderingen",
        data={"csrf_token": csrf_of(browser, f"/tafels/{region.table_id}"), "datum": DATE},
    )
    assert scheduled.status_code == 303, scheduled.text
    meeting_url = scheduled.headers["location"].split("?")[0]
    draft = browser.get(meeting_url)
    assert "Concept" in draft.text and "Agenda publiceren" in draft.text
    published = post_form(browser, meeting_url + "/publiceren", {"versie": "1"}, meeting_url)
    assert published.status_code == 303, published.text
    agenda = browser.get(meeting_url)
    assert "Gepubliceerd en bevroren" in agenda.text
    assert "Wachttijd" in agenda.text  # score components, in Dutch
    assert f"/dossiers/{case['id']}" in agenda.text
    meeting_id = meeting_url.rsplit("/", 1)[1]
    api = client.get(f"/v1/meetings/{meeting_id}", headers=region.chair.headers).json()
    assert api["status"] == "published" and api["proposals"] == 1


def test_scheduling_a_date_twice_says_so_in_dutch(app, client, region, chair, published):
    browser = signed_in(app, chair)
    response = post_form(browser, f"/tafels/{region.table_id}/vergaderingen", {"datum": DATE})
    assert response.status_code == 409
    assert "Op deze datum vergadert de tafel al." in response.text


def test_a_double_click_plans_one_meeting_and_opens_it(app, client, region, chair):
    """The second click of the plan form found the date taken and said so, though the meeting
    was planned (breaker 32). The form's own token makes it the same request: both open the
    meeting. The date planned again from a new page is still refused."""
    browser = signed_in(app, chair)
    token = form_token(browser.get(f"/tafels/{region.table_id}").text)
    table, day = f"/tafels/{region.table_id}", iso(9)
    url = f"{table}/vergaderingen"
    clicks = [post_form(browser, url, {"datum": day, "formulier": token}, table) for _ in range(2)]
    assert [c.status_code for c in clicks] == [303, 303], clicks[1].text
    assert clicks[0].headers["location"] == clicks[1].headers["location"]
    listed = client.get(f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers)
    assert [m["date"] for m in listed.json()["items"]].count(day) == 1
    fresh = form_token(browser.get(f"/tafels/{region.table_id}").text)
    assert fresh != token
    refused = post_form(browser, url, {"datum": day, "formulier": fresh}, table)
    assert refused.status_code == 409 and "Op deze datum vergadert de tafel al." in refused.text


def test_a_second_click_while_the_first_is_still_planning_says_so_in_dutch(
    app, client, region, chair, monkeypatch
):
    browser = signed_in(app, chair)
    token = form_token(browser.get(f"/tafels/{region.table_id}").text)
    table = f"/tafels/{region.table_id}"

    def unfinished(self):  # type: ignore[no-untyped-def]
        raise IdempotencyKeyInProgress()

    monkeypatch.setattr(Idempotency, "_claim", unfinished)
    second = post_form(
        browser, f"{table}/vergaderingen", {"datum": iso(9), "formulier": token}, table
    )
    assert second.status_code == 409, second.text
    assert "wordt nog verwerkt" in second.text


def test_the_chair_nominates_and_the_decision_shows_on_the_timeline(
    app, client, region, published, chair
):
    browser = signed_in(app, chair)
    url = f"/voorstellen/{published.proposal_id}"
    response = post_form(browser, url + "/besluit", {"besluit": "nominate", "versie": "1"}, url)
    assert response.status_code == 303, response.text
    assert "Voorgedragen" in browser.get(url).text
    timeline = browser.get(f"/dossiers/{published.case_id}").text
    assert "Voordragen" in timeline and "Voorgedragen" in timeline
    api = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert api.json()["status"] == "nominated"


def test_a_decision_form_whose_version_is_not_ascii_digits_stores_nothing(
    app, client, region, published, chair
):
    """'²' passes `str.isdigit` but not `int`: the decision form with `versie=²` was a 500
    page. It carries no version the page showed, so nothing is stored (400)."""
    browser = signed_in(app, chair)
    url = f"/voorstellen/{published.proposal_id}"
    for version in ("²", "\u0661"):
        sent = post_form(browser, url + "/besluit", {"besluit": "nominate", "versie": version}, url)
        assert sent.status_code == 400, sent.text
    api = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert api.json()["status"] == "proposed"


def test_a_decline_records_the_reason_code_picked_by_its_dutch_label(
    app, client, region, published
):
    corporation = signed_in(app, make_person(client, region.corporation))
    url = f"/voorstellen/{published.proposal_id}"
    page = corporation.get(url).text
    assert '<option value="income_insufficient">Inkomen onvoldoende</option>' in page
    response = post_form(
        corporation,
        url + "/besluit",
        {"besluit": "corporation_decline", "reden": "income_insufficient", "versie": "1"},
        url,
    )
    assert response.status_code == 303
    proposal = client.get(
        f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers
    ).json()
    assert proposal["status"] == "declined_by_corporation"
    assert proposal["decisions"][0]["reason"] == "income_insufficient"


def test_a_decline_without_a_reason_is_refused_with_a_message(app, client, region, published):
    corporation = signed_in(app, make_person(client, region.corporation))
    url = f"/voorstellen/{published.proposal_id}"
    response = post_form(corporation, url + "/besluit", {"besluit": "corporation_decline"}, url)
    assert response.status_code == 400  # the service's invalid-input status, as the API answers
    assert "Dat lukte niet" in response.text
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert proposal.json()["status"] == "proposed"


def test_a_decision_sent_twice_stands_without_someone_else_was_first(
    app, client, region, published, chair
):
    """A double click: the second request finds the version moved by this very decision; it
    answered 412 'someone else was first', so the chair took the decision for lost (found by
    the eighth breaker)."""
    browser = signed_in(app, chair)
    url = f"/voorstellen/{published.proposal_id}"
    form = {"csrf_token": csrf_of(browser, url), "besluit": "nominate", "versie": "1"}
    first = browser.post(url + "/besluit", data=form)
    second = browser.post(url + "/besluit", data=form)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    proposal = client.get(f"/v1/proposals/{published.proposal_id}", headers=region.chair.headers)
    assert (proposal.json()["status"], len(proposal.json()["decisions"])) == ("nominated", 1)
    # Another decision on that stale version is still refused.
    other = browser.post(url + "/besluit", data=form | {"besluit": "withdraw", "reden": "other"})
    assert other.status_code == 412


def test_a_decision_on_a_stale_page_is_refused_and_changes_nothing(
    app, client, region, published, chair
):
    browser = signed_in(app, chair)
    url = f"/voorstellen/{published.proposal_id}"
    token = csrf_of(browser, url)
    client.post(
        f"/v1/proposals/{published.proposal_id}/decisions",
        json={"decision": "nominate"},
        headers=region.chair.headers,
    )
    response = browser.post(
        url + "/besluit",
        data={"csrf_token": token, "besluit": "withdraw", "reden": "other", "versie": "1"},
    )
    assert response.status_code == 412
    assert "Iemand anders was u voor" in response.text
    proposal = client.get(
        url.replace("/voorstellen", "/v1/proposals"), headers=region.chair.headers
    )
    assert proposal.json()["status"] == "nominated"


def test_the_chair_hands_out_an_action_and_its_owner_closes_it(
    app, client, region, published, chair
):
    browser = signed_in(app, chair)
    meeting = f"/vergaderingen/{published.meeting_id}"
    response = post_form(
        browser,
        f"/tafels/{region.table_id}/acties",
        {
            "soort": "request_beschikking",
            "eigenaar": region.care_provider.id,
            "uiterlijk": iso(-10),
            "dossier": published.case_id,
            "vergadering": published.meeting_id,
            "terug": meeting,
        },
        meeting,
    )
    assert response.status_code == 303 and response.headers["location"].startswith(meeting)
    assert "Wmo-beschikking aanvragen" in browser.get(meeting).text
    [action] = client.get(
        f"/v1/tables/{region.table_id}/actions", headers=region.chair.headers
    ).json()["items"]
    assert action["case_id"] == published.case_id and action["meeting_id"] == published.meeting_id

    owner = signed_in(app, make_person(client, region.care_provider))
    table_page = owner.get(f"/tafels/{region.table_id}").text
    assert "te laat" in table_page  # due ten days ago
    closed = post_form(owner, f"/acties/{action['id']}", {"status": "done", "versie": "1"})
    assert closed.status_code == 303
    action = client.get(f"/v1/actions/{action['id']}", headers=region.chair.headers).json()
    assert action["status"] == "done"


def test_another_member_cannot_close_someone_elses_action(app, client, region, published):
    action = client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": "other",
            "owner_organisation_id": region.care_provider.id,
            "due_date": iso(1),
        },
        headers=region.chair.headers,
    ).json()
    municipality = signed_in(app, make_person(client, region.municipality))
    response = post_form(municipality, f"/acties/{action['id']}", {"status": "done", "versie": "1"})
    assert response.status_code == 403


def test_why_not_explains_the_rules_a_pair_fails_in_dutch(app, client, region, chair):
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        needs={"wheelchair": True, "step_free": False, "max_floor": None, "pets": False},
    )
    vacancy = create_vacancy(client, region.corporation)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": DATE}, headers=region.chair.headers
    ).json()
    browser = signed_in(app, chair)
    agenda = browser.get(f"/vergaderingen/{meeting['id']}").text
    assert "Niet rolstoeltoegankelijk" in agenda  # the bottleneck, by its Dutch label
    page = browser.get(
        f"/vergaderingen/{meeting['id']}/waarom-niet",
        params={"dossier": case["id"], "woning": vacancy["id"]},
    )
    assert page.status_code == 200
    assert "Deze woning past niet" in page.text
    assert "<h1>Waarom past dit niet?</h1>" in page.text  # a rule keeps them apart
    assert "Niet rolstoeltoegankelijk" in page.text


def test_a_cases_candidates_on_the_agenda_have_no_column_left_empty(
    app, client, region, chair, published
):
    """Since the agenda's candidate lists carry no score components (they are fetched list by
    list), the column 'Opbouw' of each case's candidates was empty on every row, on screen and
    on paper; it is left out where no candidate has them (an agenda frozen before still has)."""
    agenda = signed_in(app, chair).get(f"/vergaderingen/{published.meeting_id}").text
    tables = re.findall(
        r'<table class="compact[^"]*">\s*<caption id="tabel-passend-.*?</table>', agenda, re.S
    )
    assert tables, "no case's candidates on the agenda"
    for table in tables:
        headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table)
        assert headers == ["Woning", "Score"], headers
        assert not re.search(r"<td[^>]*>\s*</td>", table), table


def test_a_corporation_sees_its_own_dwellings_without_case_details(app, client, region, published):
    corporation = signed_in(app, make_person(client, region.corporation))
    agenda = corporation.get(f"/vergaderingen/{published.meeting_id}").text
    assert "Opbouw van de score" not in agenda
    assert "Waarom past een woning niet" not in agenda
    # Its proposal's case is linked: to the profile a corporation reads, not to the file.
    assert f'href="/dossiers/{published.case_id}"' in agenda
    profile = corporation.get(f"/dossiers/{published.case_id}").text
    assert "alleen het profiel" in profile and "Het dossier" not in profile
    forbidden = corporation.get(
        f"/vergaderingen/{published.meeting_id}/waarom-niet",
        params={"dossier": published.case_id, "woning": published.vacancy_id},
    )
    assert forbidden.status_code == 403


def test_the_csv_lists_what_the_page_shows(app, region, published, chair):
    browser = signed_in(app, chair)
    response = browser.get(f"/vergaderingen/{published.meeting_id}/agenda.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    proposals = [r for r in rows if r and r[0] == "voorstellen"]
    assert [(r[1], r[2]) for r in proposals] == [(published.case_id, published.vacancy_id)]
    assert "Wachttijd" in proposals[0][6]


def test_the_csv_is_the_callers_view_too(app, client, region, published):
    other = signed_in(app, make_person(client, region.other_care_provider))
    text = other.get(f"/vergaderingen/{published.meeting_id}/agenda.csv").text
    assert published.case_id not in text


def test_the_pdf_is_a_printable_a4_document(app, region, published, chair):
    response = signed_in(app, chair).get(f"/vergaderingen/{published.meeting_id}/agenda.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/Lang (nl-NL)" in response.content


def test_an_admin_creates_a_person_who_can_then_sign_in(app, client, region):
    admin = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    response = post_form(
        admin, "/mensen", {"email": "Nieuw@Example.nl", "naam": "Nieuwe collega", "rol": "viewer"}
    )
    assert response.status_code == 201
    password = response.text.split('<p class="password"><code>')[1].split("</code>")[0]
    assert len(password) >= 12
    newcomer = submit_sign_in(page_client(app), "nieuw@example.nl", password)
    assert newcomer.status_code == 303
    people = client.get(
        f"/v1/organizations/{region.care_provider.id}/people", headers=region.care_provider.headers
    ).json()["items"]
    assert {p["email"]: p["role"] for p in people}["nieuw@example.nl"] == "viewer"


def test_only_an_admin_manages_people(app, client, region):
    member = signed_in(app, make_person(client, region.care_provider))
    assert member.get("/mensen").status_code == 403
    response = post_form(member, "/mensen", {"email": "x@example.nl", "naam": "X", "rol": "chair"})
    assert response.status_code == 403


def test_an_admin_blocks_a_person_whose_sessions_then_end(app, client, region):
    admin = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    colleague = make_person(client, region.care_provider)
    their_browser = signed_in(app, colleague)
    response = post_form(
        admin, f"/mensen/{colleague.id}", {"actief": "nee", "versie": "1"}, "/mensen"
    )
    assert response.status_code == 303
    assert their_browser.get("/overzicht").status_code == 303
    assert submit_sign_in(page_client(app), colleague.email, PASSWORD).status_code == 400


def _shown_password(html: str) -> str:
    return html.split('<p class="password"><code>')[1].split("</code>")[0]


def test_an_admin_gives_a_colleague_a_new_password_shown_once(app, client, region):
    admin = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    colleague = make_person(client, region.care_provider)
    their_browser = signed_in(app, colleague)
    response = give_new_password(admin, colleague.id)
    assert response.status_code == 200
    assert "Het nieuwe wachtwoord voor" in response.text
    new = _shown_password(response.text)
    assert admin.get("/mensen").text.count(new) == 0  # shown once
    assert their_browser.get("/overzicht").status_code == 303  # their sessions ended
    assert submit_sign_in(page_client(app), colleague.email, PASSWORD).status_code == 400
    assert submit_sign_in(page_client(app), colleague.email, new).status_code == 303


def _generated_passwords(client, org, person_id: str) -> int:  # type: ignore[no-untyped-def]
    url = f"/v1/organizations/{org.id}/people/{person_id}/changes"
    changes = client.get(url, headers=org.headers).json()["items"]
    return sum((c["change"], c["value"]) == ("password", "generated") for c in changes)


def test_a_new_password_form_sent_again_makes_no_second_password_and_says_so(app, client, region):
    """'Nieuw wachtwoord' sent again with the form as it was shown (the back button and the
    button once more, a reload of the answer, a second tab, a double click) made a second
    password, and the one the first sending showed, passed on to the colleague, stopped
    working without a word. The form is used once: the second sending makes none, answers
    409 with a Dutch page that says so, and the first password works; a page loaded afresh
    offers the form again."""
    admin = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    colleague = make_person(client, region.care_provider)
    form = new_password_form(admin, colleague.id)
    first = admin.post(f"/mensen/{colleague.id}/wachtwoord", data=form)
    assert first.status_code == 200, first.text
    shown = _shown_password(first.text)
    again = admin.post(f"/mensen/{colleague.id}/wachtwoord", data=form)
    assert again.status_code == 409, again.text
    assert "al een nieuw wachtwoord gemaakt" in again.text
    assert '<p class="password">' not in again.text and 'role="alert"' in again.text
    assert _generated_passwords(client, region.care_provider, colleague.id) == 1
    assert submit_sign_in(page_client(app), colleague.email, shown).status_code == 303
    fresh = give_new_password(admin, colleague.id)  # from the page as it is now: a new one
    assert fresh.status_code == 200
    assert submit_sign_in(page_client(app), colleague.email, shown).status_code == 400
    newer = _shown_password(fresh.text)
    assert submit_sign_in(page_client(app), colleague.email, newer).status_code == 303


def test_a_new_password_another_admin_made_is_not_called_this_forms_own(app, client, region):
    """A form shown before another admin of the organisation gave the colleague a new password
    was answered as if this admin had sent it before ('het formulier was dus al verstuurd ...
    het wachtwoord dat toen getoond werd, werkt. Is het niet meer zichtbaar? Kies opnieuw'),
    though this admin was shown no password: following it replaced the one the other admin had
    passed on. It is the 412 of a change by someone else; nothing is stored."""
    first = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    second = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    colleague = make_person(client, region.care_provider)
    form = new_password_form(second, colleague.id)
    made = give_new_password(first, colleague.id)
    assert made.status_code == 200, made.text
    late = second.post(f"/mensen/{colleague.id}/wachtwoord", data=form)
    assert late.status_code == 412, late.text
    assert "intussen gewijzigd" in late.text and "al verstuurd" not in late.text
    assert _generated_passwords(client, region.care_provider, colleague.id) == 1
    shown = _shown_password(made.text)
    assert submit_sign_in(page_client(app), colleague.email, shown).status_code == 303


def test_a_new_password_form_without_its_version_or_from_before_a_change_makes_none(
    app, client, region
):
    """A form that names no version (400), or one shown before someone else changed the
    person (412, here their role: the page offered a new password to the person as it showed
    them), stores nothing; the colleague's password stays."""
    admin_person = make_person(client, region.care_provider, is_admin=True)
    admin = signed_in(app, admin_person)
    colleague = make_person(client, region.care_provider)
    form = new_password_form(admin, colleague.id)
    url = f"/mensen/{colleague.id}/wachtwoord"
    assert admin.post(url, data={"csrf_token": form["csrf_token"]}).status_code == 400
    changed = client.patch(
        f"/v1/organizations/{region.care_provider.id}/people/{colleague.id}",
        json={"is_admin": False, "role": "viewer"},
        headers=region.care_provider.headers,
    )
    assert changed.status_code == 200, changed.text
    stale = admin.post(url, data=form)
    assert stale.status_code == 412, stale.text
    assert "intussen gewijzigd" in stale.text
    assert _generated_passwords(client, region.care_provider, colleague.id) == 0
    assert submit_sign_in(page_client(app), colleague.email, PASSWORD).status_code == 303


def test_an_admin_gives_no_new_password_above_their_role_to_themselves_or_elsewhere(
    app, client, region
):
    admin_person = make_person(client, region.care_provider, is_admin=True)
    admin = signed_in(app, admin_person)
    chair = make_person(client, region.care_provider, "chair")
    stranger = make_person(client, region.other_care_provider)
    for person_id, status in (
        (chair.id, 403),  # a role above the admin's own
        (admin_person.id, 403),  # one's own: under 'Mijn account', with the current one
        (stranger.id, 404),  # another organisation's person
    ):
        response = post_form(admin, f"/mensen/{person_id}/wachtwoord", {}, "/mensen")
        assert response.status_code == status
    for person in (chair, admin_person, stranger):
        assert submit_sign_in(page_client(app), person.email, PASSWORD).status_code == 303


def test_a_new_person_form_sent_twice_points_to_a_new_password(app, client, region):
    # The second sending of a double click finds the email taken, and its page replaced the one
    # that showed the generated password.
    admin = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    form = {"email": "dubbel@example.nl", "naam": "Dubbel geklikt", "rol": "member"}
    assert post_form(admin, "/mensen", form, "/mensen").status_code == 201
    again = post_form(admin, "/mensen", form, "/mensen")
    assert again.status_code == 409
    assert "Nieuw wachtwoord" in again.text


def test_a_taken_email_points_to_a_new_password_only_where_the_admin_has_that_button(
    app, client, region
):
    admin = signed_in(app, make_person(client, region.care_provider, is_admin=True))
    chair = make_person(client, region.care_provider, "chair")  # above the admin's role
    member = make_person(client, region.care_provider)
    for taken, hint in ((chair.email, False), (member.email, True)):
        form = {"email": taken, "naam": "Zelfde adres", "rol": "member"}
        response = post_form(admin, "/mensen", form, "/mensen")
        assert response.status_code == 409
        assert "Er bestaat al een account met dit e-mailadres." in response.text
        assert ("Nieuw wachtwoord&#39;." in response.text) is hint


def test_a_person_changes_their_password(app, client, region):
    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    new = "een heel nieuw wachtwoord"
    response = post_form(
        browser,
        "/account/wachtwoord",
        {"huidig_wachtwoord": PASSWORD, "nieuw_wachtwoord": new, "herhaal_wachtwoord": new},
    )
    assert response.status_code == 303
    assert browser.get("/overzicht").status_code == 200  # this session stays
    assert submit_sign_in(page_client(app), person.email, PASSWORD).status_code == 400
    assert submit_sign_in(page_client(app), person.email, new).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "repeated", "field"),
    [
        (PASSWORD, "kort", "kort", "nieuw"),
        (PASSWORD, "een heel nieuw wachtwoord", "een ander nieuw wachtwoord", "herhaal"),
        (
            "niet het huidige wachtwoord",
            "een heel nieuw wachtwoord",
            "een heel nieuw wachtwoord",
            "huidig",
        ),
    ],
    ids=["too-short", "not-repeated", "wrong-current"],
)
def test_a_refused_password_change_ties_its_message_to_the_field(
    app, client, region, current, new, repeated, field
):
    browser = signed_in(app, make_person(client, region.care_provider))
    response = post_form(
        browser,
        "/account/wachtwoord",
        {"huidig_wachtwoord": current, "nieuw_wachtwoord": new, "herhaal_wachtwoord": repeated},
    )
    assert response.status_code == 400
    tag = re.search(rf'<input id="{field}"[^>]*>', response.text)
    assert tag and 'aria-invalid="true"' in tag.group(0), tag
    assert f"{field}-fout" in tag.group(0)
    assert f'<p class="field-error" id="{field}-fout">' in response.text
    others = {"huidig", "nieuw", "herhaal"} - {field}
    assert not any(f"{other}-fout" in response.text for other in others)


def test_the_overview_lists_only_the_organisations_own_tables(
    app, client, region, other_region, published
):
    outsider = signed_in(app, make_person(client, other_region.care_provider))
    overview = outsider.get("/overzicht").text
    assert region.table_id not in overview
    assert other_region.table_id in overview


@pytest.mark.settings(solver_time_budget_seconds=0.000000001)
def test_an_agenda_not_proven_optimal_says_so_on_the_page(app, client, region, chair):
    from tests.api.test_agenda import straddling_complex

    straddling_complex(client, region)
    browser = signed_in(app, chair)
    scheduled = browser.post(
        f"/tafels/{region.table_id}/vergaderingen",
        data={"csrf_token": csrf_of(browser, f"/tafels/{region.table_id}"), "datum": DATE},
    )
    draft = browser.get(scheduled.headers["location"].split("?")[0])
    assert "Niet bewezen optimaal" in draft.text
    assert "hoogstens" in draft.text


def test_an_action_about_a_case_for_another_care_provider_is_refused_in_dutch(
    app, client, region, published, chair
):
    """The API's 400 `owner_cannot_see_case` came back on the page as 'Ongeldige invoer:
    owner_organisation_id.', an English field name for the chair."""
    browser = signed_in(app, chair)
    response = post_form(
        browser,
        f"/tafels/{region.table_id}/acties",
        {
            "soort": "other",
            "eigenaar": region.other_care_provider.id,
            "uiterlijk": iso(10),
            "dossier": published.case_id,
        },
        f"/tafels/{region.table_id}",
    )
    assert response.status_code == 400
    assert "alleen acties over de eigen dossiers" in response.text
    assert "owner_organisation_id" not in response.text
    actions = client.get(f"/v1/tables/{region.table_id}/actions", headers=region.chair.headers)
    assert actions.json()["items"] == []


def test_the_why_not_page_asks_why_it_does_not_fit_only_when_a_rule_keeps_them_apart(
    app, client, region, chair, published
):
    """Asked about the published pair itself, the page answered 'Dit dossier of deze woning
    doet nu niet mee' (the case is in the proposal) under the heading 'Waarom past dit niet?':
    nothing said it did not fit. Such an answer is headed 'Waarom niet?', as the agenda's form
    names the page; a rule that keeps a pair apart keeps its question."""
    page = signed_in(app, chair).get(
        f"/vergaderingen/{published.meeting_id}/waarom-niet",
        params={"dossier": published.case_id, "woning": published.vacancy_id},
    )
    assert page.status_code == 200, page.text
    assert "doet nu niet mee aan een nieuwe agenda" in page.text
    assert "<h1>Waarom niet?</h1>" in page.text and "Waarom past dit niet?" not in page.text
