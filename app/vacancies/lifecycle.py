"""The dwelling lifecycle: every status change of a vacancy goes through `fire` (or, for the
batch upsert's bulk rows, through `status_after_push`).

available -> proposed (a published agenda) -> let (housed), or back to available when the
proposal ends; the corporation withdraws a dwelling that is no longer on offer and re-offers it
by pushing it again.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, case
from sqlmodel import Session

from app.lifecycle import ILLEGAL, Refusal, StateMachine
from app.vacancies.models import Vacancy, VacancyStatus


class VacancyEvent(StrEnum):
    push = "push"  # the corporation pushes the dwelling again (upsert by external_ref)
    propose = "propose"  # a published agenda proposes it to a case
    release = "release"  # its proposal ended without housing: on offer again
    release_unavailable = "release_unavailable"  # ... declined as `dwelling_unavailable`
    let = "let"  # its proposal ended with housing
    withdraw = "withdraw"  # the corporation withdraws it (DELETE)


_ = VacancyStatus
UNMOVED = (_.available, _.withdrawn, _.let)
LET_REFUSAL = Refusal("dwelling_let", "The dwelling is let; there is nothing to withdraw.")

MACHINE: StateMachine[VacancyStatus, VacancyEvent] = StateMachine(
    "dwelling",
    VacancyStatus,
    VacancyEvent,
    {
        # A re-push updates a proposed or let dwelling but not where it stands, and re-offers a
        # withdrawn one.
        VacancyEvent.push: {
            _.available: _.available,
            _.withdrawn: _.available,
            _.proposed: _.proposed,
            _.let: _.let,
        },
        VacancyEvent.propose: {_.available: _.proposed},
        # A proposal that ends moves only a proposed dwelling; one withdrawn (or let) meanwhile
        # stays where it is.
        VacancyEvent.release: {_.proposed: _.available, **{s: s for s in UNMOVED}},
        VacancyEvent.release_unavailable: {_.proposed: _.withdrawn, **{s: s for s in UNMOVED}},
        VacancyEvent.let: {_.proposed: _.let},
        VacancyEvent.withdraw: {_.available: _.withdrawn, _.withdrawn: _.withdrawn},
    },
    otherwise=lambda state, event: (
        LET_REFUSAL if (state, event) == (VacancyStatus.let, VacancyEvent.withdraw) else ILLEGAL
    ),
)


def status_after_push(current: VacancyStatus | None) -> VacancyStatus:
    """Where a pushed dwelling stands: a new one is available."""
    return (
        VacancyStatus.available if current is None else MACHINE.target(current, VacancyEvent.push)
    )


def status_after_push_sql(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`status_after_push` as SQL on the row's current status (for the batch's bulk UPDATE):
    `CASE status WHEN 'withdrawn' THEN 'available' ELSE status END`."""
    moves = {
        state.value: MACHINE.target(state, VacancyEvent.push).value
        for state in VacancyStatus
        if MACHINE.target(state, VacancyEvent.push) != state
    }
    return case(moves, value=column, else_=column)


def check(vacancy: Vacancy, event: VacancyEvent) -> None:
    """Refuse (409) an event the dwelling's state does not allow, without changing anything."""
    MACHINE.target(vacancy.status, event)


def allows(vacancy: Vacancy, event: VacancyEvent) -> bool:
    return MACHINE.allows(vacancy.status, event)


def fire(session: Session, vacancy: Vacancy, event: VacancyEvent) -> bool:
    """Apply `event` (409 when refused); returns whether the status changed."""
    target = MACHINE.target(vacancy.status, event)
    if target == vacancy.status:
        return False
    vacancy.status = target
    session.add(vacancy)
    return True
