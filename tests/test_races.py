"""Concurrent writers at the service level: each contender runs in its own thread with its own
session (its own connection and transaction), and no process lock is involved.

On PostgreSQL every contender first reads what it is about to change, then all are released
together, so the transactions really overlap and only the database (row locks, versions,
partial unique indexes) keeps them apart. SQLite lets one writer in at a time (BEGIN
IMMEDIATE); there the contenders are released together and queue on the database.

Every race asserts: no 5xx, no acknowledged write lost, no case or dwelling in two open
proposals. The two-server-process suite over HTTP lives elsewhere; these are the proofs at the
level where the invariants are kept.
"""

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.access_log.service import AccessContext
from app.actions import service as actions_service
from app.actions.models import Action, ActionCreate, ActionStatus, ActionUpdate
from app.auth import Principal
from app.cases import service as cases_service
from app.cases.models import Case, CaseCreate, CaseStatus, CaseUpdate
from app.meetings import service as meetings_service
from app.meetings.models import Meeting, MeetingStatus
from app.organisations.models import OrganisationKind
from app.problems import ProblemError
from app.proposals import service as proposals_service
from app.proposals.models import (
    OPEN_PROPOSAL,
    DecisionCreate,
    Proposal,
    ProposalDecision,
    ProposalStatus,
)
from app.settings import Settings
from app.tables import service as tables_service
from app.tables.models import OutflowTable, TableMunicipality, TableUpdate
from app.transient import ANSWERS, RERUN, classify
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy, VacancyIn, VacancyStatus
from app.webhooks import service as webhooks_service
from app.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEvent,
)
from tests.clock import iso
from tests.conftest import OPERATOR, Org, case_body, make_org, make_table, vacancy_body
from tests.locks import (
    commit_after_it_waits,
    takes_the_next_while_it_waits,
    wait_until_a_session_waits_for_a_lock,
)

pytestmark = pytest.mark.usefixtures("no_deadlocks")

SERVER_ERROR = 500


# --- the harness ----------------------------------------------------------------------------


@dataclass
class Contender:
    """`read` loads what the writer will change (no locks); `write` changes it."""

    read: Callable[[Session], Any]
    write: Callable[[Session, Any], Any]


@dataclass
class Outcome:
    status: int
    error: BaseException | None = None


def race(engine: Engine, *contenders: Contender, attempts: int = 4) -> list[Outcome]:
    """Run the contenders at once, each in its own thread and session; commit what succeeds.

    A contender that lost a race the service leaves to `app.transient` (a stale version, a
    unique key inserted first, a deadlock) runs again in a new session, as the middleware runs
    the request again, up to `attempts` times; then it gets the middleware's answer.
    Returns per contender 200, the status of the ProblemError it raised, or 500 for anything
    else (with the exception)."""
    start = threading.Barrier(len(contenders))
    # SQLite: the first statement takes the write lock, so the others cannot read until it
    # commits; waiting for them to have read would deadlock.
    overlap = threading.Barrier(len(contenders)) if engine.dialect.name != "sqlite" else None
    outcomes: list[Outcome | None] = [None] * len(contenders)

    def attempt(contender: Contender, first: bool, last: bool) -> Outcome | None:
        """One run; None when it lost a race that the middleware would run again."""
        with Session(engine, expire_on_commit=False) as session:
            try:
                if first:
                    start.wait(timeout=60)
                loaded = contender.read(session)
                if first and overlap is not None:
                    overlap.wait(timeout=60)
                contender.write(session, loaded)
                session.commit()
                return Outcome(200)
            except ProblemError as exc:
                session.rollback()
                return Outcome(exc.status, exc)
            except Exception as exc:
                session.rollback()
                failure = classify(exc)
                if failure in RERUN:
                    return Outcome(ANSWERS[failure].status, exc) if last else None
                return Outcome(SERVER_ERROR, exc)  # a 500 in the API

    def run(index: int, contender: Contender) -> None:
        for number in range(attempts):
            outcome = attempt(contender, first=number == 0, last=number == attempts - 1)
            if outcome is not None:
                outcomes[index] = outcome
                return

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(o is not None for o in outcomes), "a contender did not finish"
    done = [o for o in outcomes if o is not None]
    assert not [o for o in done if o.status >= 500], [repr(o.error) for o in done]
    return done


def statuses(outcomes: list[Outcome]) -> list[int]:
    return sorted(o.status for o in outcomes)


# --- a region on a committed database ------------------------------------------------------


