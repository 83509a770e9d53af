"""The case page's timeline shows an action's whole history (`action_transitions`): the due
date it was handed out with, each closing and reopening with who did it; before, it showed the
current due date as the first one and only the latest closing."""

from app.web.formatting import dutch_date
from tests.api.test_action_history import history, patch
from tests.api.test_actions import hand_out
from tests.clock import day, iso
from tests.conftest import create_case
from tests.web.conftest import make_person, signed_in
from tests.web.test_action_forms import _status_form


def test_the_case_page_shows_a_reopened_actions_first_closing_and_first_due_date(
    app, client, region, published
):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.care_provider, due_date=iso(14), case_id=case["id"])
    patch(client, region.chair, action, due_date=iso(21))
    worker = make_person(client, region.care_provider)
    browser = signed_in(app, worker)
    form = {**_status_form(browser, region, action["id"]), "status": "done"}
    assert browser.post(f"/acties/{action['id']}", data=form).status_code == 303
    patch(client, region.chair, action, status="open")
    patch(client, region.chair, action, status="cancelled")

    page = browser.get(f"/dossiers/{case['id']}").text

    timeline = page[page.index("<h2>Tijdlijn</h2>") :]
    assert f"uiterlijk {dutch_date(day(14))}" in timeline
    assert f"{dutch_date(day(14))} → {dutch_date(day(21))}" in timeline
    assert "Actie heropend" in timeline
    assert timeline.count("Actie afgesloten") == 2
    assert "Open → Afgerond" in timeline and "Open → Vervallen" in timeline
    # The page's closing names the person, to its own organisation only.
    closing = history(client, region.care_provider, action)[2]
    assert (closing["change"], closing["actor_person_id"]) == ("complete", worker.id)
    assert closing["actor_api_key_id"] is None
    assert history(client, region.chair, action)[2]["actor_person_id"] is None
