"""Follow-up checkpoints after the move: recorded with codes by the care provider, due and
overdue ones and every signal on the next agenda, webhooks once per checkpoint and signal."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, select

from app import transient
from app.access_log.models import AccessLogEntry
from app.aftercare import agenda as aftercare_agenda
from app.agenda.stall_sweep import StallSweep
from app.tables.models import OutflowTable
from app.webhooks.models import WebhookDelivery, WebhookEvent
from tests.aftercare.housing import house
from tests.api.helpers import assert_problem, invalid_names, plan_meeting
from tests.clock import iso
from tests.conftest import OPERATOR, make_region

pytestmark = pytest.mark.usefixtures("no_deadlocks")


def record(client, org, case_id, months=3, recorded_on=None, signals=(), key=None, **codes):
    body = {
        "months": months,
        "recorded_on": recorded_on or iso(-1),
        "still_living_there": codes.get("still_living_there", True),
        "support_active": codes.get("support_active", True),
        "signals": list(signals),
    }
    headers = {**org.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/cases/{case_id}/checkpoints", json=body, headers=headers)


def checkpoints(client, org, case_id):
    response = client.get(f"/v1/cases/{case_id}/tenancy", headers=org.headers)
    assert response.status_code == 200, response.text
    return {c["months"]: c for c in response.json()["checkpoints"]}


def agenda(client, region, org, date):
    response = client.get(
        f"/v1/tables/{region.table_id}/agenda", params={"date": date}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["aftercare"]


def hand_out(client, region, kind, case_id):
    """The chair hands out an action of `kind` about the case to its care provider."""
    return client.post(
        f"/v1/tables/{region.table_id}/actions",
        json={
            "kind": kind,
            "owner_organisation_id": region.care_provider.id,
            "due_date": iso(14),
            "case_id": case_id,
        },
        headers=region.chair.headers,
    )


def events(session, kind):
    return session.exec(select(WebhookEvent).where(col(WebhookEvent.type) == kind)).all()


def test_the_schedule_follows_the_policy_months_after_the_move_in(client, region):
    case = house(client, region, -100)
    schedule = checkpoints(client, region.care_provider, case["id"])
    assert sorted(schedule) == [3, 6, 12]
    assert schedule[3]["state"] == "overdue"
    assert schedule[6]["state"] == schedule[12]["state"] == "upcoming"


def test_a_checkpoint_records_codes_and_raises_signals(client, region):
    case = house(client, region, -100)
    response = record(
        client,
        region.care_provider,
        case["id"],
        signals=["rent_arrears"],
        support_active=False,
    )
    assert response.status_code == 201, response.text
    assert response.json()["signals"] == ["rent_arrears", "support_stopped"]
    seen = checkpoints(client, region.chair, case["id"])[3]
    assert (seen["state"], seen["support_active"]) == ("recorded", False)


def test_the_corporation_sees_only_the_landlords_signals_of_its_tenant(client, region):
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], signals=["rent_arrears", "needs_table"])
    seen = checkpoints(client, region.corporation, case["id"])[3]
    assert seen["signals"] == ["rent_arrears"]
    assert "support_active" not in seen and "still_living_there" not in seen


def test_a_checkpoint_is_recorded_once(client, region):
    case = house(client, region, -100)
    assert record(client, region.care_provider, case["id"]).status_code == 201
    assert_problem(record(client, region.care_provider, case["id"]), 409, "checkpoint_recorded")


def test_a_checkpoint_sent_again_with_its_idempotency_key_is_the_recorded_one(
    client, region, session
):
    """A system that lost the answer sends the checkpoint again with the same key: it reads
    what was recorded (200, replayed), logged as an access to the case, rather than a 409 it
    would have to tell apart from a checkpoint someone else recorded. The same key with other
    codes is 422, and without a key the retry is still 409."""
    case = house(client, region, -100)
    provider = region.care_provider
    first = record(client, provider, case["id"], signals=["rent_arrears"], key="controle-3")
    assert first.status_code == 201, first.text

    def logged() -> int:
        return len(
            session.exec(
                select(AccessLogEntry).where(
                    AccessLogEntry.case_id == uuid.UUID(case["id"]),
                    AccessLogEntry.organisation_id == uuid.UUID(region.care_provider.id),
                )
            ).all()
        )

    before = logged()
    again = record(client, provider, case["id"], signals=["rent_arrears"], key="controle-3")
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert logged() == before + 1
    other = record(client, provider, case["id"], signals=["needs_table"], key="controle-3")
    assert_problem(other, 422)
    assert_problem(record(client, provider, case["id"]), 409, "checkpoint_recorded")


def test_a_checkpoint_the_policy_does_not_list_is_refused(client, region):
    case = house(client, region, -100)
    assert invalid_names(record(client, region.care_provider, case["id"], months=4)) == ["months"]


def test_a_checkpoints_number_or_yes_no_of_another_json_type_is_400(client, region):
    # As a case file's: pydantic's lax mode recorded "still_living_there": "yes" as true and
    # "support_active": 0 as false (raising `support_stopped`), and "months": "3" as 3.
    case = house(client, region, -100)
    provider = region.care_provider
    lax = {"months": "3", "still_living_there": "yes", "support_active": 0}
    response = record(client, provider, case["id"], **lax)
    assert sorted(invalid_names(response)) == sorted(lax)
    assert checkpoints(client, provider, case["id"])[3]["state"] == "overdue"
    response = record(client, provider, case["id"], still_living_there=True, support_active=False)
    assert response.status_code == 201, response.text
    seen = checkpoints(client, provider, case["id"])[3]
    assert (seen["still_living_there"], seen["support_active"]) == (True, False)


def test_a_checkpoints_day_of_record_is_not_in_the_future_nor_before_the_move_in(client, region):
    case = house(client, region, -100)
    for day in (iso(1), iso(-101)):
        response = record(client, region.care_provider, case["id"], recorded_on=day)
        assert invalid_names(response) == ["recorded_on"]


def test_only_the_cases_care_provider_records_checkpoints(client, region):
    case = house(client, region, -100)
    for org in (region.chair, region.corporation):
        assert_problem(record(client, org, case["id"]), 403)
    assert_problem(record(client, region.other_care_provider, case["id"]), 404)


def test_the_chair_changes_the_checkpoint_months(client, region):
    case = house(client, region, -100)
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"aftercare_checkpoint_months": [24, 1]}},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    assert sorted(checkpoints(client, region.care_provider, case["id"])) == [1, 24]
    assert record(client, region.care_provider, case["id"], months=1).status_code == 201


def test_due_checkpoints_and_signals_come_onto_the_next_agenda(client, region):
    quiet = house(client, region, -100)
    loud = house(client, region, -200, corporation=region.other_corporation)
    record(client, region.care_provider, loud["id"], signals=["nuisance", "needs_table"])
    meeting = plan_meeting(client, region, iso(7))
    items = agenda(client, region, region.chair, meeting["date"])
    due = {(i["case_id"], i["months"]) for i in items if i["kind"] == "checkpoint"}
    assert due == {(quiet["id"], 3), (loud["id"], 6)}
    [signal] = [i for i in items if i["kind"] == "signal"]
    assert (signal["case_id"], signal["signals"]) == (loud["id"], ["nuisance", "needs_table"])
    assert signal["suggested_action_kind"] == "address_nuisance"


def test_a_corporation_sees_on_the_agenda_only_its_tenants_landlord_signals(client, region):
    quiet = house(client, region, -100)
    loud = house(client, region, -200, corporation=region.other_corporation)
    record(client, region.care_provider, loud["id"], signals=["nuisance", "needs_table"])
    meeting = plan_meeting(client, region, iso(7))
    assert agenda(client, region, region.corporation, meeting["date"]) == []
    [item] = agenda(client, region, region.other_corporation, meeting["date"])
    assert (item["kind"], item["signals"]) == ("signal", ["nuisance"])
    assert quiet["id"] not in str(agenda(client, region, region.other_corporation, meeting["date"]))
    assert agenda(client, region, region.other_care_provider, meeting["date"]) == []


def test_an_agenda_signal_becomes_an_action(client, region):
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], signals=["rent_arrears"])
    meeting = plan_meeting(client, region, iso(7))
    [signal] = [
        i for i in agenda(client, region, region.chair, meeting["date"]) if i["kind"] == "signal"
    ]
    response = hand_out(client, region, signal["suggested_action_kind"], signal["case_id"])
    assert response.status_code == 201, response.text


def test_checkpoint_due_is_sent_once_per_checkpoint(client, region, session):
    case = house(client, region, -100)
    meeting = plan_meeting(client, region, iso(7))
    agenda(client, region, region.chair, meeting["date"])
    agenda(client, region, region.chair, meeting["date"])
    sent = events(session, "aftercare.checkpoint_due")
    assert [(e.data["case_id"], e.data["months"]) for e in sent] == [(case["id"], 3)]


def test_signal_raised_tells_the_corporation_only_its_signals(client, region, session):
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], signals=["rent_arrears", "needs_table"])
    sent = sorted(events(session, "aftercare.signal_raised"), key=lambda e: len(e.data["signals"]))
    assert [e.data["signals"] for e in sent] == [["rent_arrears"], ["rent_arrears", "needs_table"]]
    quiet = house(client, region, -100)
    record(client, region.care_provider, quiet["id"])
    assert len(events(session, "aftercare.signal_raised")) == 2


def test_a_corporation_chairing_the_table_is_told_every_signal_its_api_view_shows(
    client, region, session
):
    """The chair is told every signal, whatever its kind: a corporation that chairs the table
    reads the full tenancy (the chair's view), so its webhook carries every signal too, not
    the landlord's share that a corporation which is only the landlord gets."""
    case = house(client, region, -100)
    chaired = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"chair_organisation_id": region.corporation.id},
        headers=OPERATOR,
    )
    assert chaired.status_code == 200, chaired.text
    hook = {"url": "https://hooks.example.org/c", "events": ["aftercare.signal_raised"]}
    registered = client.post("/v1/webhooks", json=hook, headers=region.corporation.headers)
    assert registered.status_code == 201, registered.text

    made = record(client, region.care_provider, case["id"], signals=["rent_arrears", "needs_table"])

    assert made.status_code == 201, made.text
    shown = checkpoints(client, region.corporation, case["id"])[3]["signals"]
    told = session.exec(
        select(WebhookEvent.data)
        .join(WebhookDelivery, col(WebhookDelivery.event_id) == col(WebhookEvent.id))
        .where(col(WebhookDelivery.endpoint_id) == uuid.UUID(registered.json()["id"]))
    ).all()
    assert shown == ["rent_arrears", "needs_table"]
    assert [data["signals"] for data in told] == [shown]


