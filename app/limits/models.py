"""Legal limits per calendar year (rent caps, income limits): data, not code.

Seeded for 2025 and 2026 by migration; the operator adds a year with `PUT /v1/limits/{year}`.
"""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from app.schemas import ApiModel, money
from app.sqltypes import Cents
from app.versioning import updated_at_field

Rent = money(100_000)
Income = money(10_000_000)


class YearLimitsFields(ApiModel):
    low_cap: Rent = PField(description="Lage aftoppingsgrens (households of 1-2), EUR/month.")  # type: ignore[valid-type]
    high_cap: Rent = PField(description="Hoge aftoppingsgrens (households of 3+), EUR/month.")  # type: ignore[valid-type]
    liberalisation_limit: Rent = PField(description="Liberalisatiegrens, EUR/month.")  # type: ignore[valid-type]
    income_limit_single: Income = PField(  # type: ignore[valid-type]
        description="Passend-toewijzen income limit, one person below pension age, EUR/year."
    )
    income_limit_multi: Income = PField(description="Same, two or more persons.")  # type: ignore[valid-type]
    income_limit_single_pension: Income = PField(description="Same, one person at pension age.")  # type: ignore[valid-type]
    income_limit_multi_pension: Income = PField(  # type: ignore[valid-type]
        description="Same, two or more persons at pension age."
    )
    daeb_income_limit_single: Income = PField(description="DAEB income limit, one person.")  # type: ignore[valid-type]
    daeb_income_limit_multi: Income = PField(description="DAEB income limit, two or more.")  # type: ignore[valid-type]
    pension_age: int = PField(67, ge=50, le=90, description="Age (years) for the pension limits.")
    service_costs_count: bool = PField(
        description="Whether eligible service costs count in the test rent this year."
    )
    service_costs_max: Rent | None = PField(  # type: ignore[valid-type]
        None, description="The most service costs that count, EUR/month (null: no maximum)."
    )


class YearLimitsPublic(YearLimitsFields):
    year: int
    updated_at: datetime


class YearLimitsList(BaseModel):
    items: list[YearLimitsPublic]


class YearLimits(SQLModel, table=True):
    __tablename__ = "yearly_limits"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    low_cap: Decimal = Field(sa_type=Cents)
    high_cap: Decimal = Field(sa_type=Cents)
    liberalisation_limit: Decimal = Field(sa_type=Cents)
    income_limit_single: Decimal = Field(sa_type=Cents)
    income_limit_multi: Decimal = Field(sa_type=Cents)
    income_limit_single_pension: Decimal = Field(sa_type=Cents)
    income_limit_multi_pension: Decimal = Field(sa_type=Cents)
    daeb_income_limit_single: Decimal = Field(sa_type=Cents)
    daeb_income_limit_multi: Decimal = Field(sa_type=Cents)
    pension_age: int
    service_costs_count: bool
    service_costs_max: Decimal | None = Field(default=None, sa_type=Cents)
    updated_at: datetime = updated_at_field()