@dataclass
class World:
    client: TestClient
    engine: Engine
    settings: Settings
    table_id: str
    chair: Org
    care_provider: Org
    corporation: Org
    cases: list[str] = field(default_factory=list)
    vacancies: list[str] = field(default_factory=list)

    def context(self, org: Org) -> AccessContext:
        principal = Principal(
            is_operator=False,
            organisation_id=uuid.UUID(org.id),
            organisation_kind=OrganisationKind(org.kind),
        )
        return AccessContext(principal=principal, endpoint="race")

    def add_pairs(self, count: int) -> None:
        """`count` cases and dwellings that all fit each other (each dwelling its own complex)."""
        for _ in range(count):
            case = self.client.post(
                "/v1/cases",
                json=case_body(
                    self.table_id,
                    ready_since=iso(-400),
                    registration_date=iso(-1200),
                    beschikking={"status": "granted", "valid_until": iso(400)},
                ),
                headers=self.care_provider.headers,
            )
            assert case.status_code == 201, case.text
            self.cases.append(case.json()["id"])
            vacancy = self.client.post(
                "/v1/vacancies",
                json=vacancy_body(
                    complex_ref=f"C-{uuid.uuid4().hex[:8]}",
                    available_from=iso(-1),
                    respond_before=None,
                ),
                headers=self.corporation.headers,
            )
            assert vacancy.status_code == 201, vacancy.text
            self.vacancies.append(vacancy.json()["id"])

    def schedule(self, days_ago: int) -> str:
        response = self.client.post(
            f"/v1/tables/{self.table_id}/meetings",
            json={"date": iso(-days_ago)},
            headers=self.chair.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def publish(self, meeting_id: str) -> list[str]:
        response = self.client.post(
            f"/v1/meetings/{meeting_id}/publish", headers=self.chair.headers
        )
        assert response.status_code == 200, response.text
        listed = self.client.get(
            f"/v1/tables/{self.table_id}/proposals",
            params={"meetingId": meeting_id},
            headers=self.chair.headers,
        )
        return [p["id"] for p in listed.json()["items"]]

    def one_proposal(self, days_ago: int) -> tuple[str, str, str]:
        """A fresh case and dwelling, and the one proposal of a meeting `days_ago`; returns the
        ids of the proposal, its case and its dwelling."""
        self.add_pairs(1)
        [proposal_id] = self.publish(self.schedule(days_ago))
        proposal = self.client.get(f"/v1/proposals/{proposal_id}", headers=self.chair.headers)
        return proposal_id, proposal.json()["case_id"], proposal.json()["vacancy_id"]


@pytest.fixture
def world(live_app) -> Iterator[World]:  # type: ignore[no-untyped-def]
    with TestClient(live_app) as client:
        chair = make_org(client, "municipality")
        care_provider = make_org(client, "care_provider")
        corporation = make_org(client, "housing_corporation")
        table_id = make_table(client, chair, [care_provider, corporation], ["GM0344"])
        yield World(
            client,
            live_app.state.engine,
            live_app.state.settings,
            table_id,
            chair,
            care_provider,
            corporation,
        )


# --- what must hold after every race -------------------------------------------------------


def assert_one_open_proposal_per_case_and_dwelling(engine: Engine) -> None:
    with Session(engine) as session:
        open_rows = session.exec(
            select(Proposal.case_id, Proposal.vacancy_id).where(
                Proposal.status.in_(OPEN_PROPOSAL)  # type: ignore[attr-defined]
            )
        ).all()
    assert max(Counter(c for c, _ in open_rows).values(), default=0) <= 1
    assert max(Counter(v for _, v in open_rows).values(), default=0) <= 1


def assert_parties_follow_their_proposal(engine: Engine, proposal_id: str) -> None:
    """An open proposal holds a proposed (or nominated) case and a proposed dwelling; a closed
    one holds neither."""
    with Session(engine) as session:
        proposal = session.get_one(Proposal, uuid.UUID(proposal_id))
        case = session.get_one(Case, proposal.case_id)
        vacancy = session.get_one(Vacancy, proposal.vacancy_id)
        holding = case.status in (CaseStatus.proposed, CaseStatus.nominated)
        assert holding == (proposal.status in OPEN_PROPOSAL), (proposal.status, case.status)
        proposed = vacancy.status == VacancyStatus.proposed
        assert proposed == (proposal.status in OPEN_PROPOSAL), (proposal.status, vacancy.status)


def _count(engine: Engine, statement: Any) -> int:
    with Session(engine) as session:
        return session.exec(statement).one()


# --- the races ------------------------------------------------------------------------------


def test_two_publishes_of_one_meeting_make_one_agenda_and_one_event(world):
    world.add_pairs(3)
    meeting_id = uuid.UUID(world.schedule(7))
    chair = world.context(world.chair)

    def read(session: Session) -> Any:
        return meetings_service.get_meeting(session, chair, meeting_id)

    def write(session: Session, loaded: Any) -> None:
        meeting, table = loaded
        meetings_service.publish(
            session, chair, meeting, table, None, world.settings.solver_time_budget_seconds
        )

    outcomes = race(world.engine, Contender(read, write), Contender(read, write))

    assert statuses(outcomes) == [200, 409]
    assert {o.error.code for o in outcomes if o.error} == {"already_published"}  # type: ignore[attr-defined]
    assert_one_open_proposal_per_case_and_dwelling(world.engine)
    proposals = select(func.count()).where(Proposal.meeting_id == meeting_id)
    assert _count(world.engine, proposals) == 3
    events = (
        select(func.count())
        .select_from(WebhookEvent)
        .where(WebhookEvent.type == "agenda.published")
    )
    assert _count(world.engine, events) == 1


def test_two_publishes_of_two_meetings_never_propose_a_case_twice(world):
    world.add_pairs(3)
    meetings = [uuid.UUID(world.schedule(7)), uuid.UUID(world.schedule(6))]
    chair = world.context(world.chair)

    def contender(meeting_id: uuid.UUID) -> Contender:
        return Contender(
            lambda session: meetings_service.get_meeting(session, chair, meeting_id),
            lambda session, loaded: meetings_service.publish(
                session, chair, *loaded, None, world.settings.solver_time_budget_seconds
            ),
        )

    outcomes = race(world.engine, *(contender(m) for m in meetings))

    assert set(statuses(outcomes)) <= {200, 409}
    assert_one_open_proposal_per_case_and_dwelling(world.engine)
    with Session(world.engine) as session:
        published = session.exec(
            select(Meeting).where(Meeting.status == MeetingStatus.published)  # type: ignore[arg-type]
        ).all()
        proposed = session.exec(
            select(Case).where(Case.status == CaseStatus.proposed)  # type: ignore[arg-type]
        ).all()
    assert len(published) == statuses(outcomes).count(200)
    assert len(proposed) == 3  # every case once, by whichever publish came first


def _patch_case(world: World, body: dict[str, Any], if_match: str | None) -> Contender:
    provider = world.context(world.care_provider)
    case_id = uuid.UUID(world.cases[0])
    patch = CaseUpdate.model_validate(body)  # type: ignore[attr-defined]
    return Contender(
        lambda session: cases_service.get_case(session, provider, case_id, None),
        lambda session, case: cases_service.update_case(session, provider, case, patch, if_match),
    )


def test_two_case_patches_with_one_if_match_give_one_200_and_one_412(world):
    world.add_pairs(1)
    outcomes = race(
        world.engine,
        _patch_case(world, {"urgency": True}, '"1"'),
        _patch_case(world, {"needs": {"pets": True}}, '"1"'),
    )

    assert statuses(outcomes) == [200, 412]
    with Session(world.engine) as session:
        case = session.get_one(Case, uuid.UUID(world.cases[0]))
    assert case.version == 2
    winner = 0 if outcomes[0].status == 200 else 1
    assert (case.urgency, case.needs_pets) == ((True, False) if winner == 0 else (False, True))


def test_two_case_patches_without_if_match_both_land(world):
    world.add_pairs(1)
    outcomes = race(
        world.engine,
        _patch_case(world, {"urgency": True}, None),
        _patch_case(world, {"needs": {"pets": True}}, None),
    )

    assert statuses(outcomes) == [200, 200]
    with Session(world.engine) as session:
        case = session.get_one(Case, uuid.UUID(world.cases[0]))
    assert (case.urgency, case.needs_pets, case.version) == (True, True, 3)


def _if_match_race(world: World, target: str) -> tuple[list[Outcome], int]:
    """Two writers with the same If-Match on a table, an action or a webhook endpoint; returns
    the outcomes and the version afterwards."""
    chair = world.context(world.chair)
    if target == "table":
        table_id = uuid.UUID(world.table_id)

        def read(session: Session) -> Any:
            return tables_service.get_table(session, chair.principal, table_id)

        def writer(days: int) -> Callable[[Session, Any], Any]:
            data = TableUpdate.model_validate({"policy": {"horizon_days": days}})
            return lambda session, table: tables_service.update_table(
                session, chair.principal, table, data, '"1"'
            )

        writers = [writer(30), writer(40)]
        model: type = OutflowTable
        row_id = table_id
    elif target == "action":
        response = world.client.post(
            f"/v1/tables/{world.table_id}/actions",
            json={"kind": "other", "owner_organisation_id": world.chair.id, "due_date": iso(7)},
            headers=world.chair.headers,
        )
        assert response.status_code == 201, response.text
        row_id = uuid.UUID(response.json()["id"])

        def read(session: Session) -> Any:
            return actions_service.get_action(session, chair, row_id)

        def writer(body: dict[str, Any]) -> Callable[[Session, Any], Any]:
            data = ActionUpdate.model_validate(body)
            return lambda session, loaded: actions_service.update_action(
                session, chair, loaded[1], loaded[0], data, '"1"'
            )

        writers = [writer({"status": "done"}), writer({"due_date": iso(14)})]
        model = Action
    else:
        response = world.client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.example.org/in", "events": ["agenda.published"]},
            headers=world.chair.headers,
        )
        assert response.status_code == 201, response.text
        row_id = uuid.UUID(response.json()["id"])

        def read(session: Session) -> Any:
            return webhooks_service.get_endpoint(session, chair.principal, row_id)

        def writer(description: str) -> Callable[[Session, Any], Any]:
            data = WebhookEndpointUpdate.model_validate({"description": description})
            return lambda session, endpoint: webhooks_service.update_endpoint(
                session, endpoint, data, '"1"', allow_private_targets=False
            )

        writers = [writer("first"), writer("second")]
        model = WebhookEndpoint
    outcomes = race(world.engine, *(Contender(read, w) for w in writers))
    with Session(world.engine) as session:
        version = session.get_one(model, row_id).version
    return outcomes, version


