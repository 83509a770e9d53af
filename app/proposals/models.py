"""Proposals (a case offered a dwelling at a meeting) and the decisions taken on them."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic import Field as PField
from sqlalchemy import JSON, Index, false, text
from sqlmodel import Field, SQLModel

from app.cases.models import CaseStatus
from app.ids import uuid7
from app.schemas import ApiModel, Date, Page
from app.sqltypes import StatusType, UTCDateTime, one_of, sql_in, utcnow
from app.vacancies.models import LeaseForm
from app.versioning import Versioned, updated_at_field


class ProposalStatus(StrEnum):
    proposed = "proposed"
    nominated = "nominated"
    accepted = "accepted"
    viewing_planned = "viewing_planned"
    tenancy_signed = "tenancy_signed"
    housed = "housed"
    declined_by_corporation = "declined_by_corporation"
    declined_by_client = "declined_by_client"
    withdrawn = "withdrawn"
    superseded = "superseded"


OPEN_PROPOSAL = frozenset(
    {
        ProposalStatus.proposed,
        ProposalStatus.nominated,
        ProposalStatus.accepted,
        ProposalStatus.viewing_planned,
        ProposalStatus.tenancy_signed,
    }
)
# The predicate of the partial unique indexes: at most one open proposal per case and per
# dwelling, kept by the database whatever the number of writers.
OPEN_PROPOSAL_SQL = sql_in("status", (s for s in ProposalStatus if s in OPEN_PROPOSAL))

CASE_IN_PROPOSAL = frozenset({CaseStatus.proposed, CaseStatus.nominated})
"""The statuses of a case while it is in an open proposal: the agenda does not propose it
again, and a hold or withdrawal withdraws that proposal (`service.close_for_case`)."""


class Decision(StrEnum):
    nominate = "nominate"
    corporation_accept = "corporation_accept"
    corporation_decline = "corporation_decline"
    plan_viewing = "plan_viewing"
    client_decline = "client_decline"
    sign_tenancy = "sign_tenancy"
    house = "house"
    withdraw = "withdraw"


class DecisionReason(StrEnum):
    # corporation_decline
    rent_arrears = "rent_arrears"
    income_insufficient = "income_insufficient"
    unsuitable_for_dwelling = "unsuitable_for_dwelling"
    failed_reference_check = "failed_reference_check"
    dwelling_unavailable = "dwelling_unavailable"
    # client_decline
    location = "location"
    dwelling_type_or_size = "dwelling_type_or_size"
    too_expensive = "too_expensive"
    not_ready_to_move = "not_ready_to_move"
    personal_circumstances = "personal_circumstances"
    no_show = "no_show"
    # withdraw
    table_decision = "table_decision"
    case_changed = "case_changed"
    dwelling_changed = "dwelling_changed"
    # any
    other = "other"


# Which reasons go with which decision; decisions not listed take no reason.
REASONS: dict[Decision, frozenset[str]] = {
    Decision.corporation_decline: frozenset(
        {
            "rent_arrears",
            "income_insufficient",
            "unsuitable_for_dwelling",
            "failed_reference_check",
            "dwelling_unavailable",
            "other",
        }
    ),
    Decision.client_decline: frozenset(
        {
            "location",
            "dwelling_type_or_size",
            "too_expensive",
            "not_ready_to_move",
            "personal_circumstances",
            "no_show",
            "other",
        }
    ),
    Decision.withdraw: frozenset({"table_decision", "case_changed", "dwelling_changed", "other"}),
}
DECLINE_REASONS = REASONS[Decision.corporation_decline] | REASONS[Decision.client_decline]


def _one_open_proposal_per(column: str, name: str) -> Index:
    """A partial unique index: `column` at most once among open proposals (both dialects)."""
    where = text(OPEN_PROPOSAL_SQL)
    return Index(name, column, unique=True, sqlite_where=where, postgresql_where=where)


class Proposal(Versioned, SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (
        one_of("status", ProposalStatus),
        _one_open_proposal_per("case_id", "uq_proposals_open_case"),
        _one_open_proposal_per("vacancy_id", "uq_proposals_open_vacancy"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    meeting_id: uuid.UUID = Field(foreign_key="meetings.id", index=True)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    vacancy_id: uuid.UUID = Field(foreign_key="vacancies.id", index=True)
    care_provider_id: uuid.UUID = Field(foreign_key="organisations.id")
    corporation_id: uuid.UUID = Field(foreign_key="organisations.id")
    complex_key: str = Field(max_length=200, description="For the spread cap per complex.")
    neighbourhood_code: str = Field(max_length=10)
    contingent: bool = Field(description="The dwelling was offered under the contingent.")
    score: float
    components: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: ProposalStatus = Field(
        default=ProposalStatus.proposed, sa_type=StatusType(ProposalStatus, 32), index=True
    )
    status_reason: str | None = Field(default=None, max_length=32)
    housed_on: date | None = Field(default=None, index=True)
    viewing_on: date | None = Field(default=None, description="The planned viewing's day.")
    lease_form: str | None = Field(default=None, max_length=32)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProposalDecision(SQLModel, table=True):
    """Every decision on a proposal, with actor, time and reason (the meeting's minutes)."""

    __tablename__ = "proposal_decisions"
    __table_args__ = (
        one_of("decision", Decision),
        one_of("from_status", ProposalStatus),
        one_of("to_status", ProposalStatus),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    proposal_id: uuid.UUID = Field(foreign_key="proposals.id", index=True)
    decision: Decision = Field(sa_type=StatusType(Decision, 32))
    from_status: ProposalStatus = Field(sa_type=StatusType(ProposalStatus, 32))
    to_status: ProposalStatus = Field(sa_type=StatusType(ProposalStatus, 32))
    reason: str | None = Field(default=None, max_length=32)
    parked_until: date | None = None
    automatic: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": false()},
        description="The service closed the proposal itself (case on hold or withdrawn, dwelling "
        "withdrawn, superseded): not a decline of the pair.",
    )
    actor_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    actor_api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_keys.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProposalStallAlert(SQLModel, table=True):
    """A proposal that stayed in one status past the table's limit: one row per (proposal,
    status), so the `proposal.stalled` webhook goes out once per crossing whatever the number
    of processes that notice it (the primary key, not a lock, decides who sends it)."""

    __tablename__ = "proposal_stall_alerts"
    __table_args__ = (one_of("status", ProposalStatus),)

    proposal_id: uuid.UUID = Field(foreign_key="proposals.id", primary_key=True)
    status: ProposalStatus = Field(sa_type=StatusType(ProposalStatus, 32), primary_key=True)
    days_in_status: int
    limit_days: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DecisionCreate(ApiModel):
    decision: Decision = PField(
        description=(
            "The decision: `nominate` (chair), `corporation_accept`, "
            "`corporation_decline`, `plan_viewing`, `client_decline`, "
            "`sign_tenancy`, `house` or `withdraw` (chair); each is allowed only "
            "from certain statuses."
        )
    )
    reason: DecisionReason | None = PField(
        None, description="Required for corporation_decline, client_decline and withdraw."
    )
    effective_date: Date | None = PField(
        None,
        description="`house` only: the day the client moved in (default today; not in the "
        "future, not before the meeting, the case's `ready_since` or the dwelling's "
        "`available_from`).",
    )
    lease_form: LeaseForm | None = PField(
        None,
        description="`house` only: `own_lease` or `intermediate_lease`; needed when the case "
        "and the dwelling both allow either.",
    )
    viewing_date: Date | None = PField(
        None,
        description="`plan_viewing` only, and required there: the day of the viewing (not "
        "before the day the proposal was made, nor more than a year ahead: 400 "
        "`date_before_proposal`, `date_too_far_ahead`).",
    )


class DecisionPublic(BaseModel):
    id: uuid.UUID
    decision: Decision = PField(description="The decision taken (see `DecisionCreate.decision`).")
    from_status: ProposalStatus
    to_status: ProposalStatus
    reason: DecisionReason | None = PField(
        description="The decline or withdrawal reason; null for other decisions."
    )
    parked_until: date | None = PField(description="Set when the decline parks the case.")
    automatic: bool = PField(
        description="True when the service closed the proposal itself (the case was put on hold "
        "or withdrawn, the dwelling withdrawn, or the case or dwelling housed elsewhere): such a "
        "closure is not a decline, and the pair may be proposed again."
    )
    actor_organisation_id: uuid.UUID
    actor_api_key_id: uuid.UUID | None = PField(
        description="The API key that took it; null on the pages, and for another organisation's."
    )
    at: datetime


class ComponentPublic(BaseModel):
    name: str = PField(
        description=(
            "Score component: `waiting_time`, `urgency`, `preferred_area`, "
            "`support_fit`, `registration` or `rent_headroom`."
        )
    )
    value: float = PField(
        description=(
            "The component's measure (years for waiting time and registration, 0 or"
            " 1 for the yes/no components, the unused fraction of the rent cap)."
        )
    )
    weight: float = PField(description="Points per unit, from the policy's `score_weights`.")
    points: float = PField(description="`weight` times `value`; the score is their sum.")


class ProposalPublic(BaseModel):
    id: uuid.UUID
    meeting_id: uuid.UUID
    table_id: uuid.UUID
    case_id: uuid.UUID
    vacancy_id: uuid.UUID
    care_provider_id: uuid.UUID
    corporation_id: uuid.UUID
    status: ProposalStatus = PField(
        description=(
            "`proposed`, `nominated`, `accepted`, `viewing_planned`, "
            "`tenancy_signed` (open), or `housed`, `declined_by_corporation`, "
            "`declined_by_client`, `withdrawn`, `superseded` (closed)."
        )
    )
    status_reason: DecisionReason | None = PField(
        description="The reason of the decline or withdrawal that closed it; null otherwise."
    )
    score: float | None = PField(description="Null for the corporation (it reveals case details).")
    components: list[ComponentPublic] | None = PField(
        description="Null for the corporation (they reveal case details)."
    )
    contingent: bool = PField(
        description="The dwelling was offered under the corporation's outflow contingent."
    )
    housed_on: date | None = PField(
        description="The day the client moved in (`house`); null until then."
    )
    viewing_on: date | None = PField(description="The day of the planned viewing.")
    lease_form: LeaseForm | None = PField(
        description="`own_lease` or `intermediate_lease`, set when housed; null before."
    )
    decisions: list[DecisionPublic] = PField(
        description="Every decision on the proposal, oldest first."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = PField(
        description=(
            "When the proposal was closed (housed, declined, withdrawn or "
            "superseded; UTC); null while open."
        )
    )


class ProposalPage(Page[ProposalPublic]):
    pass


class IncomeCategory(StrEnum):
    within_passend_toewijzen_limit = "within_passend_toewijzen_limit"
    within_daeb_limit = "within_daeb_limit"
    above_daeb_limit = "above_daeb_limit"


class CaseProfile(BaseModel):
    """What a corporation may know of a case proposed for its dwelling, and nothing more."""

    proposal_id: uuid.UUID
    case_id: uuid.UUID
    household_size: int = PField(
        description="Persons in the household (adults plus children, 1-12)."
    )
    support_intensity: str = PField(
        description="`light`, `moderate` or `intensive` support after the move."
    )
    needs_complex_manager: bool = PField(
        description="The client needs a complex manager (huismeester) on site."
    )
    income_category: IncomeCategory = PField(
        description=(
            "Income against the year's limits, without the amount: "
            "`within_passend_toewijzen_limit`, `within_daeb_limit` or "
            "`above_daeb_limit`."
        )
    )
    contract_form: str = PField(description="`own_lease`, `intermediate_lease` or `either`.")
