"""The action forms survive a double submit and a stale page (found by the eighth breaker): the
chair's form sent twice handed out two actions, and a click on a page shown before someone
else closed the action overwrote their status (done, then cancelled from the old page)."""

import re

from tests.api.helpers import plan_meeting
from tests.api.test_actions import hand_out
from tests.api.test_actions_of_a_moved_case import move_to_a_second_table
from tests.api.test_tables import _members_without
from tests.clock import iso
from tests.conftest import create_case
from tests.web.conftest import csrf_of, hidden, make_person, other_spellings, post_form, signed_in
from tests.web.html_rules import problems


def _actions(client, region):
    response = client.get(f"/v1/tables/{region.table_id}/actions", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def hand_out_form(browser, region, published, due_date: str) -> dict:
    """The meeting page's hand-out form filled for the care provider (tokens as shown)."""
    meeting = f"/vergaderingen/{published.meeting_id}"
    page = browser.get(meeting).text
    return {
        "csrf_token": hidden(page, "csrf_token"),
        "formulier": hidden(page, "formulier"),
        "soort": "request_beschikking",
        "eigenaar": region.care_provider.id,
        "uiterlijk": due_date,
        "dossier": published.case_id,
        "vergadering": published.meeting_id,
        "terug": meeting,
    }


def test_the_hand_out_form_sent_twice_hands_out_one_action(app, client, region, published, chair):
    browser = signed_in(app, chair)
    meeting = f"/vergaderingen/{published.meeting_id}"
    form = hand_out_form(browser, region, published, iso(7))
    first = browser.post(f"/tafels/{region.table_id}/acties", data=form)
    second = browser.post(f"/tafels/{region.table_id}/acties", data=form)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert len(_actions(client, region)) == 1
    # The same form sent again with other choices (back, change, send) is another action.
    changed = browser.post(f"/tafels/{region.table_id}/acties", data=form | {"uiterlijk": iso(9)})
    assert changed.status_code == 303
    assert sorted(a["due_date"] for a in _actions(client, region)) == [iso(7), iso(9)]
    # A form shown anew hands out another one, the same or not.
    again = browser.get(meeting).text
    assert hidden(again, "formulier") != form["formulier"]
    form |= {"formulier": hidden(again, "formulier"), "csrf_token": hidden(again, "csrf_token")}
    assert browser.post(f"/tafels/{region.table_id}/acties", data=form).status_code == 303
    assert len(_actions(client, region)) == 3


def test_the_hand_out_form_sent_again_with_other_choices_and_twice_hands_out_one_more(
    app, client, region, published, chair
):
    """Back, another date, then a double click: the first click handed out the second action,
    the second click a third, as the form's key was spent on the first choices and the changed
    form was sent without one."""
    browser = signed_in(app, chair)
    form = hand_out_form(browser, region, published, iso(7))
    assert browser.post(f"/tafels/{region.table_id}/acties", data=form).status_code == 303
    changed = form | {"uiterlijk": iso(9)}
    for _ in range(2):
        sent = browser.post(f"/tafels/{region.table_id}/acties", data=changed)
        assert sent.status_code == 303, sent.text
    assert sorted(a["due_date"] for a in _actions(client, region)) == [iso(7), iso(9)]
    # And the first choices sent once more are still the first action.
    assert browser.post(f"/tafels/{region.table_id}/acties", data=form).status_code == 303
    assert len(_actions(client, region)) == 2


def test_a_due_date_years_away_on_the_hand_out_form_gets_a_dutch_message(
    app, client, region, published, chair
):
    browser = signed_in(app, chair)
    form = hand_out_form(browser, region, published, iso(3650))  # 2036 typed for 2026
    refused = browser.post(f"/tafels/{region.table_id}/acties", data=form)
    assert refused.status_code == 400
    assert "De datum ligt meer dan een jaar vooruit." in refused.text
    assert _actions(client, region) == []


def _action(client, region):
    return hand_out(client, region, region.care_provider, iso(7))


def _status_form(browser, region, action_id):
    """The csrf token and version of the action's status form on the table's page."""
    page = browser.get(f"/tafels/{region.table_id}").text
    form = re.search(rf'<form method="post" action="/acties/{action_id}".*?</form>', page, re.S)
    assert form, "no status form for the action"
    return {"csrf_token": hidden(page, "csrf_token"), "versie": hidden(form.group(0), "versie")}


def test_a_status_from_a_stale_page_does_not_overwrite_a_newer_one(
    app, client, region, published, chair
):
    action = _action(client, region)
    owner = signed_in(app, make_person(client, region.care_provider))
    chair_browser = signed_in(app, chair)
    seen_by_owner = _status_form(owner, region, action["id"])
    seen_by_chair = _status_form(chair_browser, region, action["id"])
    done = owner.post(f"/acties/{action['id']}", data={**seen_by_owner, "status": "done"})
    assert done.status_code == 303
    stale = chair_browser.post(
        f"/acties/{action['id']}", data={**seen_by_chair, "status": "cancelled"}
    )
    assert stale.status_code == 412
    assert "Iemand anders heeft deze actie intussen bijgewerkt" in stale.text
    assert "Afgerond" in stale.text
    now = client.get(f"/v1/actions/{action['id']}", headers=region.chair.headers).json()
    assert now["status"] == "done"


def test_a_status_sent_twice_stands_without_an_error(app, client, region, published):
    action = _action(client, region)
    owner = signed_in(app, make_person(client, region.care_provider))
    form = {**_status_form(owner, region, action["id"]), "status": "done"}
    assert owner.post(f"/acties/{action['id']}", data=form).status_code == 303
    assert owner.post(f"/acties/{action['id']}", data=form).status_code == 303
    now = client.get(f"/v1/actions/{action['id']}", headers=region.chair.headers).json()
    assert (now["status"], now["version"]) == ("done", 2)


def test_a_status_form_without_its_version_stores_nothing(app, client, region, published):
    action = _action(client, region)
    owner = signed_in(app, make_person(client, region.care_provider))
    response = post_form(owner, f"/acties/{action['id']}", {"status": "done"})
    assert response.status_code == 400
    assert "welke versie van de actie u zag" in response.text
    now = client.get(f"/v1/actions/{action['id']}", headers=region.chair.headers).json()
    assert now["status"] == "open"
    assert csrf_of(owner)  # still signed in


def test_a_meeting_whose_minutes_are_final_offers_no_hand_out_form(
    app, client, region, published, chair
):
    """The form would hand out an action no minutes show (the API refuses it, 409
    `minutes_final`): the page says where an action goes instead, and a form shown before
    the minutes were marked final is refused with a Dutch message."""
    browser = signed_in(app, chair)
    form = hand_out_form(browser, region, published, iso(7))
    final = client.post(
        f"/v1/meetings/{published.meeting_id}/minutes/final", headers=region.chair.headers
    )
    assert final.status_code == 200, final.text

    page = browser.get(f"/vergaderingen/{published.meeting_id}").text
    refused = browser.post(f"/tafels/{region.table_id}/acties", data=form)

    assert 'name="soort"' not in page and "besluitenlijst is definitief" in page
    assert refused.status_code == 409 and "besluitenlijst" in refused.text
    assert _actions(client, region) == []


def test_a_date_the_action_form_cannot_read_is_named_as_the_form_names_it(
    app, client, region, chair
):
    browser = signed_in(app, chair)
    table = f"/tafels/{region.table_id}"
    response = post_form(
        browser,
        f"{table}/acties",
        {"soort": "other", "eigenaar": region.chair.id, "uiterlijk": "12-05-2027"},
        table,
    )
    assert response.status_code == 400
    assert "Niet (goed) ingevuld: Uiterlijk klaar op." in response.text
    assert "due_date" not in response.text


def test_a_closed_action_that_cannot_be_reopened_offers_no_reopening(
    app, client, region, published, chair
):
    """The meeting's actions offered the chair 'Heropenen' on an action whose case has moved to
    another table (cancelled as it moved) and on one whose owner has left the table: pressing
    it always answered the refusal (409 `case_moved`, `owner_not_member`)."""
    case = create_case(client, region.care_provider, region.table_id)
    moved, left, reopenable = (
        hand_out(client, region, owner, iso(7), meeting_id=published.meeting_id, **extra)
        for owner, extra in (
            (region.care_provider, {"case_id": case["id"]}),
            (region.other_corporation, {}),
            (region.care_provider, {}),
        )
    )
    move_to_a_second_table(client, region, case["id"])
    for action, owner in ((left, region.other_corporation), (reopenable, region.care_provider)):
        closed = client.patch(
            f"/v1/actions/{action['id']}", json={"status": "done"}, headers=owner.headers
        )
        assert closed.status_code == 200, closed.text
    assert _members_without(client, region, region.other_corporation).status_code == 200

    page = signed_in(app, chair).get(f"/vergaderingen/{published.meeting_id}").text

    assert f'action="/acties/{reopenable["id"]}"' in page
    assert f'action="/acties/{moved["id"]}"' not in page
    assert f'action="/acties/{left["id"]}"' not in page
    assert page.count('value="open"') == 1
    assert "Niet te heropenen: het dossier is naar een andere tafel verhuisd." in page
    assert "Niet te heropenen: de eigenaar zit niet meer aan de tafel." in page


def test_a_hand_out_form_with_a_meeting_the_table_does_not_know_says_where_to_hand_it_out(
    app, client, region, other_region, published, chair
):
    """The form's hidden meeting (`vergadering`) written another way, unknown or another
    table's answered the table's page with 'Niet (goed) ingevuld: Vergadering.' (or 'Deze
    vergadering hoort niet bij deze tafel.') in the summary alone: the page has no such field,
    so the chair could not mend it, and a wrong field sent with it ('Soort actie') was linked
    to an input that page does not have. The page now says the form's meeting is unknown
    here and nothing was handed out, and beside its Vergaderingen (the summary links there)
    to hand the action out on a meeting's agenda; the same page for every such value, so it
    says nothing of which meeting exists (50f2a6c: read only as the API writes an id, no bare
    404 'Niet gevonden'). A stranger is sent to sign in."""
    elsewhere = plan_meeting(client, other_region, iso(14))["id"]
    unknown = "01a24f14-54a9-73a9-a43b-000000000000"
    browser = signed_in(app, chair)
    url = f"/tafels/{region.table_id}/acties"
    shown = set()
    for meeting in [*other_spellings(published.meeting_id), "xx", unknown, elsewhere]:
        for kind in ("request_beschikking", "nope"):
            form = hand_out_form(browser, region, published, iso(7))
            sent = browser.post(url, data=form | {"vergadering": meeting, "soort": kind})
            assert sent.status_code == 400, (meeting, sent.status_code)
            assert problems(sent.text) == [], (meeting, kind)
            summary = sent.text.split('class="error-summary"', 1)[1].split("</div>")[0]
            assert (
                "De vergadering van dit formulier is bij deze tafel niet bekend, dus er is "
                "geen actie uitgezet." in summary
            ), summary
            assert (
                '<li><a href="#h-vergaderingen">Vergaderingen: Open hieronder de agenda van '
                "de vergadering en zet de actie daar uit.</a></li>" in summary
            ), summary
            assert "actie-soort" not in summary
            beside = sent.text.split('<h2 id="h-vergaderingen">Vergaderingen</h2>', 1)[1]
            assert beside.lstrip().startswith(
                '<p class="field-error" id="h-vergaderingen-fout">Open hieronder de agenda'
            ), beside[:200]
            assert f'href="/vergaderingen/{published.meeting_id}"' in beside
            shown.add(re.sub(r'name="(formulier|csrf_token)" value="\w+"', "", sent.text))
    assert len(shown) == 1  # says nothing of which meeting exists, or where
    assert _actions(client, region) == []
    # The meeting's own agenda still hands it out, its id in either case.
    form = hand_out_form(browser, region, published, iso(7))
    sent = browser.post(url, data=form | {"vergadering": published.meeting_id.upper()})
    assert sent.status_code == 303, sent.text
    assert [a["meeting_id"] for a in _actions(client, region)] == [published.meeting_id]
    stranger = client.post(url, data={"vergadering": unknown}, follow_redirects=False)
    assert stranger.status_code == 303 and "/aanmelden" in stranger.headers["location"]


def test_a_corporation_is_not_told_on_the_meeting_page_that_its_actions_case_moved(
    app, client, region, published
):
    """The meeting page told the corporation owning an action about a case it is not shown
    "het dossier is naar een andere tafel verhuisd" beside it: the client's move, which its
    history no longer tells (found by the breaker). Each corporation reads only that the action
    is kept as history; the chair still reads why."""
    case = create_case(client, region.care_provider, region.table_id)
    actions = {
        corporation.id: hand_out(
            client, region, corporation, iso(7), meeting_id=published.meeting_id, case_id=case["id"]
        )
        for corporation in (region.corporation, region.other_corporation)
    }
    move_to_a_second_table(client, region, case["id"])

    for corporation in (region.corporation, region.other_corporation):
        browser = signed_in(app, make_person(client, corporation))
        page = browser.get(f"/vergaderingen/{published.meeting_id}")
        assert page.status_code == 200, page.text
        assert "verhuisd" not in page.text and "andere tafel" not in page.text
        assert "Niet te heropenen: deze actie blijft alleen als geschiedenis bewaard" in page.text
        assert f'action="/acties/{actions[corporation.id]["id"]}"' not in page.text
        # A reopening sent by hand is refused in the same words.
        action = client.get(
            f"/v1/actions/{actions[corporation.id]['id']}", headers=corporation.headers
        ).json()
        sent = post_form(
            browser,
            f"/acties/{action['id']}",
            {"status": "open", "versie": str(action["version"])},
        )
        assert sent.status_code == 409, sent.text
        assert "verhuisd" not in sent.text and "andere tafel" not in sent.text
        assert "Deze actie blijft alleen als geschiedenis bewaard" in sent.text
    chairs = signed_in(app, make_person(client, region.chair, "chair", is_admin=True))
    chair_page = chairs.get(f"/vergaderingen/{published.meeting_id}").text
    assert "Niet te heropenen: het dossier is naar een andere tafel verhuisd." in chair_page