@pytest.mark.parametrize("target", ["table", "action", "webhook endpoint"])
def test_two_updates_with_one_if_match_give_one_200_and_one_412(world, target):
    outcomes, version = _if_match_race(world, target)
    assert statuses(outcomes) == [200, 412]
    assert version == 2


def _decision(world: World, org: Org, proposal_id: str, body: dict[str, Any]) -> Contender:
    context = world.context(org)
    data = DecisionCreate.model_validate(body)

    def write(session: Session, loaded: Any) -> None:
        proposal, table, role = loaded
        proposals_service.decide(session, context, proposal, table, role, data, None)

    return Contender(
        lambda session: proposals_service.get_proposal(session, context, uuid.UUID(proposal_id)),
        write,
    )


def test_two_decisions_on_one_proposal_one_wins(world):
    proposal_id, _, _ = world.one_proposal(7)
    outcomes = race(
        world.engine,
        _decision(
            world,
            world.care_provider,
            proposal_id,
            {"decision": "client_decline", "reason": "location"},
        ),
        _decision(
            world,
            world.corporation,
            proposal_id,
            {"decision": "corporation_decline", "reason": "other"},
        ),
    )

    assert statuses(outcomes) == [200, 409]
    decisions = select(func.count()).where(ProposalDecision.proposal_id == uuid.UUID(proposal_id))
    assert _count(world.engine, decisions) == 1
    assert_parties_follow_their_proposal(world.engine, proposal_id)


