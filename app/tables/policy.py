"""The allocation policy of one outflow table: rules and weights as data, editable by the chair.

Defaults follow docs/domain.md; every agenda records the policy it used.
"""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator

from app.null_fields import RefusesNull
from app.schemas import ApiModel, JsonBool, JsonInt, JsonNumber, validate_merged

HOUSEHOLD_SIZE_KEYS = ("1", "2", "3", "4", "5")


class BeschikkingLevel(StrEnum):
    none = "none"
    requested = "requested"
    granted = "granted"


Rooms = Annotated[JsonInt, Field(ge=1, le=20)]
RoomRange = tuple[Rooms, Rooms | None]
Weight = Annotated[JsonNumber, Field(ge=0, le=1000, allow_inf_nan=False)]


class ScoreWeights(ApiModel):
    """Points per unit of each score component (see the README for the units)."""

    waiting_time: Weight = Field(default=10.0, description="Points per year since `ready_since`.")
    urgency: Weight = Field(
        default=5.0, description="Points when an urgency declaration is granted."
    )
    preferred_area: Weight = Field(
        default=2.0, description="Points when the dwelling is in a preferred area."
    )
    support_fit: Weight = Field(
        default=2.0, description="Points when intensive support meets a complex manager on site."
    )
    registration: Weight = Field(
        default=0.5, description="Points per year of house-seeker registration, up to 10 years."
    )
    rent_headroom: Weight = Field(
        default=1.0, description="Points times the unused fraction of the applicable rent cap."
    )


ParkingDays = Annotated[JsonInt, Field(ge=0, le=730)]


def _default_parking() -> dict[str, int]:
    return {"no_show": 90, "not_ready_to_move": 60}


def _default_decline_scope() -> dict[str, int]:
    return {"failed_reference_check": 365, "rent_arrears": 365}


ScopeDays = Annotated[JsonInt, Field(ge=0, le=3650)]
StallDays = Annotated[JsonInt, Field(ge=0, le=3650)]
CheckpointMonths = Annotated[
    list[Annotated[JsonInt, Field(ge=1, le=120)]], Field(min_length=1, max_length=12)
]
MAX_TRANSFER_MONTHS = 120
"""The latest omklap a table plans by default or anyone plans by hand, in months after the
move-in (the omklap is often 12-24 months, docs/domain.md): ten years, so that a planned day
far off (2100) is refused rather than never coming onto the agenda as overdue."""

TransferMonths = Annotated[JsonInt, Field(ge=1, le=MAX_TRANSFER_MONTHS)]


def _default_checkpoint_months() -> list[int]:
    """Follow-up after the move at 3, 6 and 12 months (docs/domain.md, zachte landing)."""
    return [3, 6, 12]


def _sorted_months(value: list[int] | None) -> list[int] | None:
    return None if value is None else sorted(set(value))


def _default_stalled_after() -> dict[str, int]:
    """Days an open proposal may stay in a status before the agenda flags it as stalled (the
    README's table): a week to nominate, two to answer, arrange and hold a viewing, a month
    from the signed lease to the move-in."""
    return {
        "proposed": 7,
        "nominated": 14,
        "accepted": 14,
        "viewing_planned": 14,
        "tenancy_signed": 30,
    }


def _open_statuses(value: dict[str, int] | None) -> dict[str, int] | None:
    from app.proposals.models import OPEN_PROPOSAL

    if value is None:
        return value
    unknown = sorted(set(value) - {s.value for s in OPEN_PROPOSAL})
    if unknown:
        raise ValueError(f"not an open proposal status: {', '.join(unknown)}")
    return value


def _corporation_decline_reasons(value: dict[str, int]) -> dict[str, int]:
    from app.proposals.models import REASONS, Decision

    unknown = sorted(set(value) - REASONS[Decision.corporation_decline])
    if unknown:
        raise ValueError(f"not a corporation decline reason: {', '.join(unknown)}")
    return value


def _default_rooms() -> dict[str, RoomRange]:
    return {"1": (1, 3), "2": (2, 3), "3": (3, 4), "4": (3, 5), "5": (4, None)}


