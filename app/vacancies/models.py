"""Vacant social-rental dwellings offered by housing corporations."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic import Field as PField
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.ids import uuid7
from app.schemas import (
    INVISIBLE,
    ApiModel,
    Date,
    ExternalRef,
    JsonBool,
    JsonInt,
    Money,
    MunicipalityCode,
    NeighbourhoodCode,
    Page,
    Text,
    cbs_digits,
)
from app.sqltypes import Cents, StatusType, UTCDateTime, one_of, utcnow
from app.versioning import Versioned, updated_at_field

MAX_BATCH = 1000
POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
# White space and invisible characters at either end of a short text (`app.imports.columns.trim`
# strips the same from a cell).
EDGE_BLANKS = re.compile(rf"^[\s{INVISIBLE}]+|[\s{INVISIBLE}]+$")


def _trimmed(value: str) -> str:
    return EDGE_BLANKS.sub("", value)


class DwellingType(StrEnum):
    apartment = "apartment"
    single_family = "single_family"
    studio = "studio"
    room = "room"


class LeaseForm(StrEnum):
    own_lease = "own_lease"
    intermediate_lease = "intermediate_lease"


class VacancyStatus(StrEnum):
    available = "available"
    proposed = "proposed"
    let = "let"
    withdrawn = "withdrawn"


class Address(ApiModel):
    # Trimmed as `complex_ref` (and every cell of the import and the page) is: ` Dorpsstraat `
    # sent through the API was stored so, and `Dorpsstraat` pushed later counted as a change.
    street: Annotated[str, Text(200), AfterValidator(_trimmed)] = PField(
        description="Street name (at most 200 characters)."
    )
    house_number: Annotated[str, Text(16), AfterValidator(_trimmed)] = PField(
        examples=["12", "12A", "12-3"],
        description=(
            "House number with any addition (huisnummer, toevoeging; at most 16 characters)."
        ),
    )
    postcode: Annotated[str, StringConstraints(pattern=POSTCODE.pattern)] = PField(
        description="Dutch postcode; `1234 ab` is stored as `1234AB`.", examples=["3512AB"]
    )
    municipality_code: MunicipalityCode
    neighbourhood_code: NeighbourhoodCode

    @field_validator("postcode")
    @classmethod
    def _normalise_postcode(cls, value: str) -> str:
        return value.replace(" ", "").upper()

    @field_validator("neighbourhood_code")
    @classmethod
    def _neighbourhood_in_municipality(cls, value: str, info: ValidationInfo) -> str:
        municipality = info.data.get("municipality_code")
        if municipality and not cbs_digits(value).startswith(cbs_digits(municipality)):
            raise ValueError(f"{value} does not lie in municipality {municipality}")
        return value


class AddressPublic(Address):
    """The dwelling's address as stored: one stored before December 2026 may have a street or
    house number of only white space, which is refused when sent now."""

    # Read as stored rather than failing every answer that shows the dwelling (`app.schemas.Text`
    # refuses white space only since then; `VacancyPublic` extends `VacancyIn`).
    street: str = PField(description="Street name.")
    house_number: str = PField(description="House number with any addition.")


class Rent(ApiModel):
    base: Annotated[Decimal, Money(10_000)] = PField(description="Kale huur, EUR per month.")
    eligible_service_costs: Annotated[Decimal, Money(10_000)] = PField(
        Decimal("0.00"), description="Service costs that count for huurtoeslag, EUR per month."
    )


LeaseForms = Annotated[list[LeaseForm], PField(min_length=1, max_length=2)]


class VacancyIn(ApiModel):
    external_ref: ExternalRef
    address: Address = PField(
        description=(
            "The dwelling's address with its CBS municipality and neighbourhood "
            "codes; the municipality decides which table it belongs to."
        )
    )
    # Trimmed as the spreadsheet import and the dwelling's page read it: `CPX-1 ` sent through
    # the API was a complex of its own, beside `CPX-1`, for the spread cap per complex.
    complex_ref: Annotated[str, Text(64), AfterValidator(_trimmed)] | None = PField(
        None, description="The building or complex, for spreading; unique per corporation."
    )
    dwelling_type: DwellingType = PField(
        description="`apartment`, `single_family`, `studio` or `room`."
    )
    rooms: JsonInt = PField(ge=1, le=20, description="Rooms including the living room.")
    floor: JsonInt = PField(
        0,
        ge=-1,
        le=100,
        description=(
            "Floor of the front door: -1 (basement) to 100, 0 is the ground floor "
            "(default 0); with `has_lift` decides `not_step_free` and "
            "`floor_too_high`."
        ),
    )
    has_lift: JsonBool = PField(
        default=False,
        description=(
            "The dwelling is reachable by lift (default false); floor 0 or a lift is step-free."
        ),
    )
    wheelchair_accessible: JsonBool = PField(
        default=False, description="The dwelling is wheelchair accessible (default false)."
    )
    rent: Rent = PField(
        description=(
            "Monthly rent in EUR: kale huur and eligible service costs; the test "
            "rent for passend toewijzen (`rent_above_cap`) is taken from it."
        )
    )
    available_from: Date = PField(
        description=(
            "First day the dwelling can be let (`YYYY-MM-DD`); after the meeting "
            "date plus the policy's `horizon_days` it fails "
            "`not_available_in_horizon`. A move-in (`house`) is not before it."
        )
    )
    respond_before: Date | None = PField(
        default=None,
        description="Day by which the corporation needs a candidate (`YYYY-MM-DD`), or null.",
    )
    contingent: JsonBool = PField(False, description="Offered under the outflow contingent.")
    complex_manager: JsonBool = PField(
        False, description="A complex manager / huismeester is present."
    )
    pets_allowed: JsonBool = PField(
        default=True, description="Pets are allowed by the house rules (default true)."
    )
    min_age: JsonInt | None = PField(
        None,
        ge=0,
        le=120,
        description=(
            "Minimum age of the tenant (0-120) for an age-restricted complex, or "
            "null; a younger client fails `age_restricted`."
        ),
    )
    contract_forms: LeaseForms = PField(
        default_factory=lambda: [LeaseForm.own_lease],
        description=(
            "Lease forms the corporation accepts: one or both of `own_lease` and "
            "`intermediate_lease` (default `own_lease`)."
        ),
    )

    @field_validator("contract_forms")
    @classmethod
    def _unique_forms(cls, value: list[LeaseForm]) -> list[LeaseForm]:
        return sorted(set(value))


NOT_AN_OBJECT = "Input should be an object (a dwelling)"


def _raw_or_validated(value: Any) -> Any:
    """A batch item as it came (checked in the service) or as `app.vacancies.batch_body`
    validated it. An item that is no object also reaches the service, which refuses it under
    the item's own name, `items[3]` (code `dict_type`), beside every other item's errors:
    refused here, it was the only error the 400 listed. (A union of `dict` and `VacancyIn`
    named each of its members in the location, two invalid params for one item.)"""
    return value


class VacancyBatch(ApiModel):
    """Up to 1000 dwellings, stored all or nothing; a 400 lists every invalid item and field."""

    # Items are validated one by one in the service, so that one answer lists schema errors
    # and domain errors (uncovered municipality, repeated reference) of all items together.
    # A body that is valid as a whole arrives already validated (`VacancyIn`, see
    # `app.vacancies.batch_body`); a raw item stays raw (`_raw_or_validated`).

    items: Annotated[
        list[Annotated[Any, PlainValidator(_raw_or_validated)]],
        WithJsonSchema(
            {
                "type": "array",
                "items": {"$ref": "#/components/schemas/VacancyIn"},
                "minItems": 1,
                "maxItems": MAX_BATCH,
            }
        ),
    ] = PField(
        min_length=1,
        max_length=MAX_BATCH,
        description="The dwellings to store, 1 to 1000, each as the body of `POST /v1/vacancies`.",
    )


class ValidBatch(ApiModel):
    """A batch body every item of which is valid: the one-pass parse of
    `app.vacancies.batch_body`."""

    items: list[VacancyIn] = PField(min_length=1, max_length=MAX_BATCH)


class VacancyPublic(VacancyIn):
    # As stored (see `AddressPublic`): the rules of `VacancyIn` are for what is sent.
    address: AddressPublic = PField(
        description=(
            "The dwelling's address with its CBS municipality and neighbourhood "
            "codes; the municipality decides which table it belongs to."
        )
    )
    complex_ref: str | None = PField(
        None, description="The building or complex, for spreading; unique per corporation."
    )
    id: uuid.UUID
    corporation_id: uuid.UUID
    table_id: uuid.UUID
    status: VacancyStatus = PField(
        description="`available`, `proposed` (in an open proposal), `let` or `withdrawn`."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class VacancyPage(Page[VacancyPublic]):
    pass


class VacancyUpsertResult(BaseModel):
    id: uuid.UUID
    external_ref: str
    outcome: str = PField(description="`created`, `updated` or `unchanged`.")


class VacancyBatchResult(BaseModel):
    created: int = PField(description="Dwellings of the batch that were new.")
    updated: int = PField(description="Dwellings of the batch that existed and changed.")
    unchanged: int = PField(description="Dwellings of the batch that existed unchanged.")
    items: list[VacancyUpsertResult] = PField(
        description="One entry per dwelling of the batch: its id, `external_ref` and outcome."
    )


class Vacancy(Versioned, SQLModel, table=True):
    __tablename__ = "vacancies"
    __table_args__ = (
        UniqueConstraint("corporation_id", "external_ref"),
        one_of("status", VacancyStatus),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    corporation_id: uuid.UUID = Field(foreign_key="organisations.id", index=True)
    external_ref: str = Field(max_length=64)
    table_id: uuid.UUID = Field(foreign_key="outflow_tables.id", index=True)
    address_street: str = Field(max_length=200)
    address_house_number: str = Field(max_length=16)
    address_postcode: str = Field(max_length=6)
    address_municipality_code: str = Field(max_length=6)
    address_neighbourhood_code: str = Field(max_length=10, index=True)
    complex_ref: str | None = Field(default=None, max_length=64)
    dwelling_type: str = Field(max_length=16)
    rooms: int
    floor: int
    has_lift: bool
    wheelchair_accessible: bool
    rent_base: Decimal = Field(sa_type=Cents)
    rent_eligible_service_costs: Decimal = Field(sa_type=Cents)
    available_from: date
    respond_before: date | None = None
    contingent: bool
    complex_manager: bool
    pets_allowed: bool
    min_age: int | None = None
    contract_forms: list[str] = Field(default_factory=list, sa_type=JSON)
    status: VacancyStatus = Field(
        default=VacancyStatus.available, sa_type=StatusType(VacancyStatus, 16), index=True
    )
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()


def vacancy_public_dict(vacancy: Vacancy) -> dict[str, Any]:
    from app.flat import nest

    return nest(vacancy, VacancyPublic)