def _set_status(world: World, case_id: str, status: str, reason: str) -> Contender:
    """The care provider puts the case on hold or withdraws it."""
    provider = world.context(world.care_provider)
    patch = CaseUpdate.model_validate({"status": status, "status_reason": reason})  # type: ignore[attr-defined]
    return Contender(
        lambda session: cases_service.get_case(session, provider, uuid.UUID(case_id), None),
        lambda session, case: cases_service.update_case(session, provider, case, patch, None),
    )


def _withdraw_dwelling(world: World, vacancy_id: str) -> Contender:
    corporation = world.context(world.corporation)
    return Contender(
        lambda session: vacancies_service.get_vacancy(
            session, corporation.principal, uuid.UUID(vacancy_id)
        ),
        lambda session, vacancy: vacancies_service.withdraw_vacancy(session, corporation, vacancy),
    )


ROUNDS = 3


@pytest.mark.parametrize("decision", ["nominate", "withdraw"])
def test_a_decision_racing_a_hold_and_a_dwelling_withdrawal(world, decision):
    body = {"decision": decision} | ({"reason": "table_decision"} if decision == "withdraw" else {})
    for round_ in range(ROUNDS):
        proposal_id, case_id, vacancy_id = world.one_proposal(7 + round_)
        hold, decide, withdraw = race(
            world.engine,
            _set_status(world, case_id, "on_hold", "client_request"),
            _decision(world, world.chair, proposal_id, body),
            _withdraw_dwelling(world, vacancy_id),
        )

        assert hold.status == 200 and withdraw.status == 200  # the care provider and the
        assert decide.status in (200, 409)  # corporation act on their own rows; the chair may
        with Session(world.engine) as session:  # find the proposal closed by them
            case = session.get_one(Case, uuid.UUID(case_id))
            vacancy = session.get_one(Vacancy, uuid.UUID(vacancy_id))
            proposal = session.get_one(Proposal, uuid.UUID(proposal_id))
            recorded = session.exec(
                select(ProposalDecision.decision, ProposalDecision.reason).where(
                    ProposalDecision.proposal_id == proposal.id
                )
            ).all()
        assert case.status == CaseStatus.on_hold
        assert vacancy.status == VacancyStatus.withdrawn
        assert proposal.status == ProposalStatus.withdrawn
        chairs_decision = (decision, body.get("reason"))
        assert (chairs_decision in [(str(d), r) for d, r in recorded]) == (decide.status == 200)
        assert_parties_follow_their_proposal(world.engine, proposal_id)
    assert_one_open_proposal_per_case_and_dwelling(world.engine)


def test_a_decline_racing_a_case_withdrawal(world):
    for round_ in range(ROUNDS):
        proposal_id, case_id, vacancy_id = world.one_proposal(7 + round_)
        decline, withdrawal = race(
            world.engine,
            _decision(
                world,
                world.corporation,
                proposal_id,
                {"decision": "corporation_decline", "reason": "dwelling_unavailable"},
            ),
            _set_status(world, case_id, "withdrawn", "own_solution"),
        )

        assert withdrawal.status == 200
        assert decline.status in (200, 409)
        with Session(world.engine) as session:
            case = session.get_one(Case, uuid.UUID(case_id))
            vacancy = session.get_one(Vacancy, uuid.UUID(vacancy_id))
        assert case.status == CaseStatus.withdrawn
        # The corporation's "no longer available" stands only if it was acknowledged.
        gone = VacancyStatus.withdrawn if decline.status == 200 else VacancyStatus.available
        assert vacancy.status == gone
        assert_parties_follow_their_proposal(world.engine, proposal_id)


@pytest.mark.parametrize("shared", ["case_id", "vacancy_id"])
def test_the_database_refuses_a_second_open_proposal(world, shared):
    """Two writers that bypass every check still cannot open two proposals for one case (or
    one dwelling): the partial unique index refuses the second."""
    world.add_pairs(2)
    meeting_id = uuid.UUID(world.schedule(7))

    def insert(index: int) -> Contender:
        def write(session: Session, _: Any) -> None:
            case_id = uuid.UUID(world.cases[0 if shared == "case_id" else index])
            vacancy_id = uuid.UUID(world.vacancies[0 if shared == "vacancy_id" else index])
            session.add(
                Proposal(
                    meeting_id=meeting_id,
                    table_id=uuid.UUID(world.table_id),
                    case_id=case_id,
                    vacancy_id=vacancy_id,
                    care_provider_id=uuid.UUID(world.care_provider.id),
                    corporation_id=uuid.UUID(world.corporation.id),
                    complex_key=f"k{index}",
                    neighbourhood_code="BU03440101",
                    contingent=True,
                    score=1.0,
                )
            )
            try:
                session.flush()
            except IntegrityError as exc:
                raise ProblemError("refused", code="unique_violation") from exc

        return Contender(lambda session: None, write)

    outcomes = race(world.engine, insert(0), insert(1))

    assert statuses(outcomes) == [200, 400]
    assert_one_open_proposal_per_case_and_dwelling(world.engine)


