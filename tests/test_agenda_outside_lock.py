"""Computing an agenda never holds the database: another organisation's request completes while
the engine runs. The same holds for the other heavy computation, protecting a restricted
viewer's monitor figures (a fine monthly grid takes seconds of CPU; a tester saw `GET
/v1/cases` take 24 s behind one such request on SQLite).

The app runs on its own committed database (SQLite: one writer, serialised by a process lock;
PostgreSQL: no lock, but no transaction stays open either). The engine is wrapped so that, while
it computes, a cheap request of another organisation is sent from another thread; the test
asserts that this request has completed before the computation returns (ordering, not time). If
the agenda held the write lock, the other request could only finish after the agenda, and the
wrapper would give up waiting and the test fail.
"""

import threading
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from app.agenda import document as agenda_document
from app.agenda import inputs as agenda_inputs
from app.monitor import flows as monitor_flows
from tests.clock import iso
from tests.conftest import case_body, make_org, make_table, vacancy_body

pytestmark = pytest.mark.usefixtures("no_deadlocks")

GIVE_UP_SECONDS = 60  # a safety net against a hang, not a speed requirement


@pytest.fixture
def table(live_app):  # type: ignore[no-untyped-def]
    with TestClient(live_app) as client:
        chair = make_org(client, "municipality")
        provider = make_org(client, "care_provider")
        corporation = make_org(client, "housing_corporation")
        table_id = make_table(client, chair, [provider, corporation], ["GM0344"])
        for n in range(3):
            client.post(
                "/v1/cases",
                json=case_body(table_id, ready_since=iso(-400 + n)),
                headers=provider.headers,
            ).raise_for_status()
            client.post(
                "/v1/vacancies",
                json=vacancy_body(complex_ref=f"C{n}", available_from=iso(0)),
                headers=corporation.headers,
            ).raise_for_status()
        outsider = make_org(client, "care_provider")
    return SimpleNamespace(
        chair=chair,
        provider=provider,
        corporation=corporation,
        outsider=outsider,
        table_id=table_id,
    )


class OtherRequestDuringCompute:
    """Wraps the engine: while it runs, another organisation's cheap request is made and must
    complete before the engine's answer is returned."""

    def __init__(self, app, org) -> None:  # type: ignore[no-untyped-def]
        self.app, self.org = app, org
        self.completed_during_compute: list[bool] = []
        self.statuses: list[int] = []
        self.workers: list[threading.Thread] = []
        self.real = agenda_inputs.run_engine

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        done = threading.Event()

        def cheap_request() -> None:
            with TestClient(self.app) as other:
                self.statuses.append(other.get("/v1/limits", headers=self.org.headers).status_code)
            done.set()

        worker = threading.Thread(target=cheap_request, daemon=True)
        worker.start()
        self.workers.append(worker)  # joined after the agenda's answer: it may wait for it
        self.completed_during_compute.append(done.wait(GIVE_UP_SECONDS))
        return self.real(*args, **kwargs)

    def join(self) -> None:
        for worker in self.workers:
            worker.join()


def publish_meeting(client: TestClient, table: SimpleNamespace):  # type: ignore[no-untyped-def]
    meeting = client.post(
        f"/v1/tables/{table.table_id}/meetings", json={"date": iso(0)}, headers=table.chair.headers
    ).json()
    url = f"/v1/meetings/{meeting['id']}/publish"
    return url, client.post(url, headers=table.chair.headers)


def test_another_organisations_request_completes_while_an_agenda_is_computed(
    live_app, table, monkeypatch
):
    chair, table_id = table.chair, table.table_id
    probe = OtherRequestDuringCompute(live_app, table.outsider)
    monkeypatch.setattr(agenda_document, "run_engine", probe)
    with TestClient(live_app) as client:
        response = client.get(
            f"/v1/tables/{table_id}/agenda", params={"date": iso(0)}, headers=chair.headers
        )
    probe.join()
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["people_housed"] == 3
    assert probe.completed_during_compute == [True]
    assert probe.statuses == [200]


