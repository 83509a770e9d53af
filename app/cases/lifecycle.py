"""The case lifecycle: every status change of a case file goes through `fire`.

registered -> (ready, implied by the date) -> proposed -> nominated -> housed, with on_hold and
withdrawn from any open state (domain.md). The care provider holds, resumes and withdraws; the
table's proposals propose, nominate, release and house. `parked` is a registered case that a
decline parked until `parked_until`: it shows as `on_hold` and is not matched until then.
Every change is recorded as a `CaseTransition` with time, reason and actor.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Insert, bindparam, insert, null, select
from sqlalchemy.sql.selectable import NamedFromClause
from sqlmodel import Session, col

from app.cases.models import Case, CaseStatus, CaseTransition, effective_status
from app.ids import after_last, uuid7, uuid7_after
from app.lifecycle import ILLEGAL, Refusal, StateMachine
from app.sqltypes import table_of, utcnow
from app.timeutil import today


class CaseState(StrEnum):
    """What decides a transition: the stored status, with `parked` told apart."""

    registered = "registered"
    parked = "parked"
    proposed = "proposed"
    nominated = "nominated"
    on_hold = "on_hold"
    housed = "housed"
    withdrawn = "withdrawn"


class CaseEvent(StrEnum):
    edit = "edit"  # the care provider changes fields of the file
    move = "move"  # ... including `table_id`
    hold = "hold"  # PATCH status on_hold
    resume = "resume"  # PATCH status ready
    withdraw = "withdraw"  # PATCH status withdrawn
    propose = "propose"  # a published agenda proposes the case a dwelling
    nominate = "nominate"  # the chair nominates the proposal
    release = "release"  # its proposal ended without housing
    house = "house"  # its proposal ended with housing


OPEN = (
    CaseState.registered,
    CaseState.parked,
    CaseState.proposed,
    CaseState.nominated,
    CaseState.on_hold,
)
CLOSED = frozenset({CaseState.housed, CaseState.withdrawn})
CLOSED_REFUSAL = Refusal("case_closed", "The case is {state} and can no longer change.")
IN_PROPOSAL = Refusal(
    "case_in_proposal",
    "The case is {state} at its table; it can move to another table once its proposal is "
    "closed (put it on hold, or ask the chair to withdraw the proposal).",
)
PARKED_RESUME = Refusal(
    "illegal_transition",
    "The case is parked after a decline until its parked_until date; it cannot be set to "
    "ready before then.",
)
NOT_RESUMABLE = Refusal("illegal_transition", "A {state} case cannot be set to ready.")


def _refusal(state: CaseState, event: CaseEvent) -> Refusal:
    """Why an event not in the table is refused."""
    if state in CLOSED:
        return CLOSED_REFUSAL
    if event == CaseEvent.move:
        return IN_PROPOSAL
    if event == CaseEvent.resume:
        return PARKED_RESUME if state == CaseState.parked else NOT_RESUMABLE
    return ILLEGAL


_ = CaseState
MACHINE: StateMachine[CaseState, CaseEvent] = StateMachine(
    "case",
    CaseState,
    CaseEvent,
    {
        CaseEvent.edit: {s: s for s in OPEN},
        CaseEvent.move: {s: s for s in (_.registered, _.parked, _.on_hold)},
        CaseEvent.hold: {s: _.on_hold for s in OPEN},
        CaseEvent.resume: {_.on_hold: _.registered, _.registered: _.registered},
        CaseEvent.withdraw: {s: _.withdrawn for s in OPEN},
        CaseEvent.propose: {_.registered: _.proposed},
        CaseEvent.nominate: {_.proposed: _.nominated},
        CaseEvent.release: {
            _.proposed: _.registered,
            _.nominated: _.registered,
            # The proposal closed because the case was held or withdrawn: nothing more changes.
            **{s: s for s in (_.registered, _.parked, _.on_hold, _.withdrawn)},
        },
        CaseEvent.house: {_.nominated: _.housed},
    },
    otherwise=_refusal,
)


def state_of(case: Case, on: date | None = None) -> CaseState:
    """The lifecycle state of the case on `on` (default today)."""
    on = on or today()
    if case.status == CaseStatus.registered and case.parked_until and case.parked_until > on:
        return CaseState.parked
    return CaseState(case.status)


def check(case: Case, event: CaseEvent, on: date | None = None) -> None:
    """Refuse (409) an event the case's state does not allow, without changing anything."""
    _target(case, event, on)


def allows(case: Case, event: CaseEvent, on: date | None = None) -> bool:
    return MACHINE.allows(state_of(case, on), event)


def _target(case: Case, event: CaseEvent, on: date | None) -> CaseState:
    shown = effective_status(case.status, case.ready_since, on, case.parked_until)
    return MACHINE.target(state_of(case, on), event, shown=shown)