def test_a_re_push_racing_a_decline_leaves_no_dwelling_proposed_without_a_proposal(world):
    """The corporation re-pushes a proposed dwelling's data while its proposal is declined as
    unavailable. The push read `proposed`; writing that back after the decline would leave a
    dwelling proposed by no proposal, never matched again."""
    proposal_id, _, vacancy_id = world.one_proposal(7)
    current = world.client.get(f"/v1/vacancies/{vacancy_id}", headers=world.corporation.headers)
    pushed = VacancyIn.model_validate(
        {k: v for k, v in current.json().items() if k in VacancyIn.model_fields} | {"rooms": 3}
    )
    corporation = world.context(world.corporation)

    def decline(decider: Session) -> None:
        loaded = proposals_service.get_proposal(decider, corporation, uuid.UUID(proposal_id))
        decision = DecisionCreate.model_validate(
            {"decision": "corporation_decline", "reason": "dwelling_unavailable"}
        )
        proposals_service.decide(decider, corporation, *loaded, decision, None)  # holds the row

    outcome = _write_while_held(
        world.engine,
        decline,
        lambda s: vacancies_service.upsert_vacancies(
            s, corporation.principal, [pushed], batch=False
        ),
    )

    assert [o.status for o in outcome] == [200], [repr(o.error) for o in outcome]
    assert_parties_follow_their_proposal(world.engine, proposal_id)
    with Session(world.engine) as session:
        vacancy = session.get_one(Vacancy, uuid.UUID(vacancy_id))
    assert (vacancy.rooms, vacancy.status) == (3, VacancyStatus.available)  # pushed: on offer


def _write_while_held(
    engine: Engine, hold: Callable[[Session], Any], write: Callable[[Session], Any]
) -> list[Outcome]:
    """`hold` runs and keeps its transaction open while `write` runs in another thread (on
    PostgreSQL until it waits for one of `hold`'s locks); then `hold` commits. Returns what
    `write` answered: 200, its ProblemError's status, or 500."""
    outcome: list[Outcome] = []

    def run() -> None:
        with Session(engine) as session:
            try:
                write(session)
                session.commit()
                outcome.append(Outcome(200))
            except ProblemError as exc:
                outcome.append(Outcome(exc.status, exc))
            except BaseException as exc:
                outcome.append(Outcome(SERVER_ERROR, exc))

    commit_after_it_waits(engine, hold, run)
    return outcome


# --- a webhook endpoint deleted while an event is queued for it ----------------------------


def _endpoint_and_proposal(world: World) -> tuple[uuid.UUID, str]:
    """The chair's endpoint for `proposal.decided`, and a proposal the chair can nominate."""
    proposal_id, _, _ = world.one_proposal(7)
    response = world.client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.org/in", "events": ["proposal.decided"]},
        headers=world.chair.headers,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"]), proposal_id


def _nominate(world: World, proposal_id: str) -> Callable[[Session], Any]:
    chair = world.context(world.chair)
    data = DecisionCreate.model_validate({"decision": "nominate"})

    def nominate(session: Session) -> None:
        loaded = proposals_service.get_proposal(session, chair, uuid.UUID(proposal_id))
        proposals_service.decide(session, chair, *loaded, data, None)

    return nominate


def _delete_endpoint(world: World, endpoint_id: uuid.UUID) -> Callable[[Session], Any]:
    principal = world.context(world.chair).principal

    def delete(session: Session) -> None:
        endpoint = webhooks_service.get_endpoint(session, principal, endpoint_id)
        webhooks_service.delete_endpoint(session, endpoint)

    return delete


def _deliveries_to(engine: Engine, endpoint_id: uuid.UUID) -> int:
    statement = select(func.count()).where(WebhookDelivery.endpoint_id == endpoint_id)
    return _count(engine, statement)


def test_a_decision_while_its_receivers_endpoint_is_deleted_answers_no_server_error(world):
    """The decision read the endpoint before its deletion committed and queued a delivery for
    it: the foreign key refused the insert, a 500 (two servers: 5 of 80 decisions while the
    chair deleted endpoints). The delivery now waits for the deletion and is not queued."""
    endpoint_id, proposal_id = _endpoint_and_proposal(world)

    outcome = _write_while_held(
        world.engine, _delete_endpoint(world, endpoint_id), _nominate(world, proposal_id)
    )

    assert [o.status for o in outcome] == [200], [repr(o.error) for o in outcome]
    assert _deliveries_to(world.engine, endpoint_id) == 0


def test_an_endpoint_deleted_while_a_decision_queues_a_delivery_to_it_answers_no_server_error(
    world,
):
    """The deletion removed the endpoint's deliveries before the decision's one committed, then
    the endpoint itself: the foreign key refused it, a 500. It now waits for the decision and
    removes its delivery too."""
    endpoint_id, proposal_id = _endpoint_and_proposal(world)

    outcome = _write_while_held(
        world.engine, _nominate(world, proposal_id), _delete_endpoint(world, endpoint_id)
    )

    assert [o.status for o in outcome] == [200], [repr(o.error) for o in outcome]
    assert _deliveries_to(world.engine, endpoint_id) == 0
    with Session(world.engine) as session:
        assert session.get(WebhookEndpoint, endpoint_id) is None
        assert session.get_one(Proposal, uuid.UUID(proposal_id)).status == "nominated"


