# Size: the tables, inputs and views of one lifecycle (tenancy, agreement, checkpoints) and its
# agenda entries, which name the same codes; split, each part would import the rest.
"""After the move (zachte landing): the tenancy a housing starts, the care provider's aftercare
agreement, the follow-up checkpoints and the transfer of an intermediate lease (omklap).

Codes only, never free text about the client. The code lists' Dutch labels are in
`app.vocabulary` (AFTERCARE_SIGNALS, CONTACT_FREQUENCIES, TENANCY_END_REASONS,
TRANSFER_CONDITIONS).
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PField
from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.cases.models import SupportIntensity
from app.ids import Id, uuid7
from app.null_fields import RefusesNull
from app.schemas import ApiModel, Date, JsonBool, JsonInt, Page
from app.sqltypes import StatusType, UTCDateTime, one_of, utcnow
from app.vacancies.models import LeaseForm
from app.versioning import Versioned, updated_at_field


class TenancyStatus(StrEnum):
    """`awaiting_transfer`: an intermediate lease not yet transferred to the client; `running`:
    the client's own lease (from the start, or after the omklap); `ended`."""

    awaiting_transfer = "awaiting_transfer"
    running = "running"
    ended = "ended"


class TenancyEndReason(StrEnum):
    moved_on = "moved_on"
    evicted = "evicted"
    returned_to_care = "returned_to_care"
    deceased = "deceased"
    other = "other"


class TransferCondition(StrEnum):
    rent_paid_on_time = "rent_paid_on_time"
    no_nuisance = "no_nuisance"
    support_in_place = "support_in_place"
    budget_management_arranged = "budget_management_arranged"
    trial_period_completed = "trial_period_completed"


class Signal(StrEnum):
    """A signal a checkpoint raises. The last two follow from `still_living_there` and
    `support_active` being false; the first three are recorded as such."""

    rent_arrears = "rent_arrears"
    nuisance = "nuisance"
    needs_table = "needs_table"
    support_stopped = "support_stopped"
    not_living_there = "not_living_there"


class RecordedSignal(StrEnum):
    rent_arrears = "rent_arrears"
    nuisance = "nuisance"
    needs_table = "needs_table"


# The signals that concern the landlord: a corporation sees these of its own tenants.
CORPORATION_SIGNALS = frozenset({Signal.rent_arrears, Signal.nuisance})


class ContactFrequency(StrEnum):
    weekly = "weekly"
    fortnightly = "fortnightly"
    monthly = "monthly"
    quarterly = "quarterly"


class CheckpointState(StrEnum):
    upcoming = "upcoming"
    due = "due"
    overdue = "overdue"
    recorded = "recorded"
    # the tenancy ended before the checkpoint came due, or retention anonymised the case
    # before it was recorded (it takes no checkpoint any more)
    not_due = "not_due"


class Tenancy(Versioned, SQLModel, table=True):
    """The tenancy a housing started: one per housed case (a housed case is closed, so there is
    never a second), with its lease form, the omklap and the end."""

    __tablename__ = "tenancies"
    __table_args__ = (
        one_of("status", TenancyStatus),
        one_of("end_reason", TenancyEndReason),
        CheckConstraint("(ended_on IS NULL) = (end_reason IS NULL)", name="end_with_reason"),
        CheckConstraint("ended_on IS NULL OR ended_on >= moved_in", name="ended_after_move_in"),
        CheckConstraint(
            "transferred_on IS NULL OR transferred_on >= moved_in",
            name="transferred_after_move_in",
        ),
    )

    case_id: uuid.UUID = Field(foreign_key="cases.id", primary_key=True)
    proposal_id: uuid.UUID = Field(foreign_key="proposals.id", unique=True)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    care_provider_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    corporation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    moved_in: date = Field(index=True)
    lease_form: str | None = Field(default=None, max_length=32)
    status: TenancyStatus = Field(sa_type=StatusType(TenancyStatus, 32), index=True)
    transfer_planned_on: date | None = None
    transfer_open_conditions: list[str] = Field(default_factory=list, sa_type=JSON)
    transferred_on: date | None = None
    transferred_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When the transfer was recorded."
    )
    ended_on: date | None = None
    end_reason: str | None = Field(default=None, max_length=32)
    ended_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When the end was recorded."
    )
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()