def test_publishing_computes_outside_the_lock_and_still_writes_its_proposals(
    live_app, table, monkeypatch
):
    probe = OtherRequestDuringCompute(live_app, table.outsider)
    monkeypatch.setattr(agenda_document, "run_engine", probe)
    with TestClient(live_app) as client:
        url, published = publish_meeting(client, table)
        assert published.status_code == 200, published.text
        assert published.json()["proposals"] == 3
        again = client.post(url, headers=table.chair.headers)
        assert again.status_code == 409
    probe.join()
    assert probe.completed_during_compute == [True]


class EngineWhileAMemberEdits:
    """Wraps the engine: before each computation, `edit(client, inputs, call)` makes another
    member's change through the API; records the number of (cases, vacancies) of each call."""

    def __init__(self, app, edit) -> None:  # type: ignore[no-untyped-def]
        self.app, self.edit = app, edit
        self.calls: list[tuple[int, int]] = []
        self.real = agenda_inputs.run_engine

    def __call__(self, inputs, usage, top_k, time_budget, reuse=False):  # type: ignore[no-untyped-def]
        self.calls.append((len(inputs.cases), len(inputs.vacancies)))
        with TestClient(self.app) as other:
            self.edit(other, inputs, len(self.calls))
        return self.real(inputs, usage, top_k, time_budget, reuse)


def test_a_publish_whose_inputs_change_while_it_computes_uses_the_new_inputs(
    live_app, table, monkeypatch
):
    def withdraw_a_dwelling_once(other, inputs, call):  # type: ignore[no-untyped-def]
        if call == 1:
            path = f"/v1/vacancies/{inputs.vacancies[0].id}"
            withdrawn = other.delete(path, headers=table.corporation.headers)
            assert withdrawn.status_code == 204, withdrawn.text

    engine = EngineWhileAMemberEdits(live_app, withdraw_a_dwelling_once)
    monkeypatch.setattr(agenda_document, "run_engine", engine)
    with TestClient(live_app) as client:
        _, published = publish_meeting(client, table)
    assert published.status_code == 200, published.text
    assert engine.calls == [(3, 3), (3, 2)]
    assert published.json()["proposals"] == 2


def test_a_publish_whose_inputs_keep_changing_gives_up_with_409_and_writes_nothing(
    live_app, table, monkeypatch
):
    def edit_a_case_every_time(other, inputs, call):  # type: ignore[no-untyped-def]
        path = f"/v1/cases/{inputs.cases[0].id}"
        edited = other.patch(path, json={"urgency": call % 2 == 1}, headers=table.provider.headers)
        assert edited.status_code == 200, edited.text

    engine = EngineWhileAMemberEdits(live_app, edit_a_case_every_time)
    monkeypatch.setattr(agenda_document, "run_engine", engine)
    with TestClient(live_app) as client:
        url, published = publish_meeting(client, table)
        meeting = client.get(url.removesuffix("/publish"), headers=table.chair.headers).json()
        made = client.get(
            f"/v1/tables/{table.table_id}/proposals", headers=table.chair.headers
        ).json()
    assert published.status_code == 409, published.text
    assert published.json()["code"] == "inputs_changed"
    assert published.headers["Retry-After"] == "1"  # a lost race, worth repeating
    assert engine.calls == [(3, 3)] * 3
    assert meeting["status"] == "draft" and meeting["proposals"] == 0
    assert made["items"] == []


def test_another_organisations_request_completes_while_monitor_figures_are_protected(
    live_app, table, monkeypatch
):
    probe = OtherRequestDuringCompute(live_app, table.outsider)
    probe.real = monitor_flows.cut
    monkeypatch.setattr(monitor_flows, "cut", probe)
    with TestClient(live_app) as client:
        response = client.get(
            f"/v1/tables/{table.table_id}/monitor",
            params={"period": "month"},  # a restricted viewer's default: this calendar year
            headers=table.corporation.headers,
        )
    probe.join()
    assert response.status_code == 200, response.text
    assert response.json()["suppression"] is True
    assert probe.completed_during_compute == [True]
    assert probe.statuses == [200]