def _register_endpoint(world: World) -> Callable[[Session], Any]:
    principal = world.context(world.chair).principal
    data = WebhookEndpointCreate.model_validate(
        {"url": "https://hooks.example.org/in", "events": ["agenda.published"]}
    )

    def register(session: Session) -> None:
        webhooks_service.create_endpoint(session, principal, data, allow_private_targets=False)

    return register


def test_two_endpoints_registered_at_once_never_pass_the_organisations_limit(world):
    """With one endpoint left under the limit, a registration committed after another one's
    count: both counted one short of the limit and the organisation ended with one endpoint
    over it (PostgreSQL). The second now waits for the first and is refused."""
    for _ in range(webhooks_service.MAX_ENDPOINTS_PER_ORGANISATION - 1):
        response = world.client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.example.org/in", "events": ["agenda.published"]},
            headers=world.chair.headers,
        )
        assert response.status_code == 201, response.text

    outcome = _write_while_held(world.engine, _register_endpoint(world), _register_endpoint(world))

    assert [o.status for o in outcome] == [409], [repr(o.error) for o in outcome]
    registered = select(func.count()).where(
        WebhookEndpoint.organisation_id == uuid.UUID(world.chair.id)
    )
    assert _count(world.engine, registered) == webhooks_service.MAX_ENDPOINTS_PER_ORGANISATION


# --- leaving a table while registering there ------------------------------------------------


def _leave_while(world: World, leaver: Org, register: Callable[[Session], Any]) -> list[Outcome]:
    """The operator takes `leaver` off the table (the change holds its locks, uncommitted) while
    `register` puts a file of `leaver` at the table; returns what `register` answered."""
    members = (world.chair, world.care_provider, world.corporation)
    stays = [uuid.UUID(org.id) for org in members if org is not leaver]

    def leave(remover: Session) -> None:
        table = remover.get_one(OutflowTable, uuid.UUID(world.table_id))
        change = TableUpdate(member_organisation_ids=stays)
        tables_service.update_table(remover, Principal(is_operator=True), table, change, None)

    return _write_while_held(world.engine, leave, register)


def _handing_out(world: World) -> Callable[[Session], Any]:
    body = ActionCreate.model_validate(
        {"kind": "other", "owner_organisation_id": world.corporation.id, "due_date": iso(14)}
    )
    chair = world.context(world.chair)

    def hand_out(session: Session) -> Any:
        table = session.get_one(OutflowTable, uuid.UUID(world.table_id))
        return actions_service.create_action(session, chair, table, body)

    return hand_out


def _registering_a_case(world: World) -> Callable[[Session], Any]:
    body = CaseCreate.model_validate(case_body(world.table_id))
    provider = world.context(world.care_provider)
    return lambda s: cases_service.create_case(s, provider, body)


def _pushing_a_dwelling(world: World) -> Callable[[Session], Any]:
    pushed = VacancyIn.model_validate(vacancy_body("GM0344"))
    corporation = world.context(world.corporation).principal
    return lambda s: vacancies_service.upsert_vacancies(s, corporation, [pushed], batch=False)


def test_a_case_registered_while_its_care_provider_leaves_the_table_is_refused(world):
    """The removal found no open file of the provider; a registration that had read the
    membership before the removal committed inserted after it, and left an open case of an
    organisation no longer at the table on its agenda."""
    outcome = _leave_while(world, world.care_provider, _registering_a_case(world))

    assert [o.status for o in outcome] == [400], [repr(o.error) for o in outcome]
    assert _count(world.engine, select(func.count()).select_from(Case)) == 0


def test_a_dwelling_pushed_while_its_corporation_leaves_the_table_is_refused(world):
    """As for a case: the push read the membership before the removal committed."""
    outcome = _leave_while(world, world.corporation, _pushing_a_dwelling(world))

    assert [o.status for o in outcome] == [400], [repr(o.error) for o in outcome]
    assert _count(world.engine, select(func.count()).select_from(Vacancy)) == 0


def test_a_dwelling_pushed_while_its_municipality_leaves_the_table_is_refused(world):
    """The push read the table's municipality before the operator's change committed, and put
    an available dwelling at the table in a municipality no longer the table's, which the
    change had counted none in (409 `municipality_has_open_dwellings`)."""
    url = f"/v1/tables/{world.table_id}"
    body = {"municipality_codes": ["GM0307", "GM0344"]}
    added = world.client.patch(url, json=body, headers=OPERATOR)
    assert added.status_code == 200, added.text
    pushed = VacancyIn.model_validate(vacancy_body("GM0307"))
    corporation = world.context(world.corporation).principal

    def give_up(remover: Session) -> None:
        table = remover.get_one(OutflowTable, uuid.UUID(world.table_id))
        change = TableUpdate(municipality_codes=["GM0344"])
        tables_service.update_table(remover, Principal(is_operator=True), table, change, None)

    outcome = _write_while_held(
        world.engine,
        give_up,
        lambda s: vacancies_service.upsert_vacancies(s, corporation, [pushed], batch=False),
    )

    assert [o.status for o in outcome] == [400], [repr(o.error) for o in outcome]
    assert _count(world.engine, select(func.count()).select_from(Vacancy)) == 0