class AftercareAgreement(Versioned, SQLModel, table=True):
    """The care provider's aftercare agreement for a housed case (support after the move)."""

    __tablename__ = "aftercare_agreements"
    __table_args__ = (
        one_of("contact_frequency", ContactFrequency),
        CheckConstraint(
            "planned_end_on IS NULL OR planned_end_on >= starts_on", name="end_after_start"
        ),
    )

    case_id: uuid.UUID = Field(foreign_key="tenancies.case_id", primary_key=True)
    support_intensity: str = Field(max_length=16)
    support_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    contact_frequency: str = Field(max_length=16)
    starts_on: date
    planned_end_on: date | None = None
    action_signals: list[str] = Field(default_factory=list, sa_type=JSON)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()


class Checkpoint(SQLModel, table=True):
    """A follow-up checkpoint recorded by the care provider: `months` after the move-in."""

    __tablename__ = "aftercare_checkpoints"
    __table_args__ = (UniqueConstraint("case_id", "months"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="tenancies.case_id", index=True)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    months: int
    due_on: date
    recorded_on: date = Field(index=True)
    still_living_there: bool
    support_active: bool
    signals: list[str] = Field(default_factory=list, sa_type=JSON)
    recorded_by_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckpointDueNotice(SQLModel, table=True):
    """One row per checkpoint that came due, so `aftercare.checkpoint_due` goes out once
    whatever the number of processes that notice it (the primary key decides who sends)."""

    __tablename__ = "aftercare_checkpoint_notices"

    case_id: uuid.UUID = Field(foreign_key="tenancies.case_id", primary_key=True)
    months: int = Field(primary_key=True)
    due_on: date
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- API schemas ----------------------------------------------------------------------------

SignalList = Annotated[list[Signal], PField(max_length=len(Signal))]


T = TypeVar("T")


def _unique(value: list[T]) -> list[T]:
    return list(dict.fromkeys(value))


class AgreementWrite(ApiModel):
    """The whole aftercare agreement (PUT replaces it)."""

    support_intensity: SupportIntensity = PField(description="Support intensity after the move.")
    support_organisation_id: Id = PField(
        description="The care provider that gives the support (a member of the case's table)."
    )
    contact_frequency: ContactFrequency = PField(description="How often the supporter meets.")
    starts_on: Date = PField(
        description="The day the aftercare starts (not before the move-in, at most 120 months "
        "after it)."
    )
    planned_end_on: Date | None = PField(
        None,
        description="The day it is planned to end (not before `starts_on`, at most 120 months "
        "after the move-in); null: open.",
    )
    action_signals: SignalList = PField(
        default_factory=list,
        description="The signals that lead to action under this agreement (codes, no free text).",
    )

    _unique_signals = field_validator("action_signals")(_unique)


class AgreementPublic(BaseModel):
    case_id: uuid.UUID = PField(description="The housed case.")
    support_intensity: SupportIntensity = PField(description="Support intensity after the move.")
    support_organisation_id: uuid.UUID = PField(description="The care provider giving support.")
    contact_frequency: ContactFrequency = PField(description="How often the supporter meets.")
    starts_on: date = PField(description="The day the aftercare starts.")
    planned_end_on: date | None = PField(description="The planned end; null: open.")
    action_signals: list[Signal] = PField(description="Signals that lead to action.")
    version: int = PField(description="Version (the ETag).")
    created_at: datetime = PField(description="When the agreement was made.")
    updated_at: datetime = PField(description="When it last changed.")


class CheckpointCreate(ApiModel):
    months: JsonInt = PField(
        ge=1,
        le=120,
        description="Which checkpoint: months after the move-in, one of the table policy's "
        "`aftercare_checkpoint_months`.",
    )
    recorded_on: Date | None = PField(
        None,
        description="The day of record (default today; not in the future, not before the move-in).",
    )
    still_living_there: JsonBool = PField(description="The client still lives in the dwelling.")
    support_active: JsonBool = PField(description="The agreed support is still given.")
    signals: Annotated[list[RecordedSignal], PField(max_length=len(RecordedSignal))] = PField(
        default_factory=list,
        description="Signals seen: `rent_arrears`, `nuisance`, `needs_table`.",
    )

    _unique_signals = field_validator("signals")(_unique)


class TransferPublic(BaseModel):
    planned_on: date | None = PField(
        description="The planned omklap (the policy's `lease_transfer_months` after the move-in "
        "unless changed)."
    )
    open_conditions: list[TransferCondition] = PField(
        description="Conditions still to be met before the transfer."
    )
    transferred_on: date | None = PField(description="The day the lease went to the client.")
    overdue: bool = PField(description="Not transferred and the planned day has passed.")


class CheckpointPublic(BaseModel):
    months: int = PField(description="Months after the move-in.")
    due_on: date = PField(description="The move-in plus `months` months.")
    state: CheckpointState = PField(
        description="`upcoming`, `due` (today), `overdue`, `recorded`, or `not_due` (the "
        "tenancy ended first, or retention anonymised the case before it was recorded: it "
        "takes no checkpoint any more, 409 `case_anonymised`)."
    )
    recorded_on: date | None = PField(description="Day of record, once recorded.")
    still_living_there: bool | None = PField(description="Null until recorded.")
    support_active: bool | None = PField(description="Null until recorded.")
    signals: list[Signal] = PField(description="Signals the checkpoint raised.")


class CorporationCheckpointPublic(BaseModel):
    """What the landlord sees of a checkpoint: whether it was held, and the signals that
    concern it (rent arrears, nuisance); nothing of the support."""

    model_config = ConfigDict(extra="forbid")

    months: int = PField(description="Months after the move-in.")
    due_on: date = PField(description="The move-in plus `months` months.")
    state: CheckpointState = PField(description="As in the full view.")
    recorded_on: date | None = PField(description="Day of record, once recorded.")
    signals: list[Signal] = PField(description="Only `rent_arrears` and `nuisance`.")


class _TenancyHead(BaseModel):
    case_id: uuid.UUID = PField(description="The housed case.")
    table_id: uuid.UUID = PField(description="The case's table.")
    care_provider_id: uuid.UUID = PField(description="The case's care provider.")
    corporation_id: uuid.UUID = PField(description="The landlord.")
    moved_in: date = PField(description="The day of the move-in (the housing's date).")
    lease_form: LeaseForm | None = PField(
        description="Recorded at housing; null for housings from before it was recorded."
    )
    status: TenancyStatus = PField(description="`awaiting_transfer`, `running` or `ended`.")
    transfer: TransferPublic | None = PField(description="The omklap; null for an own lease.")
    ended_on: date | None = PField(description="The day the tenancy ended.")
    end_reason: TenancyEndReason | None = PField(description="Why it ended.")
    has_aftercare_agreement: bool = PField(description="An aftercare agreement exists.")
    version: int = PField(description="Version (the ETag).")
    updated_at: datetime = PField(description="When it last changed.")


class TenancyPublic(_TenancyHead):
    view: Literal["full"] = PField(
        "full", description="`full`: care provider, chair and municipalities."
    )
    checkpoints: list[CheckpointPublic] = PField(description="The follow-up, by months.")


class CorporationTenancyPublic(_TenancyHead):
    """The landlord's view: the lease, the omklap, the end, and the checkpoints' status for
    the signals that concern it."""

    model_config = ConfigDict(extra="forbid")

    view: Literal["corporation"] = PField("corporation", description="`corporation`.")
    checkpoints: list[CorporationCheckpointPublic] = PField(
        description="The follow-up's status, with rent-arrears and nuisance signals only."
    )


class TenancyUpdate(ApiModel, RefusesNull):
    """Merge patch of a tenancy: the omklap's plan (care provider or corporation), the transfer
    (corporation), the end (care provider or corporation)."""

    transfer_planned_on: Date | None = PField(
        None,
        description="Intermediate lease only: move the planned transfer day (not before the "
        "move-in, at most 120 months after it).",
    )
    transfer_open_conditions: (
        Annotated[list[TransferCondition], PField(max_length=len(TransferCondition))] | None
    ) = PField(None, description="Intermediate lease only: the conditions still open.")
    transferred_on: Date | None = PField(
        None,
        description="Corporation only: the day the lease went to the client (not in the "
        "future, not before the move-in; no conditions may be open).",
    )
    ended_on: Date | None = PField(
        None,
        description="The day the tenancy ended (not in the future, not before the move-in, "
        "the transfer or a checkpoint that found the client still living there); with "
        "`end_reason`.",
    )
    end_reason: TenancyEndReason | None = PField(None, description="Why it ended; with `ended_on`.")

    @field_validator("transfer_open_conditions")
    @classmethod
    def _unique_conditions(
        cls, value: list[TransferCondition] | None
    ) -> list[TransferCondition] | None:
        return None if value is None else _unique(value)


TenancyView = Annotated[TenancyPublic | CorporationTenancyPublic, PField(discriminator="view")]


class TenancyPage(Page[TenancyView]):
    pass


class AftercareItemOut(BaseModel):
    """An aftercare entry of the agenda (`app.aftercare.agenda`)."""

    kind: Literal["checkpoint", "signal", "transfer_overdue", "let_again", "returned"] = PField(
        description="`checkpoint`: a follow-up checkpoint due by the meeting and not recorded; "
        "`signal`: a checkpoint recorded since the previous meeting that raised signals; "
        "`transfer_overdue`: an intermediate lease past its planned omklap; `let_again`: a "
        "tenancy not ended whose dwelling the next tenant moved into on `due_on` (record the "
        "end, on that day at the latest); `returned`: a tenancy not ended whose tenant was "
        "registered again on `due_on`, at this table or another (a case with this one as "
        "`previous_case_id`; not in the landlord's share)."
    )
    case_id: uuid.UUID = PField(description="The housed case.")
    care_provider_id: uuid.UUID = PField(description="The case's care provider.")
    corporation_id: uuid.UUID = PField(description="The landlord.")
    months: int | None = PField(description="The checkpoint (months after the move-in).")
    due_on: date | None = PField(
        description="The checkpoint's due day, the planned transfer day, the next move-in, or "
        "the day of the return."
    )
    overdue: bool = PField(description="The due day lies before today.")
    recorded_on: date | None = PField(description="A signal's day of record.")
    signals: list[Signal] = PField(description="The signals raised (for `signal`).")
    suggested_action_kind: str | None = PField(
        description="The action kind the table would hand out for it (`POST "
        "/v1/tables/{table_id}/actions` with the case id); null for none, and for a case "
        "retention anonymised (no action about it is handed out any more: 409 "
        "`case_anonymised`)."
    )


class CorporationAftercareItemOut(BaseModel):
    """The landlord's share: its tenants' rent-arrears and nuisance signals, overdue transfers
    and tenancies let again."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["signal", "transfer_overdue", "let_again"] = PField(
        description="As in the table view."
    )
    case_id: uuid.UUID = PField(description="The housed case (its tenant).")
    corporation_id: uuid.UUID = PField(description="The corporation itself.")
    months: int | None = PField(description="The checkpoint that raised the signal.")
    due_on: date | None = PField(
        description="The checkpoint's, the transfer's or the next move-in's day."
    )
    overdue: bool = PField(description="The due day lies before today.")
    recorded_on: date | None = PField(description="A signal's day of record.")
    signals: list[Signal] = PField(description="Only `rent_arrears` and `nuisance`.")
