"""An open action about a case belongs to the case's table: a case that moves to another table
leaves none open at the table it left (cancelled there, as history), so that table's agenda,
lists, digest and overdue notices stop naming a client it no longer handles."""

import uuid

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from app.actions.models import Action
from app.mail import service as mail_service
from app.mail.models import MailMessage
from app.migrate import alembic_config, upgrade_to_head
from tests.api.helpers import assert_problem, plan_meeting
from tests.api.test_actions import agenda, hand_out
from tests.clock import iso
from tests.conftest import Org, create_case, make_org, make_region, make_table
from tests.mail.conftest import person


def move_to_a_second_table(client, region, case_id: str) -> tuple[Org, str]:  # type: ignore[no-untyped-def]
    """The case moved by its care provider to a second table it sits at, chaired by a new
    municipality: (that chair, the table's id)."""
    elsewhere = make_org(client, "municipality")
    second_table = make_table(client, elsewhere, [region.care_provider], ["GM0363"])
    moved = client.patch(
        f"/v1/cases/{case_id}",
        json={"table_id": second_table},
        headers=region.care_provider.headers,
    )
    assert moved.status_code == 200, moved.text
    return elsewhere, second_table


def test_a_case_that_moves_leaves_no_open_action_at_the_table_it_left(
    client, region, session: Session
):
    case = create_case(client, region.care_provider, region.table_id)
    other = create_case(client, region.care_provider, region.table_id)
    person(client, region.municipality)
    plan_meeting(client, region, iso())  # a care provider's live agenda is a meeting date's
    late = hand_out(client, region, region.municipality, due_date=iso(-2), case_id=case["id"])
    own = hand_out(client, region, region.care_provider, case_id=case["id"])
    stays = hand_out(client, region, region.care_provider, case_id=other["id"])

    move_to_a_second_table(client, region, case["id"])

    table_actions = f"/v1/tables/{region.table_id}/actions"
    for org in (region.chair, region.municipality, region.care_provider):
        on_agenda = [a["id"] for a in agenda(client, region, org)["open_actions"]]
        assert late["id"] not in on_agenda and own["id"] not in on_agenda
        listed = client.get(table_actions, params={"status": "open"}, headers=org.headers)
        assert late["id"] not in {a["id"] for a in listed.json()["items"]}
        overdue = client.get(table_actions, params={"overdue": "true"}, headers=org.headers)
        assert overdue.json()["items"] == []
    assert [a["id"] for a in agenda(client, region, region.chair)["open_actions"]] == [stays["id"]]
    # Kept as history: cancelled, with when.
    shown = client.get(f"/v1/actions/{late['id']}", headers=region.chair.headers).json()
    assert shown["status"] == "cancelled" and shown["completed_at"] and not shown["overdue"]
    # Nobody is told the old table's action is overdue.
    mail_service.queue_due_notices(session)
    assert session.exec(select(MailMessage).where(MailMessage.kind == "action_overdue")).all() == []


