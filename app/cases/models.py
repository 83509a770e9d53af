# Size: every case-file field with its description (the contract's field reference for partners)
# beside the table it is stored in, so the API shape and the stored shape are read together.
"""The case file of one client ready (or nearly ready) to move out of BW/MO.

Pseudonymous by design: no BSN, no name, no free text; the care provider's own reference is
the only link to the person.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace
from typing import Annotated, Any

from pydantic import BaseModel, ValidationInfo, field_validator, model_validator
from pydantic import Field as PField
from sqlalchemy import JSON, CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from app.ids import Id, uuid7
from app.schemas import (
    ApiModel,
    AreaCode,
    Date,
    ExternalRef,
    JsonBool,
    JsonInt,
    Money,
    Page,
    cbs_digits,
    partial_model,
)
from app.sqltypes import Cents, StatusType, UTCDateTime, one_of, utcnow
from app.timeutil import today
from app.versioning import Versioned, updated_at_field


class Facility(StrEnum):
    beschermd_wonen = "beschermd_wonen"
    maatschappelijke_opvang = "maatschappelijke_opvang"


class IncomeSource(StrEnum):
    participatiewet = "participatiewet"
    wajong = "wajong"
    wia = "wia"
    ww = "ww"
    aow = "aow"
    employment = "employment"
    other = "other"
    none = "none"


class BudgetManagement(StrEnum):
    none = "none"
    budgetbeheer = "budgetbeheer"
    bewindvoering = "bewindvoering"


class BeschikkingStatus(StrEnum):
    none = "none"
    requested = "requested"
    granted = "granted"


class SupportIntensity(StrEnum):
    light = "light"
    moderate = "moderate"
    intensive = "intensive"


class DebtAssistance(StrEnum):
    none = "none"
    applied = "applied"
    active = "active"


class ContractForm(StrEnum):
    own_lease = "own_lease"
    intermediate_lease = "intermediate_lease"
    either = "either"


class CaseStatus(StrEnum):
    registered = "registered"
    ready = "ready"
    proposed = "proposed"
    nominated = "nominated"
    housed = "housed"
    on_hold = "on_hold"
    withdrawn = "withdrawn"


# `ready` is never stored: it is `registered` with `ready_since` on or before today.
STORED_STATUSES = tuple(s for s in CaseStatus if s != CaseStatus.ready)
CLOSED_STATUSES = frozenset({CaseStatus.housed, CaseStatus.withdrawn})


class SettableStatus(StrEnum):
    """The statuses a care provider sets itself; the others follow from dates and decisions."""

    ready = "ready"
    on_hold = "on_hold"
    withdrawn = "withdrawn"


class StatusReason(StrEnum):
    # on_hold
    client_request = "client_request"
    support_needs_changed = "support_needs_changed"
    temporarily_unreachable = "temporarily_unreachable"
    # withdrawn
    returned_to_care = "returned_to_care"
    own_solution = "own_solution"
    left_region = "left_region"
    no_longer_eligible = "no_longer_eligible"
    deceased = "deceased"
    # both
    other = "other"


HOLD_REASONS = frozenset(
    {"client_request", "support_needs_changed", "temporarily_unreachable", "other"}
)
WITHDRAWAL_REASONS = frozenset(
    {"returned_to_care", "own_solution", "left_region", "no_longer_eligible", "deceased", "other"}
)


class Household(ApiModel):
    adults: JsonInt = PField(
        ge=1, le=2, description="Adults in the household that moves, including the client: 1 or 2."
    )
    children: JsonInt = PField(
        0,
        ge=0,
        le=10,
        description=(
            "Children (under 18) moving with the household: 0 to 10; household size"
            " n = adults + children decides the rent cap and the rooms range."
        ),
    )


class Income(ApiModel):
    source: IncomeSource = PField(
        description=(
            "Main source of the household's income: `participatiewet` (bijstand), "
            "`wajong`, `wia`, `ww`, `aow` (state pension), `employment`, `other` or"
            " `none`."
        )
    )
    annual_taxable: Annotated[Decimal, Money(10_000_000)] = PField(
        description="Household taxable income, EUR/year."
    )
    net_monthly: Annotated[Decimal, Money(1_000_000)] | None = PField(
        None, description="EUR per month."
    )
    stable: JsonBool = PField(
        default=False,
        description=(
            "The income is stable (inkomen op orde: a lasting benefit or contract)."
            " With the policy's `require_stable_income`, a case with neither this "
            "nor budget management fails `no_stable_income`."
        ),
    )
    budget_management: BudgetManagement = PField(
        default=BudgetManagement.none,
        description=(
            "Budget management in place: `none`, `budgetbeheer` (voluntary) or "
            "`bewindvoering` (court-ordered, beschermingsbewind); either one counts"
            " as stable income for `no_stable_income`."
        ),
    )


class Beschikking(ApiModel):
    status: BeschikkingStatus = PField(
        default=BeschikkingStatus.none,
        description=(
            "Wmo beschikking (municipal decision) for support after the move: "
            "`none` < `requested` < `granted`; below the policy's "
            "`beschikking_required` the case fails `beschikking_missing`."
        ),
    )
    valid_until: Date | None = PField(
        default=None,
        description=(
            "Last day the granted beschikking is valid (`YYYY-MM-DD`); null when "
            "unknown or not granted."
        ),
    )


class Support(ApiModel):
    intensity: SupportIntensity = PField(
        description=(
            "Support the client needs after the move: `light`, `moderate` or "
            "`intensive` (intensive scores `support_fit` with a complex manager on "
            "site)."
        )
    )
    needs_complex_manager: JsonBool = PField(
        default=False,
        description=(
            "The client needs a complex manager (huismeester) on site; dwellings "
            "without one fail `no_complex_manager`."
        ),
    )


class Debts(ApiModel):
    problematic: JsonBool = PField(
        default=False, description="The client has problematic debts (problematische schulden)."
    )
    debt_assistance: DebtAssistance = PField(
        default=DebtAssistance.none,
        description="Debt assistance (schuldhulpverlening): `none`, `applied` or `active`.",
    )
    rent_arrears_corporation_ids: Annotated[list[Id], PField(max_length=50)] = PField(
        default_factory=list,
        description=(
            "Housing corporations at the case's table the client owes rent to without a payment"
            " arrangement (a corporation elsewhere offers the table no dwelling); any other id"
            " is 400 `unknown_corporation`."
        ),
    )

    @field_validator("rent_arrears_corporation_ids")
    @classmethod
    def _unique(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))


class Needs(ApiModel):
    wheelchair: JsonBool = PField(
        default=False,
        description=(
            "The client needs a wheelchair-accessible dwelling; others fail "
            "`not_wheelchair_accessible`."
        ),
    )
    step_free: JsonBool = PField(default=False, description="Ground floor or a lift.")
    max_floor: JsonInt | None = PField(
        default=None,
        ge=0,
        le=100,
        description=(
            "Highest floor the client can live on (0 = ground floor, up to 100); "
            "null for no limit. Higher dwellings fail `floor_too_high`."
        ),
    )
    pets: JsonBool = PField(
        default=False,
        description=(
            "The client keeps pets; dwellings that do not allow them fail `pets_not_allowed`."
        ),
    )


AreaList = Annotated[list[AreaCode], PField(max_length=100)]


class Areas(ApiModel):
    preferred: AreaList = PField(
        default_factory=list,
        description=(
            "CBS codes of preferred areas: municipality (`GM0344`), district "
            "(`WK034401`) or neighbourhood (`BU03440101`), at most 100; a dwelling "
            "inside one scores `preferred_area`."
        ),
    )
    excluded: AreaList = PField(
        default_factory=list,
        description=(
            "CBS codes (`GM`, `WK` or `BU`, at most 100) of areas the client must "
            "not live in; a dwelling inside one fails `excluded_area`. No code may "
            "be both preferred and excluded."
        ),
    )

    @model_validator(mode="after")
    def _not_both(self) -> "Areas":
        preferred = {cbs_digits(c) for c in self.preferred}
        clash = [c for c in self.excluded if cbs_digits(c) in preferred]
        if clash:
            raise ValueError(f"area(s) both preferred and excluded: {', '.join(clash)}")
        self.preferred = list(dict.fromkeys(self.preferred))
        self.excluded = list(dict.fromkeys(self.excluded))
        return self


class CaseFields(ApiModel):
    """Everything in a case file except its identity."""

    table_id: Id = PField(description="The outflow table (region) the case is brought to.")
    facility: Facility = PField(
        description=(
            "Where the client lives now: `beschermd_wonen` (sheltered housing, BW) "
            "or `maatschappelijke_opvang` (shelter, MO)."
        )
    )
    ready_since: Date = PField(
        description="Date the client was judged ready to live independently; "
        "waiting time counts from here."
    )
    birth_year: JsonInt = PField(
        ge=1900,
        le=2100,
        description=(
            "The client's year of birth (clients are at least 16): age for "
            "dwellings with `min_age` (`age_restricted`) and for the pension-age "
            "income limits of passend toewijzen."
        ),
    )
    birth_month: JsonInt | None = PField(
        None,
        ge=1,
        le=12,
        description="Optional month of birth (1-12; no birth date is kept). With it, age and "
        "AOW (pension) age are decided on the meeting date; without it, the rules take the "
        "reading that admits no one too young and no rent the law would refuse.",
    )
    household: Household = PField(
        description="Who moves: adults and children; their sum is the household size n."
    )
    income: Income = PField(
        description=(
            "The household's income, for passend toewijzen (`rent_above_cap`) and "
            "the stable-income rule."
        )
    )
    registration_date: Date | None = PField(None, description="Registration as house seeker.")
    beschikking: Beschikking = PField(
        default_factory=Beschikking,
        description="The Wmo beschikking for support after the move (default status `none`).",
    )
    support: Support = PField(description="The support the client needs after the move.")
    urgency: JsonBool = PField(False, description="An urgency declaration is granted.")
    debts: Debts = PField(
        default_factory=Debts,
        description=(
            "Debts (default none); rent arrears with a corporation exclude its "
            "dwellings (`rent_arrears`)."
        ),
    )
    needs: Needs = PField(
        default_factory=Needs, description="Access and house-rule needs (default none)."
    )
    areas: Areas = PField(
        default_factory=Areas, description="Preferred and excluded areas (default none)."
    )
    contract_form: ContractForm = PField(
        default=ContractForm.either,
        description=(
            "Lease the client can take: `own_lease` (the client rents), "
            "`intermediate_lease` (the care provider rents and sublets until the "
            "omklap) or `either` (default); a dwelling not accepting it fails "
            "`contract_form_mismatch`."
        ),
    )

    @field_validator("birth_year")
    @classmethod
    def _adult_or_nearly(cls, value: int) -> int:
        if value > today().year - 16:
            raise ValueError("clients are at least 16 years old")
        return value

    @field_validator("registration_date")
    @classmethod
    def _registered_in_the_past(cls, value: date | None) -> date | None:
        if value is not None and value > today():
            raise ValueError("registration_date lies in the future")
        return value


class CaseInput(CaseFields):
    """A case file as a care provider sends it (a creation, a patch merged into the stored
    file): no date before the client's birth year. Not checked on the way out, so a file
    stored before the rule is still read."""

    @field_validator("birth_year")
    @classmethod
    def _born_by_the_ready_date(cls, value: int, info: ValidationInfo) -> int:
        # A client born in 2005 was stored as ready since 1901: the longest wait of the table.
        ready_since = info.data.get("ready_since")
        if ready_since is not None and ready_since.year < value:
            raise ValueError(f"after the ready date {ready_since}: the client was not born yet")
        return value

    @field_validator("registration_date")
    @classmethod
    def _registered_after_birth(cls, value: date | None, info: ValidationInfo) -> date | None:
        birth_year = info.data.get("birth_year")
        if value is not None and birth_year is not None and value.year < birth_year:
            raise ValueError(f"before the birth year {birth_year}")
        return value


class CaseCreate(CaseInput):
    external_ref: ExternalRef
    previous_case_id: Id | None = PField(
        None,
        description="A client who returns: the closed case (`housed` or `withdrawn`) of your "
        "organisation, at any of its tables and with the same `external_ref`, that this case "
        "follows. Only with it is a reference used by a closed case registered again; without "
        "it such a reference answers 409 `duplicate_external_ref`, as an open case's does. "
        "Each closed case is followed once.",
    )
    returning_after_retention: JsonBool = PField(
        False,
        description="A client whose earlier case file under this `external_ref` was closed and "
        "anonymised after the retention period: only with it is such a reference registered "
        "again, as a new case that knows nothing of the earlier one; without it the reference "
        "answers 409 `external_ref_anonymised`, so a system pushing all its clients registers "
        "nobody twice. Not stored.",
    )


class CaseStatusChange(ApiModel):
    status: SettableStatus | None = PField(
        None,
        description="`on_hold`, `ready` (resume after hold) or `withdrawn`; other statuses follow "
        "from dates and table decisions.",
    )
    status_reason: StatusReason | None = PField(
        None,
        description="Required with `on_hold` and `withdrawn`; refused with `ready`, which keeps "
        "no reason (400 `reason_misplaced`), and without `status` (400 `reason_without_status`).",
    )
    exit_date: Date | None = PField(
        None,
        description="With `withdrawn`: the day the client left the outflow (default today, "
        "not in the future).",
    )


CaseUpdate = partial_model(CaseFields, "CaseUpdate", base=CaseStatusChange)
CaseUpdate.__doc__ = (
    "JSON merge patch of a case file: given fields replace stored ones (nested objects merge), "
    "`null` clears a nullable field; the result is validated as a whole."
)


class CasePublic(CaseFields):
    id: uuid.UUID
    external_ref: str
    care_provider_id: uuid.UUID
    previous_case_id: uuid.UUID | None = PField(
        description="The closed case of the same client that this one follows (a return to "
        "the table); null for a first registration. Shown to the case's care provider only "
        "(null for the table's other readers: the earlier case may be at a table they do not "
        "read)."
    )
    status: CaseStatus = PField(
        description=(
            "Lifecycle status: `registered`, `ready` (uitstroomklaar: `ready_since`"
            " reached), `proposed`, `nominated`, `housed`, `on_hold` or "
            "`withdrawn`."
        )
    )
    status_reason: StatusReason | None = PField(
        description=(
            "Why the case is `on_hold` or `withdrawn` (e.g. `client_request`, "
            "`own_solution`); null otherwise."
        )
    )
    parked_until: date | None = PField(
        description="After a decline the table's policy may park the case until this date."
    )
    exit_date: date | None = PField(description="Day the case was housed or withdrawn.")
    anonymised_at: datetime | None = PField(
        description="Set when the retention period after closing passed and the file was "
        "reduced to what the figures need."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class IntakeWarning(BaseModel):
    """A table-policy rule the case fails on its own: it is stored, but matched to no dwelling
    (or, for `registration_too_short`, only to contingent ones) until it changes."""

    code: str = PField(
        description="The hard rule's reason code, as in the agenda's why-not and bottlenecks: "
        "`no_stable_income`, `beschikking_missing` or `registration_too_short`."
    )
    message: str = PField(description="What the rule asks, in words.")
    detail: dict[str, str | int | bool | None] = PField(
        description="The figures that decided it, as the engine gives them in why-not (e.g. "
        "`months_registered` and `required_months`; `status` and `required`)."
    )


class CaseSaved(CasePublic):
    """The case as saved, with the table-policy rules it fails on its own."""

    warnings: list[IntakeWarning] = PField(
        description="The table-policy rules the case fails whatever the dwelling, judged on the "
        "table's next meeting date (today when none is planned): warnings, not errors; empty "
        "when it fails none."
    )


class CasePage(Page[CasePublic]):
    pass


class CaseTransitionPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    from_status: CaseStatus | None
    to_status: CaseStatus
    reason: StatusReason | None = PField(
        description=(
            "The status reason given with the change (for `on_hold` and "
            "`withdrawn`); null otherwise."
        )
    )
    actor_organisation_id: uuid.UUID
    actor_api_key_id: uuid.UUID | None = PField(
        description="The API key that made it; null on the pages, and for another organisation's."
    )


class CaseTransitionPage(Page[CaseTransitionPublic]):
    pass


OPEN_CASE_SQL = "closed_at IS NULL"


class Case(Versioned, SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        # A reference names one open case; a closed one's is registered again only by a case
        # that follows it (`previous_case_id`: a client who returns), each followed once.
        Index(
            "uq_cases_open_external_ref",
            "care_provider_id",
            "external_ref",
            unique=True,
            sqlite_where=text(OPEN_CASE_SQL),
            postgresql_where=text(OPEN_CASE_SQL),
        ),
        # Every case under a reference, closed ones included: a creation's check that the
        # reference is unused, the import's and the list's lookups.
        Index("ix_cases_care_provider_id_external_ref", "care_provider_id", "external_ref"),
        one_of("status", STORED_STATUSES),
        # A move-in never precedes the ready date (app/cases/dates.py, rule 1): the monitor's
        # flow equation and waiting days rest on it, so it holds even when two requests race.
        CheckConstraint(
            "status <> 'housed' OR (exit_date IS NOT NULL AND exit_date >= ready_since)",
            name="housed_after_ready",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    care_provider_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    external_ref: str = Field(max_length=64)
    previous_case_id: uuid.UUID | None = Field(default=None, foreign_key="cases.id", unique=True)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    facility: str = Field(max_length=32)
    ready_since: date
    birth_year: int
    birth_month: int | None = None
    household_adults: int
    household_children: int
    income_source: str = Field(max_length=32)
    income_annual_taxable: Decimal = Field(sa_type=Cents)
    income_net_monthly: Decimal | None = Field(default=None, sa_type=Cents)
    income_stable: bool
    income_budget_management: str = Field(max_length=32)
    registration_date: date | None = None
    beschikking_status: str = Field(max_length=16)
    beschikking_valid_until: date | None = None
    support_intensity: str = Field(max_length=16)
    support_needs_complex_manager: bool
    urgency: bool
    debts_problematic: bool
    debts_debt_assistance: str = Field(max_length=16)
    debts_rent_arrears_corporation_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    needs_wheelchair: bool
    needs_step_free: bool
    needs_max_floor: int | None = None
    needs_pets: bool
    areas_preferred: list[str] = Field(default_factory=list, sa_type=JSON)
    areas_excluded: list[str] = Field(default_factory=list, sa_type=JSON)
    contract_form: str = Field(max_length=32)
    status: CaseStatus = Field(
        default=CaseStatus.registered, sa_type=StatusType(CaseStatus, 16), index=True
    )
    status_reason: str | None = Field(default=None, max_length=32)
    parked_until: date | None = None
    exit_date: date | None = Field(default=None, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()


class CaseTransition(SQLModel, table=True):
    """Every status change of a case, with time and actor (the lifecycle's audit trail)."""

    __tablename__ = "case_transitions"
    __table_args__ = (one_of("from_status", CaseStatus), one_of("to_status", CaseStatus))

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    from_status: CaseStatus | None = Field(default=None, sa_type=StatusType(CaseStatus, 16))
    to_status: CaseStatus = Field(sa_type=StatusType(CaseStatus, 16))
    reason: str | None = Field(default=None, max_length=32)
    actor_organisation_id: uuid.UUID = Field(foreign_key="organisations.id")
    actor_api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_keys.id")


def effective_status(
    stored: str, ready_since: date, on: date | None = None, parked_until: date | None = None
) -> CaseStatus:
    """`ready` is implied by `ready_since <= today` for an open, registered case; a case parked
    after a decline is `on_hold` until its date passes."""
    on = on or today()
    if stored in (CaseStatus.registered, CaseStatus.ready):
        if parked_until is not None and parked_until > on:
            return CaseStatus.on_hold
        return CaseStatus.ready if ready_since <= on else CaseStatus.registered
    return CaseStatus(stored)


class CaseRow(SimpleNamespace):
    """A case file's columns as attributes, as `app.cases.service.create_case` inserted them: what
    `case_public_dict`, `etag` and the intake check read from a `Case`, without the ORM object
    (building a SQLModel row costs more than its INSERT)."""


def case_public_dict(case: Case | CaseRow) -> dict[str, Any]:
    from app.flat import nest

    data = nest(case, CasePublic)
    data["debts"]["rent_arrears_corporation_ids"] = list(case.debts_rent_arrears_corporation_ids)
    data["status"] = effective_status(case.status, case.ready_since, parked_until=case.parked_until)
    data["parked_until"] = case.parked_until
    data["exit_date"] = case.exit_date
    data["anonymised_at"] = case.anonymised_at
    return data


def case_public(case: Case | CaseRow, reader: uuid.UUID) -> CasePublic:
    """The case as `reader` (an organisation's id) reads it: the link to the case it follows
    only for its care provider, as that case may be at a table the other readers do not read
    (a case moves between tables)."""
    data = case_public_dict(case)
    if case.care_provider_id != reader:
        data["previous_case_id"] = None
    return CasePublic.model_validate(data)