def test_a_checkpoint_coming_due_is_announced_by_the_sweep_without_any_read(live_app):
    # A live app (committed data), as a server's sweep sees it.
    with TestClient(live_app, raise_server_exceptions=False) as live:
        region = make_region(live)
        case = house(live, region, -100)
    engine = live_app.state.engine
    sweep = StallSweep(engine, interval=60)
    assert sweep.run_once() == 1  # the 3-month checkpoint, due ten days ago: nobody read
    assert sweep.run_once() == 0  # once per checkpoint
    with Session(engine) as session:
        sent = events(session, "aftercare.checkpoint_due")
    assert [(e.data["case_id"], e.data["months"]) for e in sent] == [(case["id"], 3)]


def test_a_signal_entered_after_the_last_agenda_was_published_comes_onto_the_next_one(
    client, region
):
    """The chair publishes a meeting's agenda a few days before the meeting; a signal entered
    in between is not in that frozen agenda, so it belongs on the next one. Counting from the
    previous meeting's date left it off both (found by the eighth breaker)."""
    case = house(client, region, -100)
    first = plan_meeting(client, region, iso(3))
    published = client.post(f"/v1/meetings/{first['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    record(client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"])
    frozen = client.get(f"/v1/meetings/{first['id']}/agenda", headers=region.chair.headers)
    assert [i for i in frozen.json()["aftercare"] if i["kind"] == "signal"] == []
    second = plan_meeting(client, region, iso(10))
    signals = [
        i for i in agenda(client, region, region.chair, second["date"]) if i["kind"] == "signal"
    ]
    assert [(i["case_id"], i["signals"]) for i in signals] == [(case["id"], ["needs_table"])]
    # Once an agenda that shows it is published, the next one does not show it again.
    published = client.post(f"/v1/meetings/{second['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    shown = client.get(f"/v1/meetings/{second['id']}/agenda", headers=region.chair.headers)
    assert [i["case_id"] for i in shown.json()["aftercare"] if i["kind"] == "signal"] == [
        case["id"]
    ]
    assert [i for i in agenda(client, region, region.chair, iso(17)) if i["kind"] == "signal"] == []


def behind(seconds: int) -> time_machine.travel:
    """The clock of another replica, `seconds` behind this one (still ticking)."""
    return time_machine.travel(datetime.now(UTC) - timedelta(seconds=seconds), tick=True)


def test_a_signal_recorded_on_a_replica_whose_clock_is_behind_comes_onto_the_next_agenda(
    client, region
):
    """With replicas, `published_at` and a checkpoint's `created_at` come from different
    clocks. A signal recorded after the publication on a clock 30 s behind was stamped before
    it: counted as on the frozen agenda, which it is not, so it was on no agenda."""
    case = house(client, region, -100)
    first = plan_meeting(client, region, iso(3))
    published = client.post(f"/v1/meetings/{first['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    with behind(30):
        signal = record(
            client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"]
        )
    assert signal.status_code == 201, signal.text
    frozen = client.get(f"/v1/meetings/{first['id']}/agenda", headers=region.chair.headers)
    assert [i for i in frozen.json()["aftercare"] if i["kind"] == "signal"] == []
    second = plan_meeting(client, region, iso(10))
    signals = [
        i for i in agenda(client, region, region.chair, second["date"]) if i["kind"] == "signal"
    ]
    assert [i["case_id"] for i in signals] == [case["id"]]


def test_a_signal_on_the_frozen_agenda_is_not_shown_again_when_the_publisher_clock_is_behind(
    client, region
):
    """The other way round: a signal recorded before the publication, on a clock ahead of the
    publisher's, is in the frozen agenda; stamped after `published_at`, the next agenda showed
    it a second time."""
    case = house(client, region, -100)
    first = plan_meeting(client, region, iso(3))
    signal = record(
        client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"]
    )
    assert signal.status_code == 201, signal.text
    with behind(30):
        published = client.post(f"/v1/meetings/{first['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    frozen = client.get(f"/v1/meetings/{first['id']}/agenda", headers=region.chair.headers)
    in_frozen = [i["case_id"] for i in frozen.json()["aftercare"] if i["kind"] == "signal"]
    assert in_frozen == [case["id"]]
    second = plan_meeting(client, region, iso(10))
    assert [
        i for i in agenda(client, region, region.chair, second["date"]) if i["kind"] == "signal"
    ] == []


def record_while_publishing(live, monkeypatch, region, case, meeting, signals=()):
    """Publish `meeting` pausing right after its read of the aftercare section (3 s at most)
    while the case's 3-month checkpoint is recorded; returns both answers. With the table
    row's lock the checkpoint cannot commit meanwhile, so the pause runs out."""
    read, recorded = threading.Event(), threading.Event()
    section = aftercare_agenda.section

    def pausing(session, table, on):
        entries = section(session, table, on)
        if not read.is_set():
            read.set()
            recorded.wait(timeout=3)
        return entries

    monkeypatch.setattr(aftercare_agenda, "section", pausing)
    answers = {}

    def publish():
        url = f"/v1/meetings/{meeting['id']}/publish"
        answers["publish"] = live.post(url, headers=region.chair.headers)

    publishing = threading.Thread(target=publish)
    publishing.start()
    assert read.wait(timeout=60)
    signal = record(
        live, region.care_provider, case["id"], recorded_on=iso(0), signals=list(signals)
    )
    recorded.set()
    publishing.join(timeout=60)
    monkeypatch.setattr(aftercare_agenda, "section", section)
    return signal, answers["publish"]


def test_a_signal_recorded_while_an_agenda_is_published_is_on_that_agenda_or_the_next(
    live_app, monkeypatch
):
    """Publishing reads the aftercare section, then stamps `published_at`. A checkpoint that
    committed between the two was in neither agenda: not in the frozen one, and recorded
    before `published_at`, so not on the next (breakers 8 and 9). Here publishing pauses
    right after its read while the checkpoint is sent; the table row's lock makes the
    checkpoint wait for the publication."""
    with TestClient(live_app, raise_server_exceptions=False) as live:
        region = make_region(live)
        case = house(live, region, -100)
        first = plan_meeting(live, region, iso(3))
        signal, published = record_while_publishing(
            live, monkeypatch, region, case, first, ["needs_table"]
        )
        assert signal.status_code == 201, signal.text
        assert published.status_code == 200, published.text
        frozen = live.get(f"/v1/meetings/{first['id']}/agenda", headers=region.chair.headers)
        in_frozen = [i for i in frozen.json()["aftercare"] if i["kind"] == "signal"]
        second = plan_meeting(live, region, iso(10))
        in_next = [
            i for i in agenda(live, region, region.chair, second["date"]) if i["kind"] == "signal"
        ]
    assert [i["case_id"] for i in in_frozen + in_next] == [case["id"]]


def test_a_checkpoint_recorded_while_publishing_announces_it_due_does_not_deadlock(
    live_app, monkeypatch
):
    """Publishing holds the table's row, then inserts the notice of each checkpoint come due,
    whose foreign key waits for a tenancy whose row is locked. Recording that checkpoint locked
    the tenancy first and then waited for the table's row: a deadlock, which PostgreSQL ended
    by aborting one of them (the publication then ran, solver and all, once more). Recording
    takes the table's row first now, so it simply waits for the publication."""
    if live_app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    deadlocks = []
    classify = transient.classify

    def counting(error):
        if getattr(getattr(error, "orig", None), "sqlstate", None) == "40P01":
            deadlocks.append(error)
        return classify(error)

    monkeypatch.setattr(transient, "classify", counting)
    with TestClient(live_app, raise_server_exceptions=False) as live:
        region = make_region(live)
        case = house(live, region, -100)  # its 3-month checkpoint is due, not yet announced
        meeting = plan_meeting(live, region, iso(3))
        signal, published = record_while_publishing(live, monkeypatch, region, case, meeting)
    assert signal.status_code == 201, signal.text
    assert published.status_code == 200, published.text
    assert deadlocks == []


def signals_on(client, region, meeting):
    response = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=region.chair.headers)
    assert response.status_code == 200, response.text
    return [i["case_id"] for i in response.json()["aftercare"] if i["kind"] == "signal"]


def publish(client, region, meeting):
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text


def test_a_signal_is_on_one_agenda_when_a_meeting_is_planned_before_a_published_one(client, region):
    """The chair publishes the meeting in ten days early, then plans one in three days. A signal
    entered after that publication is on the earlier meeting's agenda; the next meeting after
    the published one counted only from the meeting dated just before it (the published one,
    which does not hold it) and showed the signal a second time."""
    case = house(client, region, -100)
    later = plan_meeting(client, region, iso(10))
    publish(client, region, later)
    record(client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"])
    earlier = plan_meeting(client, region, iso(3))
    publish(client, region, earlier)
    following = plan_meeting(client, region, iso(17))
    shown = [signals_on(client, region, m) for m in (earlier, later, following)]
    assert shown == [[case["id"]], [], []]


def test_a_signal_on_a_published_agenda_is_not_shown_on_a_meeting_planned_before_it(client, region):
    """The other way round: a signal entered before the meeting in ten days was published is
    on its frozen agenda; a meeting planned afterwards for an earlier day showed it again."""
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"])
    later = plan_meeting(client, region, iso(10))
    publish(client, region, later)
    earlier = plan_meeting(client, region, iso(3))
    shown = [signals_on(client, region, m) for m in (earlier, later)]
    assert shown == [[], [case["id"]]]


def test_a_signal_held_by_a_draft_dated_before_a_publication_is_on_that_draft_alone(client, region):
    """A meeting published while a draft dated before it held the signal leaves it off; the
    draft, published later, holds it; the meeting after both shows it no more."""
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"])
    draft = plan_meeting(client, region, iso(3))
    later = plan_meeting(client, region, iso(10))
    publish(client, region, later)
    publish(client, region, draft)
    following = plan_meeting(client, region, iso(17))
    shown = [signals_on(client, region, m) for m in (draft, later, following)]
    assert shown == [[case["id"]], [], []]


def test_an_agenda_reads_no_frozen_agenda_of_the_meetings_dated_before_it(
    client, region, session, engine
):
    """A meeting dated before the agenda and published after a signal was entered vouches that
    another agenda holds it (its own, or one that held it when it was published), so the section
    reads no snapshot of those meetings. It read the frozen aftercare of every published meeting
    since the table's oldest signal, whole snapshots parsed on each process's first agenda: 3 s
    for 200 meetings with snapshots of 2 MB (breaker 15)."""
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"])
    meetings = [plan_meeting(client, region, iso(days)) for days in (7, 14, 21)]
    for meeting in meetings:
        publish(client, region, meeting)
    table = session.get_one(OutflowTable, uuid.UUID(region.table_id))
    read: list[str] = []

    def reads_snapshots(conn, cursor, statement, parameters, context, executemany):
        if "snapshot" in statement:
            read.append(statement)

    event.listen(engine, "before_cursor_execute", reads_snapshots)
    try:
        entries = aftercare_agenda.section(session, table, date.fromisoformat(iso(28)))
    finally:
        event.remove(engine, "before_cursor_execute", reads_snapshots)
    assert [e["case_id"] for e in entries if e["kind"] == "signal"] == []
    assert read == []
    assert [signals_on(client, region, m) for m in meetings] == [[case["id"]], [], []]


def test_the_live_agenda_of_a_published_meetings_date_shows_the_signals_it_froze(client, region):
    """The live agenda of a date whose meeting is published shows the signals its frozen agenda
    holds, whatever meetings dated before it were published since: such a meeting vouches that
    another agenda holds the signal, and that other agenda is this date's own."""
    case = house(client, region, -100)
    record(client, region.care_provider, case["id"], recorded_on=iso(0), signals=["needs_table"])
    later = plan_meeting(client, region, iso(10))
    publish(client, region, later)
    assert signals_on(client, region, later) == [case["id"]]
    live = [
        i["case_id"] for i in agenda(client, region, region.chair, iso(10)) if i["kind"] == "signal"
    ]
    assert live == [case["id"]]
    earlier = plan_meeting(client, region, iso(3))
    publish(client, region, earlier)
    assert signals_on(client, region, earlier) == []
    live = [
        i["case_id"] for i in agenda(client, region, region.chair, iso(10)) if i["kind"] == "signal"
    ]
    assert live == [case["id"]]


def _anonymise(session, case_id: str, count: int = 1) -> None:
    """Retention, run two years and a day from now: the housed case and its tenancy, followed
    up no more since, are anonymised (`count`: with the other housed cases)."""
    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow

    assert anonymise_closed_cases(session, utcnow() + timedelta(days=731), 730) == count
    session.commit()  # as a request's would: a refused request rolls back only its own writes


def test_no_checkpoint_is_recorded_for_an_anonymised_case(client, region, session):
    case = house(client, region, -100)
    _anonymise(session, case["id"])
    response = record(client, region.care_provider, case["id"], months=3)
    assert_problem(response, 409, "case_anonymised")
    assert checkpoints(client, region.care_provider, case["id"])[3]["recorded_on"] is None


def test_an_anonymised_cases_due_checkpoints_leave_the_agenda(client, region, session):
    case = house(client, region, -100)

    def due() -> list:
        entries = agenda(client, region, region.chair, iso(0))
        return [e for e in entries if e["kind"] == "checkpoint" and e["case_id"] == case["id"]]

    assert [e["months"] for e in due()] == [3]
    _anonymise(session, case["id"])
    assert due() == []


def test_an_anonymised_cases_tenancy_lists_no_checkpoint_as_due(client, region, session):
    """A checkpoint of an anonymised case is refused (409 case_anonymised), so the tenancy
    lists none it lacks as overdue or upcoming (it listed the 3-month one as overdue and the
    others as upcoming): they are `not_due`, in every view and in the table's list. One
    recorded before stays recorded."""
    case = house(client, region, -100)
    assert record(client, region.care_provider, case["id"], months=3).status_code == 201
    other = house(client, region, -200)
    _anonymise(session, case["id"], count=2)

    def states(org, case_id):
        return {m: c["state"] for m, c in checkpoints(client, org, case_id).items()}

    for org in (region.care_provider, region.chair, region.corporation):
        assert states(org, case["id"]) == {3: "recorded", 6: "not_due", 12: "not_due"}
        assert states(org, other["id"]) == {3: "not_due", 6: "not_due", 12: "not_due"}
    listed = client.get(f"/v1/tables/{region.table_id}/tenancies", headers=region.chair.headers)
    assert listed.status_code == 200, listed.text
    assert {c["state"] for t in listed.json()["items"] for c in t["checkpoints"]} == {
        "recorded",
        "not_due",
    }


def _signal_and_late_omklap(client, region) -> tuple[dict, dict]:
    """A case on an intermediate lease whose 3-month checkpoint raised rent arrears and whose
    omklap was planned two days ago, and the meeting in a week (not published)."""
    case = house(client, region, -100, "intermediate_lease")
    record(client, region.care_provider, case["id"], months=3, signals=["rent_arrears"])
    tenancy = f"/v1/cases/{case['id']}/tenancy"
    late = {"transfer_planned_on": iso(-2)}
    assert client.patch(tenancy, json=late, headers=region.care_provider.headers).status_code == 200
    return case, plan_meeting(client, region, iso(7))


def test_an_anonymised_cases_agenda_entries_suggest_no_action(client, region, session):
    """No action about an anonymised case is handed out (409 case_anonymised): its signal and
    overdue omklap stay on the agenda (the omklap may still be recorded) but suggest none,
    where they suggested a payment plan and planning the omklap."""
    case, meeting = _signal_and_late_omklap(client, region)

    def suggested(org) -> dict:
        entries = agenda(client, region, org, meeting["date"])
        return {e["kind"]: e.get("suggested_action_kind") for e in entries}

    before = suggested(region.chair)
    assert before == {"signal": "arrange_payment_plan", "transfer_overdue": "plan_lease_transfer"}
    _anonymise(session, case["id"])
    assert suggested(region.chair) == {"signal": None, "transfer_overdue": None}
    assert suggested(region.care_provider) == {"signal": None, "transfer_overdue": None}
    assert_problem(hand_out(client, region, before["signal"], case["id"]), 409, "case_anonymised")


def test_a_published_agenda_suggests_no_action_about_a_case_anonymised_since(
    client, region, session
):
    """Published with its suggestions, then retention anonymised the case before the meeting:
    the frozen agenda and the minutes (whose hand-out form the meeting page shows beside them)
    keep the entries but suggest no action, which would only be refused (409)."""
    case, meeting = _signal_and_late_omklap(client, region)
    publish(client, region, meeting)

    def suggested(part: str) -> dict:
        response = client.get(f"/v1/meetings/{meeting['id']}/{part}", headers=region.chair.headers)
        assert response.status_code == 200, response.text
        return {e["kind"]: e["suggested_action_kind"] for e in response.json()["aftercare"]}

    kinds = {"signal": "arrange_payment_plan", "transfer_overdue": "plan_lease_transfer"}
    assert suggested("agenda") == suggested("minutes") == kinds
    _anonymise(session, case["id"])
    nothing = {"signal": None, "transfer_overdue": None}
    assert suggested("agenda") == suggested("minutes") == nothing


def test_final_minutes_read_with_their_etag_show_a_suggestion_dropped_since(
    client, region, session
):
    """Final minutes answered the meeting's ETag whatever their aftercare section read, so
    once retention anonymised a case after the minutes were marked final, a client sending
    that ETag back (If-None-Match) got 304 and kept the suggestion no hand-out allows any
    more (409 case_anonymised). Reads that show the same document keep one ETag."""
    case, meeting = _signal_and_late_omklap(client, region)
    publish(client, region, meeting)
    url = f"/v1/meetings/{meeting['id']}/minutes"
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8), tick=True):
        final = client.post(f"{url}/final", headers=region.chair.headers)
    assert final.status_code == 200, final.text
    tag = final.headers["ETag"]
    again = client.get(url, headers=region.chair.headers)
    assert again.headers["ETag"] == tag and again.json() == final.json()
    assert client.get(url, headers=region.chair.headers | {"If-None-Match": tag}).status_code == 304
    _anonymise(session, case["id"])
    read = client.get(url, headers=region.chair.headers | {"If-None-Match": tag})
    assert read.status_code == 200, read.status_code
    assert {e["suggested_action_kind"] for e in read.json()["aftercare"]} == {None}
    assert read.headers["ETag"] != tag
    repeated = client.get(url, headers=region.chair.headers)
    assert repeated.headers["ETag"] == read.headers["ETag"] and repeated.json() == read.json()


def test_an_anonymised_cases_tenancy_read_with_its_etag_shows_no_checkpoint_due(
    client, region, session
):
    """Anonymisation makes the tenancy list the checkpoints it lacks as `not_due`, but moved its
    ETag only when it deleted an agreement or cleared open conditions: a client that sent the
    ETag it read before back (If-None-Match) got 304 and kept the 3-month checkpoint overdue,
    one it could only be refused (409 case_anonymised)."""
    case = house(client, region, -100)
    url = f"/v1/cases/{case['id']}/tenancy"
    before = client.get(url, headers=region.care_provider.headers)
    assert before.status_code == 200, before.text
    assert {c["months"]: c["state"] for c in before.json()["checkpoints"]}[3] == "overdue"
    _anonymise(session, case["id"])
    read = client.get(
        url, headers=region.care_provider.headers | {"If-None-Match": before.headers["ETag"]}
    )
    assert read.status_code == 200, read.status_code
    assert {c["state"] for c in read.json()["checkpoints"]} == {"not_due"}


def test_a_tenancy_read_with_its_etag_after_a_checkpoint_fell_due_shows_it_overdue(client, region):
    """The tenancy's checkpoints are upcoming, due or overdue as of today, but its ETag was the
    row's version: 40 days on, a client that sent the ETag it read back (If-None-Match) got 304
    and kept the 3-month checkpoint `upcoming` though it was overdue. A write takes the ETag
    its read answered as well as the version's; a copy that no longer reads so is a 412."""
    case = house(client, region, -80, "intermediate_lease")
    url = f"/v1/cases/{case['id']}/tenancy"
    provider = region.care_provider.headers
    before = client.get(url, headers=provider)
    assert before.status_code == 200, before.text
    assert {c["months"]: c["state"] for c in before.json()["checkpoints"]}[3] == "upcoming"
    tag = before.headers["ETag"]
    assert client.get(url, headers=provider | {"If-None-Match": tag}).status_code == 304
    planned = {"transfer_planned_on": iso(10)}
    with time_machine.travel(datetime.now(UTC) + timedelta(days=40), tick=True):
        read = client.get(url, headers=provider | {"If-None-Match": tag})
        assert read.status_code == 200, read.status_code
        assert {c["months"]: c["state"] for c in read.json()["checkpoints"]}[3] == "overdue"
        assert read.headers["ETag"] != tag
        again = client.get(url, headers=provider)
        assert (again.headers["ETag"], again.json()) == (read.headers["ETag"], read.json())
        stale = client.patch(url, json=planned, headers=provider | {"If-Match": tag})
        assert_problem(stale, 412)
        patched = client.patch(
            url, json=planned, headers=provider | {"If-Match": read.headers["ETag"]}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["transfer"]["planned_on"] == iso(10)
        assert patched.json()["version"] == read.json()["version"] + 1
        fresh = client.get(url, headers=provider | {"If-None-Match": patched.headers["ETag"]})
        assert fresh.status_code == 304, fresh.status_code
        by_version = {"If-Match": f'"{patched.json()["version"]}"'}
        ended = client.patch(
            url, json={"ended_on": iso(1), "end_reason": "moved_on"}, headers=provider | by_version
        )
        assert ended.status_code == 200, ended.text
