"""A case's dates stay in order (app/cases/dates.py): ready, then the meeting that proposed it,
then the move-in or exit; so the monitor cannot be driven inconsistent through the API."""

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.cases import dates
from app.cases.models import Case
from tests.api.helpers import assert_problem
from tests.clock import day, iso
from tests.conftest import make_table
from tests.monitor.history import (
    dwelling,
    figures,
    house,
    move_in,
    patch_case,
    publish,
    ready_case,
    sign,
    withdraw,
)

MEETING = iso(-20)


@pytest.fixture
def proposed(client, region, limits):
    """A case ready since 40 days ago, proposed at the meeting of 20 days ago."""
    case = ready_case(client, region.care_provider, region.table_id, iso(-40))
    dwelling(client, region.corporation)
    [proposal] = publish(client, region, MEETING)
    return case, proposal


def move_ready_behind_the_api(session, case, ready):
    """What a concurrent edit could leave behind: ready_since written past the checks."""
    session.execute(update(Case).where(Case.id == uuid.UUID(case["id"])).values(ready_since=ready))


def invalid_code(response, name):
    body = assert_problem(response, 400)
    [param] = [p for p in body["invalidParams"] if p["name"] == name]
    return param["code"]


def test_ready_since_cannot_move_past_the_meeting_of_an_open_proposal(client, region, proposed):
    case, _ = proposed
    response = patch_case(client, region.care_provider, case["id"], {"ready_since": iso(-10)})
    assert invalid_code(response, "ready_since") == "ready_since_after_meeting"


def test_ready_since_may_move_up_to_the_meeting_date_and_earlier(client, region, proposed):
    case, _ = proposed
    for ready in (MEETING, iso(-60)):
        response = patch_case(client, region.care_provider, case["id"], {"ready_since": ready})
        assert response.status_code == 200, response.text


def test_ready_since_moves_freely_once_the_proposal_is_closed(client, region, proposed):
    case, proposal = proposed
    declined = client.post(
        f"/v1/proposals/{proposal['id']}/decisions",
        json={"decision": "client_decline", "reason": "other"},
        headers=region.care_provider.headers,
    )
    assert declined.status_code == 200, declined.text
    response = patch_case(client, region.care_provider, case["id"], {"ready_since": iso(-10)})
    assert response.status_code == 200, response.text


def test_the_reported_history_is_refused_and_the_figures_stay_whole(client, region, proposed):
    """The issue's steps: move ready_since past the meeting, then house before that date."""
    case, proposal = proposed
    moved = patch_case(client, region.care_provider, case["id"], {"ready_since": iso(-10)})
    assert moved.status_code == 400
    house(client, region, proposal, iso(-15))
    total = figures(client, region.chair, region.table_id, start=iso(-60), end=iso(0))["totals"][0]
    assert (total["new_ready"], total["housed"], total["backlog_end"]) == (1, 1, 0)
    assert total["waiting_days_p90"] == 25.0


def test_a_move_in_before_the_ready_date_is_refused(client, region, proposed, session):
    """Only reachable when an edit of ready_since raced past the meeting check."""
    case, proposal = proposed
    sign(client, region, proposal)
    move_ready_behind_the_api(session, case, day(-10))
    response = move_in(client, region, proposal, iso(-15))
    assert invalid_code(response, "effective_date") == "date_before_ready_since"


def test_the_database_refuses_a_housed_case_moved_in_before_its_ready_date(
    client, region, proposed, session
):
    case, proposal = proposed
    house(client, region, proposal, iso(-15))
    with pytest.raises(IntegrityError, match=dates.HOUSED_AFTER_READY), session.begin_nested():
        move_ready_behind_the_api(session, case, day(-10))


def test_a_race_past_the_checks_answers_409_not_a_server_error(
    client, region, proposed, session, monkeypatch
):
    case, proposal = proposed
    sign(client, region, proposal)
    monkeypatch.setattr(dates, "check_move_in", lambda case, moved_in: None)
    move_ready_behind_the_api(session, case, day(-10))
    assert_problem(move_in(client, region, proposal, iso(-15)), 409, "dates_changed")


@pytest.mark.parametrize("closing", ["housed", "withdrawn"])
def test_a_closed_case_keeps_its_dates(client, region, proposed, closing):
    case, proposal = proposed
    if closing == "housed":
        house(client, region, proposal, iso(-15))
    else:
        withdraw(client, region.care_provider, case["id"], iso(-15)).raise_for_status()
    response = patch_case(client, region.care_provider, case["id"], {"ready_since": iso(-5)})
    assert_problem(response, 409, "case_closed")


def test_a_withdrawn_case_cannot_be_housed_afterwards(client, region, proposed):
    case, proposal = proposed
    sign(client, region, proposal)
    withdraw(client, region.care_provider, case["id"], iso(-5)).raise_for_status()
    assert_problem(move_in(client, region, proposal, iso(-5)), 409, "illegal_transition")


def test_an_exit_before_the_ready_date_of_a_ready_case_is_refused(client, region, limits):
    case = ready_case(client, region.care_provider, region.table_id, iso(-30))
    response = withdraw(client, region.care_provider, case["id"], iso(-40))
    assert invalid_code(response, "exit_date") == "exit_before_ready_since"


def test_ready_date_and_exit_can_be_corrected_in_one_patch(client, region, limits):
    case = ready_case(client, region.care_provider, region.table_id, iso(-30))
    body = {
        "ready_since": iso(-50),
        "status": "withdrawn",
        "status_reason": "own_solution",
        "exit_date": iso(-40),
    }
    response = patch_case(client, region.care_provider, case["id"], body)
    assert response.status_code == 200, response.text


def test_a_case_withdrawn_before_it_was_ready_never_enters_the_figures(client, region, limits):
    case = ready_case(client, region.care_provider, region.table_id, iso(30))
    response = withdraw(client, region.care_provider, case["id"], iso(0), reason="left_region")
    assert response.status_code == 200, response.text
    document = figures(client, region.chair, region.table_id, start=iso(-30), end=iso(60))
    total = document["totals"][0]
    assert (total["new_ready"], total["other_exits"], total["backlog_end"]) == (0, 0, 0)


def test_a_proposed_case_stays_at_its_table(client, region, proposed):
    case, _ = proposed
    elsewhere = make_table(client, region.chair, [region.care_provider], ["GM0014"])
    response = patch_case(client, region.care_provider, case["id"], {"table_id": elsewhere})
    assert_problem(response, 409, "case_in_proposal")