def test_an_action_about_a_case_that_moved_away_is_not_reopened(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    action = hand_out(client, region, region.municipality, case_id=case["id"])
    move_to_a_second_table(client, region, case["id"])

    reopened = client.patch(
        f"/v1/actions/{action['id']}", json={"status": "open"}, headers=region.chair.headers
    )

    assert_problem(reopened, 409, code="case_moved")
    shown = client.get(f"/v1/actions/{action['id']}", headers=region.chair.headers).json()
    assert shown["status"] == "cancelled"


def test_a_corporation_is_refused_a_change_of_such_an_action_without_being_told_the_move(
    client, region
):
    """The corporation owning an action about a case it is not shown was refused its reopening
    with 409 `case_moved`, "The case has moved to another table": the move its history no
    longer tells (found by the breaker). It is refused in words that say nothing of the case;
    the chair, which reads the case, is still told why."""
    case = create_case(client, region.care_provider, region.table_id)
    open_one = hand_out(client, region, region.corporation, case_id=case["id"])
    done = hand_out(client, region, region.other_corporation, case_id=case["id"])
    closed = client.patch(
        f"/v1/actions/{done['id']}",
        json={"status": "done"},
        headers=region.other_corporation.headers,
    )
    assert closed.status_code == 200, closed.text
    move_to_a_second_table(client, region, case["id"])

    for action, corporation, other in (
        (open_one, region.corporation, "done"),  # cancelled as its case moved
        (done, region.other_corporation, "cancelled"),
    ):
        for status in ("open", other):
            refused = client.patch(
                f"/v1/actions/{action['id']}", json={"status": status}, headers=corporation.headers
            )
            assert_problem(refused, 409, code="action_kept_as_history")
            assert "move" not in refused.text and "table" not in refused.text, refused.text
    chairs = client.patch(
        f"/v1/actions/{done['id']}", json={"status": "open"}, headers=region.chair.headers
    )
    assert_problem(chairs, 409, code="case_moved")


def test_an_action_about_a_case_that_moved_away_changes_no_more(client, region):
    """Kept as history at the table the case left: neither its owner nor that table's chair
    (which no longer reads the case) marks it done, cancels it or gives it another date, as
    the pages offer no control for it; the new table's chair hands out its own."""
    case = create_case(client, region.care_provider, region.table_id)
    left_open = hand_out(client, region, region.care_provider, case_id=case["id"])
    done = hand_out(client, region, region.care_provider, case_id=case["id"])
    closed = client.patch(
        f"/v1/actions/{done['id']}", json={"status": "done"}, headers=region.care_provider.headers
    )
    assert closed.status_code == 200, closed.text
    move_to_a_second_table(client, region, case["id"])
    before = {
        a["id"]: client.get(f"/v1/actions/{a['id']}", headers=region.chair.headers).json()
        for a in (left_open, done)
    }

    for action, org, body in [
        (left_open, region.care_provider, {"status": "done"}),
        (left_open, region.chair, {"due_date": iso(21)}),
        (done, region.chair, {"status": "cancelled"}),
        (done, region.care_provider, {"due_date": iso(21)}),
    ]:
        refused = client.patch(f"/v1/actions/{action['id']}", json=body, headers=org.headers)
        assert_problem(refused, 409, code="case_moved")

    for action_id, shown in before.items():
        now = client.get(f"/v1/actions/{action_id}", headers=region.chair.headers).json()
        assert now == shown


def test_the_migration_cancels_the_actions_a_move_left_open_before_the_rule(live_app):
    """Moves before the rule (fd63c3a) left their actions open at the table the case left: on
    its agenda, lists, digest and overdue notices, naming a client it no longer handles. The
    migration cancels them as a move does now (an overdue notice waiting in the outbox is not
    sent and gives up its key); an action at the case's own table, or about no case, stays."""
    with TestClient(live_app) as client:
        region = make_region(client)
        engine = live_app.state.engine
        person(client, region.care_provider)
        case = create_case(client, region.care_provider, region.table_id)
        stays = create_case(client, region.care_provider, region.table_id)
        late = hand_out(client, region, region.care_provider, iso(-2), case_id=case["id"])
        own = hand_out(client, region, region.care_provider, iso(-2), case_id=stays["id"])
        caseless = hand_out(client, region, region.municipality)
        with Session(engine) as session:
            mail_service.queue_due_notices(session)
            session.commit()
        move_to_a_second_table(client, region, case["id"])
        url = engine.url.render_as_string(hide_password=False)
    key = f"action.overdue:{late['id']}"
    with engine.begin() as connection:  # as such a move left them: open, notice waiting
        connection.execute(
            text("UPDATE actions SET status = 'open', completed_at = NULL WHERE id = :a"),
            {"a": uuid.UUID(late["id"]).hex if engine.dialect.name == "sqlite" else late["id"]},
        )
        connection.execute(
            text(
                "UPDATE mail_messages SET status = 'pending', last_error = NULL, dedupe_key = :k "
                "WHERE dedupe_key LIKE :like"
            ),
            {"k": key, "like": f"{key}@%"},
        )

    command.downgrade(alembic_config(url), "0030_versioned_area_names")
    upgrade_to_head(url)

    with Session(engine) as session:
        shown = {a.id: a for a in session.exec(select(Action))}
        notices = session.exec(select(MailMessage).where(MailMessage.kind == "action_overdue"))
        overdue = {m.dedupe_key.split("@")[0]: m for m in notices}
    cancelled = shown[uuid.UUID(late["id"])]
    assert (cancelled.status, cancelled.completed_at is not None) == ("cancelled", True)
    assert [shown[uuid.UUID(a["id"])].status for a in (own, caseless)] == ["open", "open"]
    assert overdue[key].status == "expired" and overdue[key].dedupe_key != key
    assert overdue[f"action.overdue:{own['id']}"].status == "pending"
