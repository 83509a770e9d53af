"""The stall sweep sends `proposal.stalled` when a proposal crosses its limit, without anyone
reading an agenda or the minutes; every replica may sweep, each stall still goes out once."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import Session, col, select

from app.agenda.stall_sweep import StallSweep
from app.webhooks.models import WebhookEvent
from tests.clock import START
from tests.test_stall_alerts import live_region  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("no_deadlocks")


def stalled_events(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(
            select(WebhookEvent).where(col(WebhookEvent.type) == "proposal.stalled")
        ).all()


def test_a_stall_is_announced_by_the_sweep_without_any_read(live_region):  # noqa: F811
    app, _ = live_region
    engine = app.state.engine
    sweep = StallSweep(engine, interval=60)
    with time_machine.travel(START + timedelta(days=7), tick=True):
        assert sweep.run_once() == 0  # seven days in `proposed` is the limit, not past it
    with time_machine.travel(START + timedelta(days=8), tick=True):
        assert sweep.run_once() == 2
        assert sweep.run_once() == 0  # once per crossing
    events = stalled_events(engine)
    assert len(events) == 2
    assert {e.data["status"] for e in events} == {"proposed"}
    assert {e.data["days_in_status"] for e in events} == {8}


def test_sweeps_of_two_replicas_at_once_send_each_stall_once(live_region):  # noqa: F811
    app, _ = live_region
    engine = app.state.engine
    sent: list[int] = []
    with time_machine.travel(START + timedelta(days=8), tick=True):
        sweeps = [StallSweep(engine, interval=60) for _ in range(2)]
        threads = [threading.Thread(target=lambda s=s: sent.append(s.run_once())) for s in sweeps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sum(sent) == 2
    assert len(stalled_events(engine)) == 2


@pytest.mark.settings(stall_sweep=True, stall_sweep_seconds=0.2)
def test_the_app_runs_the_sweep_when_it_is_switched_on(live_region):  # noqa: F811
    app, _ = live_region  # the app is running (its TestClient is open): so is its sweep
    engine = app.state.engine
    assert stalled_events(engine) == []  # nothing stalled yet on today's clock
    events = []
    with time_machine.travel(START + timedelta(days=8), tick=True):
        for _ in range(600):  # a bound on the wait, not a time limit on the sweep
            events = stalled_events(engine)
            if len(events) == 2:
                break
            time.sleep(0.1)
    assert len(events) == 2


def test_the_sweep_is_off_in_the_test_settings(settings):  # type: ignore[no-untyped-def]
    assert settings.stall_sweep is False