class TablePolicy(ApiModel):
    rooms_by_household_size: dict[str, RoomRange] = Field(
        default_factory=_default_rooms,
        description="Per household size 1-5 (5 also covers larger households): [min, max] rooms "
        "including the living room; max null means no maximum.",
    )
    horizon_days: JsonInt = Field(
        default=56,
        ge=0,
        le=366,
        description=(
            "Days after the meeting date within which a dwelling must become "
            "available (0-366, default 56); later ones fail "
            "`not_available_in_horizon`."
        ),
    )
    require_stable_income: JsonBool = Field(
        default=True,
        description=(
            "Require a stable income or budget management (default true); otherwise"
            " a case fails `no_stable_income`."
        ),
    )
    beschikking_required: BeschikkingLevel = Field(
        default=BeschikkingLevel.requested,
        description=(
            "Lowest beschikking status a case needs (`none` < `requested` < "
            "`granted`, default `requested`); below it the case fails "
            "`beschikking_missing`."
        ),
    )
    min_registration_months: JsonInt = Field(
        default=24,
        ge=0,
        le=600,
        description=(
            "Full calendar months of house-seeker registration (inschrijfduur) "
            "needed for a dwelling outside the contingent without urgency (0-600, "
            "default 24); shorter fails `registration_too_short`."
        ),
    )
    max_per_complex: JsonInt = Field(
        default=2,
        ge=0,
        le=10_000,
        description=(
            "Spread cap: at most this many proposals plus placements within "
            "`spread_window_months` in one complex (0-10000, default 2)."
        ),
    )
    max_per_neighbourhood: JsonInt = Field(
        default=5,
        ge=0,
        le=10_000,
        description=(
            "Spread cap: at most this many proposals plus placements within "
            "`spread_window_months` in one CBS neighbourhood (0-10000, default 5), "
            "against concentration in weaker neighbourhoods."
        ),
    )
    spread_window_months: JsonInt = Field(
        default=24,
        ge=0,
        le=240,
        description=(
            "Months back over which placements count towards the spread caps (0-240, default 24)."
        ),
    )
    score_weights: ScoreWeights = Field(
        default_factory=ScoreWeights,
        description="Weights of the score components (points per unit).",
    )
    decline_parking_days: dict[str, ParkingDays] = Field(
        default_factory=_default_parking,
        description="Days a case is parked (not matched) after a decline with this reason; "
        "reasons not listed park nothing.",
    )
    corporation_decline_scope_days: dict[str, ScopeDays] = Field(
        default_factory=_default_decline_scope,
        description="A declined pair is never proposed again. A corporation decline with a reason "
        "listed here also keeps the case from all of that corporation's dwellings for this many "
        "days after the decision (`declined_by_corporation_earlier`); 0 or not listed: the "
        "declined pair only.",
    )

    stalled_after_days: dict[str, StallDays] = Field(
        default_factory=_default_stalled_after,
        description="Per open proposal status: days it may stay in that status before the "
        "agenda flags it as stalled and `proposal.stalled` is sent (a status not listed never "
        "stalls).",
    )

    aftercare_checkpoint_months: CheckpointMonths = Field(
        default_factory=_default_checkpoint_months,
        description="Months after the move-in at which the care provider records a follow-up "
        "checkpoint (`app.aftercare`); due and overdue ones come onto the agenda.",
    )
    lease_transfer_months: TransferMonths = Field(
        default=12,
        description="Months after the move-in an intermediate lease is planned to go to the "
        "client (the omklap), unless the care provider or corporation plans another day.",
    )

    _stall_statuses = field_validator("stalled_after_days")(_open_statuses)
    _checkpoint_months = field_validator("aftercare_checkpoint_months")(_sorted_months)

    @field_validator("decline_parking_days")
    @classmethod
    def _known_decline_reasons(cls, value: dict[str, int]) -> dict[str, int]:
        from app.proposals.models import DECLINE_REASONS

        unknown = sorted(set(value) - DECLINE_REASONS)
        if unknown:
            raise ValueError(f"not a decline reason: {', '.join(unknown)}")
        return value

    @field_validator("corporation_decline_scope_days")
    @classmethod
    def _known_corporation_reasons(cls, value: dict[str, int]) -> dict[str, int]:
        return _corporation_decline_reasons(value)

    @field_validator("rooms_by_household_size")
    @classmethod
    def _all_sizes_with_ordered_ranges(cls, value: dict[str, RoomRange]) -> dict[str, RoomRange]:
        if sorted(value) != list(HOUSEHOLD_SIZE_KEYS):
            raise ValueError('needs exactly the household sizes "1" to "5"')
        for size, (low, high) in value.items():
            if high is not None and high < low:
                raise ValueError(f"household size {size}: max rooms below min rooms")
        return value