def test_an_action_handed_out_while_its_owner_leaves_the_table_is_refused(world):
    """As for a case: the action read the membership before the removal committed, and left an
    open action of an organisation no longer at the table on its agenda."""
    outcome = _leave_while(world, world.corporation, _handing_out(world))

    assert [o.status for o in outcome] == [400], [repr(o.error) for o in outcome]
    assert _count(world.engine, select(func.count()).select_from(Action)) == 0


def test_an_action_reopened_while_its_owner_leaves_the_table_is_refused(world):
    """The owner closed its action and leaves; the chair's reopening read the membership
    before the removal committed."""
    chair = world.context(world.chair)
    created = world.client.post(
        f"/v1/tables/{world.table_id}/actions",
        json={"kind": "other", "owner_organisation_id": world.corporation.id, "due_date": iso(14)},
        headers=world.chair.headers,
    ).json()
    done = world.client.patch(
        f"/v1/actions/{created['id']}", json={"status": "done"}, headers=world.corporation.headers
    )
    assert done.status_code == 200, done.text

    def reopen(session: Session) -> None:
        table = session.get_one(OutflowTable, uuid.UUID(world.table_id))
        action = session.get_one(Action, uuid.UUID(created["id"]))
        actions_service.update_action(
            session, chair, table, action, ActionUpdate(status=ActionStatus.open), None
        )

    outcome = _leave_while(world, world.corporation, reopen)

    assert [o.status for o in outcome] == [409], [repr(o.error) for o in outcome]
    with Session(world.engine) as session:
        assert session.get_one(Action, uuid.UUID(created["id"])).status == ActionStatus.done


def _is_deadlock(error: BaseException | None) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "40P01"


def _register_while_leaving(
    world: World, monkeypatch, leaver: Org, register: Callable[[Session], Any]
) -> tuple[Outcome, Outcome]:
    """The operator takes `leaver` off the table; once the change holds the table's row, and
    before it deletes the membership rows, `register` puts a file of `leaver` at the table (on
    PostgreSQL the change goes on when the registration waits for a lock or has committed).
    Returns what the change and the registration answered, each run once."""
    members = (world.chair, world.care_provider, world.corporation)
    stays = [uuid.UUID(org.id) for org in members if org is not leaver]
    table_locked = threading.Event()
    registered: list[Outcome] = []

    def run_registration() -> None:
        assert table_locked.wait(timeout=60)
        registered.append(_run_once(world.engine, register))

    registrant = threading.Thread(target=run_registration)
    set_members = tables_service._set_members

    def after_registering(session: Session, *args: Any) -> None:
        table_locked.set()
        wait_until_a_session_waits_for_a_lock(session, registrant)
        set_members(session, *args)

    monkeypatch.setattr(tables_service, "_set_members", after_registering)

    def leave(remover: Session) -> None:
        table = remover.get_one(OutflowTable, uuid.UUID(world.table_id))
        change = TableUpdate(member_organisation_ids=stays)
        tables_service.update_table(remover, Principal(is_operator=True), table, change, None)

    registrant.start()
    left = _run_once(world.engine, leave)
    registrant.join(timeout=120)
    return left, registered[0]


def _run_once(engine: Engine, write: Callable[[Session], Any]) -> Outcome:
    with Session(engine) as session:
        try:
            write(session)
            session.commit()
            return Outcome(200)
        except ProblemError as exc:
            return Outcome(exc.status, exc)
        except Exception as exc:
            return Outcome(SERVER_ERROR, exc)


@pytest.mark.parametrize(
    ("leaver", "register", "files"),
    [
        ("care_provider", _registering_a_case, Case),
        ("corporation", _pushing_a_dwelling, Vacancy),
        ("corporation", _handing_out, Action),
    ],
)
def test_a_file_registered_while_its_organisation_leaves_the_table_does_not_deadlock(
    world, monkeypatch, leaver, register, files
):
    """Taking an organisation off the table locked the table's row (FOR UPDATE), then deleted
    the membership rows. A registration that began in between held its membership row (FOR
    KEY SHARE) and then waited, for its foreign key, for the table's row, while the DELETE
    waited for it: a deadlock, which PostgreSQL ended by aborting one of the two (the API ran
    it again). The table's row is locked FOR NO KEY UPDATE now, which a foreign key does not
    wait for: the registration commits, and the removal counts its file and is refused."""
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")

    left, registered = _register_while_leaving(
        world, monkeypatch, getattr(world, leaver), register(world)
    )

    outcomes = [left, registered]
    assert not [o for o in outcomes if _is_deadlock(o.error)], [repr(o.error) for o in outcomes]
    assert registered.status == 200, repr(registered.error)
    assert left.status == 409, repr(left.error)
    assert left.error is not None and left.error.code == "member_has_open_files"
    assert _count(world.engine, select(func.count()).select_from(files)) == 1


