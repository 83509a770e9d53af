"""The facts every figure is computed from: per case its ready date and how it left, per
housing its move-in date, dwelling and lease form."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app.cases.models import Case
from app.proposals.models import Proposal


@dataclass(frozen=True, slots=True)
class Housing:
    case_id: uuid.UUID
    care_provider_id: uuid.UUID
    corporation_id: uuid.UUID
    municipality_code: str
    neighbourhood_code: str
    housed_on: date
    lease_form: str | None
    contingent: bool
    waiting_days: int


@dataclass(frozen=True, slots=True)
class CaseFacts:
    id: uuid.UUID
    care_provider_id: uuid.UUID
    ready_since: date
    exit_date: date | None
    status: str
    status_reason: str | None


def load_cases(session: Session, table_id: uuid.UUID) -> list[CaseFacts]:
    """The table's cases that enter the figures: a case that left before its ready date never
    does."""
    rows = session.exec(
        select(
            Case.id,
            Case.care_provider_id,
            Case.ready_since,
            Case.exit_date,
            Case.status,
            Case.status_reason,
        ).where(Case.table_id == table_id)
    ).all()
    facts = [CaseFacts(*row) for row in rows]
    return [c for c in facts if c.exit_date is None or c.exit_date >= c.ready_since]


def load_housings(session: Session, table_id: uuid.UUID) -> list[Housing]:
    """Every housing (proposal decided `house`) of the table, with its waiting days."""
    rows = session.exec(
        select(
            Proposal.case_id,
            Proposal.care_provider_id,
            Proposal.corporation_id,
            Proposal.neighbourhood_code,
            Proposal.housed_on,
            Proposal.lease_form,
            Proposal.contingent,
            Case.ready_since,
        )
        .join(Case, Case.id == Proposal.case_id)  # type: ignore[arg-type]
        .where(Proposal.table_id == table_id, Proposal.status == "housed")
    ).all()
    return [
        Housing(
            case_id=r[0],
            care_provider_id=r[1],
            corporation_id=r[2],
            municipality_code="GM" + r[3][2:6],
            neighbourhood_code=r[3],
            housed_on=r[4],
            lease_form=r[5],
            contingent=r[6],
            waiting_days=(r[4] - r[7]).days,
        )
        for r in rows
        if r[4] is not None
    ]