class TablePolicyPatch(ApiModel, RefusesNull):
    """Partial policy: given fields replace the current ones (score_weights merge per weight)."""

    rooms_by_household_size: dict[str, RoomRange] | None = Field(
        default=None,
        description=(
            'Replaces `rooms_by_household_size` (all sizes "1" to "5"); leave out to keep it.'
        ),
    )
    horizon_days: JsonInt | None = Field(
        None, ge=0, le=366, description="New `horizon_days` (0-366); leave out to keep it."
    )
    require_stable_income: JsonBool | None = Field(
        default=None, description="New `require_stable_income`; leave out to keep it."
    )
    beschikking_required: BeschikkingLevel | None = Field(
        default=None,
        description=(
            "New `beschikking_required` (`none`, `requested` or `granted`); leave out to keep it."
        ),
    )
    min_registration_months: JsonInt | None = Field(
        None,
        ge=0,
        le=600,
        description="New `min_registration_months` (0-600); leave out to keep it.",
    )
    max_per_complex: JsonInt | None = Field(
        None, ge=0, le=10_000, description="New `max_per_complex` (0-10000); leave out to keep it."
    )
    max_per_neighbourhood: JsonInt | None = Field(
        None,
        ge=0,
        le=10_000,
        description="New `max_per_neighbourhood` (0-10000); leave out to keep it.",
    )
    spread_window_months: JsonInt | None = Field(
        None, ge=0, le=240, description="New `spread_window_months` (0-240); leave out to keep it."
    )
    score_weights: dict[str, Weight] | None = Field(
        default=None,
        description="Weights to change by component name (0-1000 each); the others are kept.",
    )
    decline_parking_days: dict[str, ParkingDays] | None = Field(
        default=None,
        description=(
            "Replaces `decline_parking_days` (decline reason -> days, 0-730); leave out to keep it."
        ),
    )
    corporation_decline_scope_days: dict[str, ScopeDays] | None = Field(
        default=None,
        description=(
            "Replaces `corporation_decline_scope_days` (corporation decline reason "
            "-> days, 0-3650); leave out to keep it."
        ),
    )
    stalled_after_days: dict[str, StallDays] | None = Field(
        None, description="Merged per status into the current limits."
    )
    aftercare_checkpoint_months: CheckpointMonths | None = Field(
        None, description="Replaces the follow-up checkpoints (months after the move-in)."
    )
    lease_transfer_months: TransferMonths | None = Field(
        None, description="Months after the move-in the omklap is planned by default."
    )

    _stall_statuses = field_validator("stalled_after_days")(_open_statuses)
    _checkpoint_months = field_validator("aftercare_checkpoint_months")(_sorted_months)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nulls(cls, value: Any, info: ValidationInfo) -> Any:
        """A null sent for a field is refused under that field's own name (`policy.x`), not
        the policy's: only sent fields are validated, so a left-out one keeps its value."""
        if value is None:
            raise ValueError(
                f"{info.field_name} cannot be null; leave it out to keep the current value"
            )
        return value


def merge_policy(current: dict[str, Any], patch: TablePolicyPatch) -> TablePolicy:
    """Apply a partial policy to a stored one and validate the result as a whole."""
    merged = dict(current)
    changes = patch.model_dump(exclude_unset=True, mode="json")
    weights = changes.pop("score_weights", None)
    stalls = changes.pop("stalled_after_days", None)
    merged.update(changes)
    if weights:
        merged["score_weights"] = {**merged.get("score_weights", {}), **weights}
    if stalls:
        current_stalls = merged.get("stalled_after_days") or _default_stalled_after()
        merged["stalled_after_days"] = {**current_stalls, **stalls}
    return validate_merged(TablePolicy, merged, ("policy",))