def fire(
    session: Session,
    case: Case,
    event: CaseEvent,
    *,
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
    reason: str | None = None,
    exit_date: date | None = None,
    parked_until: date | None = None,
    on: date | None = None,
    at: tuple[datetime, uuid.UUID] | None = None,
) -> bool:
    """Apply `event` to the case (409 when its state refuses it) and record the transition.

    `reason` goes with hold and withdraw; `exit_date` with withdraw (default today) and house;
    `parked_until` with release (the decline's parking); `at`: the moment the transition and
    the case's `updated_at` record, and the transition's id (default now and a new id; a
    publication gives all its cases one moment, and ids of it made in one `unlinked_uuid7s`
    call: made a call each, they counted on from one another in the order of the calls).
    Returns whether the status changed; an event that changes nothing (holding a held case)
    leaves the case as it is.
    """
    target = _target(case, event, on)
    if target == state_of(case, on):
        if event == CaseEvent.hold and reason is not None and reason != case.status_reason:
            # A held case held again for another reason: the new reason replaces the old one,
            # recorded as a transition like the first hold's (dropping it answered 200 with the
            # old reason, the same ETag).
            _record(session, case, case.status, reason, actor, api_key, on)
            return True
        return False
    before = effective_status(case.status, case.ready_since, parked_until=case.parked_until)
    # `parked` is never a target: a release parks by setting `parked_until`.
    case.status = CaseStatus(target.value)
    if event in (CaseEvent.hold, CaseEvent.withdraw, CaseEvent.resume):
        case.status_reason = reason
    if event == CaseEvent.release and parked_until is not None:
        case.parked_until = parked_until
    if target in CLOSED:
        case.closed_at = utcnow()
        case.exit_date = exit_date or today()
    after = effective_status(case.status, case.ready_since, parked_until=case.parked_until)
    if at is not None:
        case.updated_at = at[0]  # else the ORM's onupdate stamps it when it writes the row
    reason = reason if event in (CaseEvent.hold, CaseEvent.withdraw) else None
    _add_transition(session, case, before, after, reason, actor, api_key, at)
    return True


def _record(
    session: Session,
    case: Case,
    status: CaseStatus,
    reason: str,
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
    on: date | None,
) -> None:
    """Set the reason of a case that keeps its status, and record it as a transition."""
    shown = effective_status(status, case.ready_since, on, case.parked_until)
    case.status_reason = reason
    _add_transition(session, case, shown, shown, reason, actor, api_key)


def _add_transition(
    session: Session,
    case: Case,
    before: CaseStatus,
    after: CaseStatus,
    reason: str | None,
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
    at: tuple[datetime, uuid.UUID] | None = None,
) -> None:
    """Stage the case and its transition `before` -> `after`; `at` as in `fire`. Without `at`
    the transition's id and moment sort after the case's last one (`uuid7_after`,
    `after_last`; the caller holds the
    case's row lock), so its history lists in the order the servers changed it."""
    session.add(case)
    if at is None:
        with session.no_autoflush:  # the caller flushes (dates.flush_dates maps its 409s)
            last = session.execute(
                select(col(CaseTransition.id), col(CaseTransition.at))
                .where(col(CaseTransition.case_id) == case.id)
                .order_by(col(CaseTransition.id).desc())
                .limit(1)
            ).first()
        at = (
            after_last(utcnow(), None if last is None else last.at),
            uuid7_after(None if last is None else last.id),
        )
    session.add(
        CaseTransition(
            id=at[1],
            at=at[0],
            case_id=case.id,
            from_status=before,
            to_status=after,
            reason=reason,
            actor_organisation_id=actor,
            actor_api_key_id=api_key,
        )
    )


def record_creations(
    session: Session,
    cases: list[tuple[uuid.UUID, date]],
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
    parked_until: date | None = None,
) -> None:
    """The first transition of each new case, given as (id, ready_since): into `registered`
    (or `ready`, by its date; `on_hold` while `parked_until`, a returning client's parking),
    in one INSERT."""
    now = utcnow()
    rows = [
        {
            "id": uuid7(),
            "case_id": case_id,
            "from_status": None,
            "to_status": effective_status(
                CaseStatus.registered, ready_since, parked_until=parked_until
            ).value,
            "reason": None,
            "actor_organisation_id": actor,
            "actor_api_key_id": api_key,
            "at": now,
        }
        for case_id, ready_since in cases
    ]
    if rows:
        # Through the connection, with the statement built once: the session's `execute` takes
        # the ORM's path even for a Core insert (the cases are inserted through Core: nothing is
        # pending to flush).
        session.connection().execute(_INSERT_TRANSITIONS, rows[0] if len(rows) == 1 else rows)


_INSERT_TRANSITIONS = insert(table_of(CaseTransition))


def creation_insert(new_case: NamedFromClause) -> Insert:
    """The INSERT of `record_creations`' transition for the case in `new_case` (a CTE with the
    new case's `id`), as one INSERT ... SELECT: nothing when it holds no row. Its values are the
    parameters `creation_values` gives."""
    transitions = table_of(CaseTransition)
    columns = transitions.c
    given = ("id", "to_status", "actor_organisation_id", "actor_api_key_id", "at")
    value = {name: bindparam(f"transition_{name}", type_=columns[name].type) for name in given}
    return insert(transitions).from_select(
        ["case_id", "from_status", "reason", *given],
        select(new_case.c.id, null(), null(), *value.values()),
    )


def creation_values(
    ready_since: date,
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
    parked_until: date | None = None,
) -> dict[str, object]:
    """`creation_insert`'s parameters: the same row `record_creations` writes."""
    status = effective_status(CaseStatus.registered, ready_since, parked_until=parked_until)
    return {
        "transition_id": uuid7(),
        "transition_to_status": status.value,
        "transition_actor_organisation_id": actor,
        "transition_actor_api_key_id": api_key,
        "transition_at": utcnow(),
    }