def test_a_table_renamed_while_an_agenda_is_published_does_not_deadlock(world, monkeypatch):
    """Publishing inserts its proposals, whose foreign key holds the table's row FOR KEY SHARE,
    and then locks that row to freeze the aftercare section. A rename that locked the row FOR
    NO KEY UPDATE in between (which FOR KEY SHARE lets through) waited for the publication to
    update the name, a key column (FOR UPDATE), while the publication waited for its lock: a
    deadlock, which PostgreSQL ended by aborting one of the two (found by breaker 14). The
    publication locks the table's row before it inserts anything that refers to it now."""
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    world.add_pairs(1)
    meeting_id = uuid.UUID(world.schedule(7))
    chair = world.context(world.chair)
    renamed: list[Outcome] = []

    def rename(session: Session) -> None:
        table = session.get_one(OutflowTable, uuid.UUID(world.table_id))
        change = TableUpdate(name="Uitstroomtafel hernoemd")
        tables_service.update_table(session, Principal(is_operator=True), table, change, None)

    renamer = threading.Thread(target=lambda: renamed.append(_run_once(world.engine, rename)))
    create_from_agenda = meetings_service.create_from_agenda

    def renamed_meanwhile(session: Session, *args: Any) -> Any:
        proposals = create_from_agenda(session, *args)
        if not renamer.is_alive() and not renamed:
            renamer.start()
            wait_until_a_session_waits_for_a_lock(session, renamer)
        return proposals

    monkeypatch.setattr(meetings_service, "create_from_agenda", renamed_meanwhile)

    def publish(session: Session) -> None:
        meeting, table = meetings_service.get_meeting(session, chair, meeting_id)
        meetings_service.publish(
            session, chair, meeting, table, None, world.settings.solver_time_budget_seconds
        )

    published = _run_once(world.engine, publish)
    renamer.join(timeout=120)

    outcomes = [published, *renamed]
    assert not [o for o in outcomes if _is_deadlock(o.error)], [repr(o.error) for o in outcomes]
    assert [o.status for o in outcomes] == [200, 200], [repr(o.error) for o in outcomes]


def test_a_push_locks_its_dwellings_in_id_order_as_a_publication_does(world):
    """A push locked the corporation's dwellings in `external_ref` order, while publishing a
    meeting (`create_from_agenda`) locks them in id order, the order `app.versioning` asks of
    every writer: pushing two dwellings whose references sort against their ids, while another
    transaction held the first by id, held the second and waited for the first, so a
    publication locking both in id order deadlocked with it (found reading the code; PostgreSQL
    ends it by aborting one, rerun about a second later). The push now waits for the first
    holding neither, and the other transaction takes the second at once."""
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    corporation = world.context(world.corporation).principal
    tag = uuid.uuid4().hex[:8]
    first, second = (
        VacancyIn.model_validate(vacancy_body("GM0344", external_ref=f"V-{tag}-{end}"))
        for end in ("z", "a")
    )

    def push(items: list[VacancyIn]) -> Callable[[Session], Any]:
        return lambda s: vacancies_service.upsert_vacancies(s, corporation, items, batch=True)

    for item in (first, second):  # one after the other: the first made has the lower id
        assert _run_once(world.engine, push([item])).status == 200
    with Session(world.engine) as session:
        rows = session.exec(select(Vacancy).where(Vacancy.external_ref.startswith(f"V-{tag}-")))
        ids = {v.external_ref: v.id for v in rows}
    low, high = ids[first.external_ref], ids[second.external_ref]
    assert low < high and first.external_ref > second.external_ref

    pushed: list[Outcome] = []
    pusher = threading.Thread(
        target=lambda: pushed.append(_run_once(world.engine, push([first, second])))
    )
    with Session(world.engine) as holder:
        holder.exec(select(Vacancy).where(Vacancy.id == low).with_for_update()).one()
        took_the_second = takes_the_next_while_it_waits(
            holder,
            pusher,
            lambda s: s.exec(
                select(Vacancy).where(Vacancy.id == high).with_for_update(nowait=True)
            ).one(),
        )

    assert took_the_second, "the push held the second dwelling by id while waiting for the first"
    assert [o.status for o in pushed] == [200], [repr(o.error) for o in pushed]


def test_a_table_claims_its_new_municipalities_in_code_order(world):
    """A table's new municipalities were inserted in the order the request listed them: an
    operator giving one table GM0636 and GM0635 (in that order) while another request gave
    another table GM0635 and GM0636 inserted GM0636 and waited for GM0635's unique key, which
    the other held while it waited for GM0636's: a deadlock PostgreSQL ends by aborting one
    (rerun about a second later; found reading the code). Claims now insert in code order: the
    change waits for GM0635 holding neither, and the other transaction inserts GM0636 at once."""
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: nothing waits for a row lock")
    other_table = make_table(world.client, world.chair, [world.care_provider], ["GM0634"])

    def claim(session: Session) -> None:
        table = session.get_one(OutflowTable, uuid.UUID(world.table_id))
        change = TableUpdate(municipality_codes=["GM0344", "GM0636", "GM0635"])
        tables_service.update_table(session, Principal(is_operator=True), table, change, None)

    claimed: list[Outcome] = []
    claimer = threading.Thread(target=lambda: claimed.append(_run_once(world.engine, claim)))

    def hold(session: Session, code: str) -> None:
        session.add(TableMunicipality(municipality_code=code, table_id=uuid.UUID(other_table)))
        session.flush()

    with Session(world.engine) as holder:
        hold(holder, "GM0635")
        holder.exec(text("SET LOCAL lock_timeout = '500ms'"))
        took_the_second = takes_the_next_while_it_waits(
            holder, claimer, lambda s: hold(s, "GM0636")
        )

    assert took_the_second, "the change held GM0636 while waiting for GM0635"
    assert [o.status for o in claimed] == [200], [repr(o.error) for o in claimed]
