"""The dwelling lifecycle: every status change of a vacancy goes through `fire` (or, for the
batch upsert's bulk rows, through `status_after_push`).

available -> proposed (a published agenda) -> let (housed), or back to available when the
proposal ends; the corporation withdraws a dwelling that is no longer on offer and re-offers it
by pushing it again, and offers a let dwelling again (its next vacancy) by pushing it with a
later `available_from`.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case
from sqlmodel import Session

from app.lifecycle import ILLEGAL, Refusal, StateMachine, TransitionRefused
from app.vacancies.models import Vacancy, VacancyStatus


class VacancyEvent(StrEnum):
    push = "push"  # the corporation pushes the dwelling again (upsert by external_ref)
    # ... with an `available_from` later than the stored one: its next vacancy
    push_later = "push_later"
    propose = "propose"  # a published agenda proposes it to a case
    release = "release"  # its proposal ended without housing: on offer again
    release_unavailable = "release_unavailable"  # ... declined as `dwelling_unavailable`
    let = "let"  # its proposal ended with housing
    withdraw = "withdraw"  # the corporation withdraws it (DELETE)
    move = "move"  # a push names a municipality of another table


_ = VacancyStatus
UNMOVED = (_.available, _.withdrawn, _.let)
LET_REFUSAL = Refusal("dwelling_let", "The dwelling is let; there is nothing to withdraw.")
IN_PROPOSAL = Refusal(
    "vacancy_in_proposal",
    "The dwelling is {state} at its table; it can move to a municipality of another table once "
    "its proposal is closed (ask the chair to withdraw it, or decline it).",
)


def _refusal(state: VacancyStatus, event: VacancyEvent) -> Refusal:
    """Why an event not in the table is refused."""
    if (state, event) == (VacancyStatus.let, VacancyEvent.withdraw):
        return LET_REFUSAL
    if event == VacancyEvent.move:
        return IN_PROPOSAL
    return ILLEGAL


MACHINE: StateMachine[VacancyStatus, VacancyEvent] = StateMachine(
    "dwelling",
    VacancyStatus,
    VacancyEvent,
    {
        # A re-push updates a proposed or let dwelling but not where it stands, and re-offers a
        # withdrawn one (a later `available_from` re-offers a let one: `push_later`).
        VacancyEvent.push: {
            _.available: _.available,
            _.withdrawn: _.available,
            _.proposed: _.proposed,
            _.let: _.let,
        },
        # A later `available_from` is the dwelling's next vacancy: a let one (its tenant
        # leaving) is on offer again. The same date is a sync of what is stored: a let dwelling
        # stays let, so a corporation's system may push every dwelling it has.
        VacancyEvent.push_later: {
            _.available: _.available,
            _.withdrawn: _.available,
            _.proposed: _.proposed,
            _.let: _.available,
        },
        VacancyEvent.propose: {_.available: _.proposed},
        # A proposal that ends moves only a proposed dwelling; one withdrawn (or let) meanwhile
        # stays where it is.
        VacancyEvent.release: {_.proposed: _.available, **{s: s for s in UNMOVED}},
        VacancyEvent.release_unavailable: {_.proposed: _.withdrawn, **{s: s for s in UNMOVED}},
        VacancyEvent.let: {_.proposed: _.let},
        VacancyEvent.withdraw: {_.available: _.withdrawn, _.withdrawn: _.withdrawn},
        # A proposed dwelling stays at the table of its proposal (as a proposed case does): the
        # proposal, its meeting and the case belong to that table, and the new one's members
        # would read them in the dwelling's timeline.
        VacancyEvent.move: {s: s for s in UNMOVED},
    },
    otherwise=_refusal,
)


def status_after_push(current: VacancyStatus | None, later: bool = False) -> VacancyStatus:
    """Where a pushed dwelling stands: a new one is available. `later`: the push's
    `available_from` is after the stored one (`VacancyEvent.push_later`)."""
    if current is None:
        return VacancyStatus.available
    return MACHINE.target(current, VacancyEvent.push_later if later else VacancyEvent.push)


def status_after_push_sql(
    column: ColumnElement[Any], later: ColumnElement[bool]
) -> ColumnElement[Any]:
    """`status_after_push` as SQL on the row's current status (for the batch's bulk UPDATE),
    `later` the SQL test of a later `available_from`: `CASE WHEN status = 'withdrawn' THEN
    'available' WHEN status = 'let' AND <later> THEN 'available' ELSE status END`."""
    whens = []
    for state in VacancyStatus:
        always = MACHINE.target(state, VacancyEvent.push)
        if always != state:
            whens.append((column == state.value, always.value))
        elif (if_later := MACHINE.target(state, VacancyEvent.push_later)) != state:
            whens.append((and_(column == state.value, later), if_later.value))
    return case(*whens, else_=column)


def check_move(status: VacancyStatus, external_ref: str) -> None:
    """Refuse (409 `vacancy_in_proposal`, naming the reference) a push that would move the
    dwelling with this status to another table."""
    try:
        MACHINE.target(status, VacancyEvent.move)
    except TransitionRefused as refused:
        refused.detail = f"{external_ref}: {refused.detail}"
        refused.extra["external_ref"] = external_ref
        raise


def check(vacancy: Vacancy, event: VacancyEvent) -> None:
    """Refuse (409) an event the dwelling's state does not allow, without changing anything."""
    MACHINE.target(vacancy.status, event)


def allows(vacancy: Vacancy, event: VacancyEvent) -> bool:
    return MACHINE.allows(vacancy.status, event)


def fire(
    session: Session, vacancy: Vacancy, event: VacancyEvent, at: datetime | None = None
) -> bool:
    """Apply `event` (409 when refused); returns whether the status changed. `at`: the
    dwelling's `updated_at` (default: the ORM's, when it writes the row)."""
    target = MACHINE.target(vacancy.status, event)
    if target == vacancy.status:
        return False
    vacancy.status = target
    if at is not None:
        vacancy.updated_at = at
    session.add(vacancy)
    return True
