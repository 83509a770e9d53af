"""Legal limits per calendar year (rent caps, income limits): data, not code.

The shipped figures, each year with its source, are in `app/data/limits.json` and reach the
database when it is migrated (`app.limits.service.sync_from_data_file`); the operator adds or
corrects a year with `PUT /v1/limits/{year}`. An agenda in a year without limits uses the latest
earlier year's and says so (`limits_fallback`).

`daeb_rent_limit` is the DAEB rent limit (also the huurtoeslag rent limit). Until issue 9 it was
called `liberalisation_limit`; since the Wet betaalbare huur "liberalisatiegrens" names the top of
the middle segment instead, so the old name misled. v1 still reads and writes the old name
(deprecated).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic import Field as PField
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlmodel import Field, SQLModel

from app.schemas import ApiModel, JsonBool, JsonInt, Money, Text
from app.sqltypes import Cents
from app.versioning import Versioned, updated_at_field


@dataclass(frozen=True, slots=True)
class AboveZero:
    """In the contract, a legal limit is above 0, as `app.limits.data.check_consistent` has it
    (400 `limit_not_positive`): the number `exclusiveMinimum: 0`, the string holding a digit
    other than 0. The contract said `minimum: 0`, so a client checking its request against it
    learnt of the rule from the 400 only."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "number":
                branch.pop("minimum", None)
                branch["exclusiveMinimum"] = 0
            elif branch.get("type") == "string":
                branch["allOf"] = [{"pattern": "[1-9]"}]
        return schema


Rent = Annotated[Decimal, Money(100_000)]
RentLimit = Annotated[Decimal, Money(100_000), AboveZero()]
"""A cap or rent limit: no legal one is 0 (`app.limits.data.check_consistent`)."""
Income = Annotated[Decimal, Money(10_000_000), AboveZero()]
"""An income limit: above 0, as a rent limit."""
Source = Annotated[str, Text(2000)]

DAEB_RENT_LIMIT = (
    "DAEB rent limit (also the huurtoeslag rent limit), EUR/month: the most rent passend "
    "toewijzen allows a household above its income limit."
)
LIBERALISATION_ALIAS = (
    "Deprecated alias of `daeb_rent_limit` (the same figure), kept for v1 clients. Since the Wet "
    "betaalbare huur the word liberalisatiegrens names the top of the middle segment, not this "
    "limit."
)
PENSION_AGE_DEPRECATED = (
    "Deprecated. The AOW age is no longer a whole number per limits year: it is set per birth "
    "cohort in years and months (see `aow_age` and the README)."
)


class LimitsOrigin(StrEnum):
    data_file = "data_file"
    """Mirrors the shipped app/data/limits.json; a release that corrects the file updates it."""
    operator = "operator"
    """Set with PUT /v1/limits/{year}; the shipped file never overwrites it."""


class _Figures(ApiModel):
    low_cap: RentLimit = PField(description="Lage aftoppingsgrens (households of 1-2), EUR/month.")
    high_cap: RentLimit = PField(description="Hoge aftoppingsgrens (households of 3+), EUR/month.")
    income_limit_single: Income = PField(
        description="Passend-toewijzen income limit, one person below the AOW age, EUR/year."
    )
    income_limit_multi: Income = PField(description="Same, two or more persons.")
    income_limit_single_pension: Income = PField(description="Same, one person at the AOW age.")
    income_limit_multi_pension: Income = PField(
        description="Same, two or more persons at the AOW age."
    )
    daeb_income_limit_single: Income = PField(description="DAEB income limit, one person.")
    daeb_income_limit_multi: Income = PField(description="DAEB income limit, two or more.")
    service_costs_count: JsonBool = PField(
        description="Whether eligible service costs count in the test rent this year."
    )
    service_costs_max: Rent | None = PField(
        None, description="The most service costs that count, EUR/month (null: no maximum)."
    )


class YearLimitsFields(_Figures):
    """A year's limits as the operator sends them (`PUT /v1/limits/{year}`).

    Give `daeb_rent_limit`, or the deprecated `liberalisation_limit`; both is accepted only when
    they are equal.
    """

    daeb_rent_limit: RentLimit | None = PField(
        None, description=DAEB_RENT_LIMIT + " Required (or its deprecated alias)."
    )
    liberalisation_limit: RentLimit | None = PField(
        None, deprecated=True, description=LIBERALISATION_ALIAS
    )
    pension_age: JsonInt | None = PField(
        None,
        ge=50,
        le=90,
        deprecated=True,
        description=PENSION_AGE_DEPRECATED
        + " Still accepted when it equals the whole years of that year's AOW age; refused "
        "otherwise, because it would change nothing.",
    )
    source: Source = PField(
        description=(
            "Where the figures come from (publication, URL, date); shown with the limits. "
            "Required: a year's figures without their source cannot be checked."
        ),
    )


class AowAgeOut(BaseModel):
    """The AOW age of the people who reach it in a calendar year."""

    years: int = PField(description="Whole years of the AOW (state pension) age.")
    months: int = PField(description="Months on top of `years` (0-11).")


class YearLimitsPublic(_Figures):
    year: int
    daeb_rent_limit: RentLimit = PField(description=DAEB_RENT_LIMIT)
    liberalisation_limit: RentLimit = PField(deprecated=True, description=LIBERALISATION_ALIAS)
    aow_age: AowAgeOut | None = PField(
        description="The AOW age of those who reach it in this year (from the AOW table shipped "
        "with the service); null when it is not yet set. Who is at pension age on a date is "
        "decided per birth cohort, in years and months."
    )
    pension_age: int | None = PField(
        deprecated=True, description=PENSION_AGE_DEPRECATED + " Whole years of `aow_age`."
    )
    source: str | None = PField(description="Where the figures come from; null if not recorded.")
    origin: LimitsOrigin | None = PField(
        description="`data_file`: shipped with the service (a release may correct it); "
        "`operator`: set with PUT, never overwritten by the shipped data. Null in agendas "
        "frozen before the origin was recorded."
    )
    updated_at: datetime


class MissingYear(BaseModel):
    year: int
    falls_back_to: int | None = PField(
        description="The year whose limits an agenda in `year` uses instead (the latest earlier "
        "year with limits)."
    )


class YearLimitsList(BaseModel):
    items: list[YearLimitsPublic]
    missing_years: list[MissingYear] = PField(
        description="Years from the earliest known through next year that have no limits of "
        "their own: agendas in them fall back to an earlier year's limits. Add them with PUT."
    )


class LimitsFallback(BaseModel):
    """Present on an agenda whose meeting year has no limits of its own."""

    meeting_year: int = PField(
        description="The meeting's calendar year, which has no limits of its own."
    )
    limits_year: int = PField(description="The year whose limits the agenda used instead.")
    detail: str = PField(description="What happened, in words.")


class YearLimits(Versioned, SQLModel, table=True):
    """A year's legal limits. Versioned: a `PUT` with `If-Match` does not overwrite figures
    another operator entered meanwhile."""

    __tablename__ = "yearly_limits"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    low_cap: Decimal = Field(sa_type=Cents)
    high_cap: Decimal = Field(sa_type=Cents)
    daeb_rent_limit: Decimal = Field(sa_type=Cents)
    income_limit_single: Decimal = Field(sa_type=Cents)
    income_limit_multi: Decimal = Field(sa_type=Cents)
    income_limit_single_pension: Decimal = Field(sa_type=Cents)
    income_limit_multi_pension: Decimal = Field(sa_type=Cents)
    daeb_income_limit_single: Decimal = Field(sa_type=Cents)
    daeb_income_limit_multi: Decimal = Field(sa_type=Cents)
    service_costs_count: bool
    service_costs_max: Decimal | None = Field(default=None, sa_type=Cents)
    source: str | None = Field(default=None, max_length=2000)
    origin: str = Field(default=LimitsOrigin.operator.value, max_length=16)
    version: int = 1
    updated_at: datetime = updated_at_field()


FIGURES: tuple[str, ...] = (
    "low_cap",
    "high_cap",
    "daeb_rent_limit",
    "income_limit_single",
    "income_limit_multi",
    "income_limit_single_pension",
    "income_limit_multi_pension",
    "daeb_income_limit_single",
    "daeb_income_limit_multi",
    "service_costs_count",
    "service_costs_max",
)
"""The columns that hold a year's figures (what the shipped file and a PUT set)."""
