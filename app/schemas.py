"""Shared field types and the list envelope of the API.

Every input field is bounded, so that no input reaches the database in a form it rejects
(a NUL byte, a 20-digit integer, a date 10,000 years away) and turns into a 500.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import GroupedMetadata, Interval
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    Strict,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from app.problems import PATTERN_REASONS

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)


# JSON Schema pattern (ECMA-262 and Rust regex alike): printable, no control characters (C0,
# DEL, C1), no line or paragraph separator, no bidirectional embedding, override or isolate
# (an organisation's or person's name with U+202E showed reversed, e.g. as someone else's, on
# the pages and in exports: "Trojan Source", CVE-2021-42574; the marks U+200E/U+200F that
# right-to-left names may need stay), and at least one character that is not white space (a
# name or label of only spaces, or of only invisible characters, names nothing).
NOT_IN_LINE = r"\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u206f"
# Characters that show nothing (zero-width, byte order mark, blank letters, the soft hyphen,
# the combining grapheme joiner and variation selectors): a name of only these looks empty on
# every page, so a name needs one other character too; a login name has none of them
# ("pi\u00adet@..." showed as "piet@..." on the people page, beside piet's own account).
INVISIBLE = (
    r"\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2060-\u2064\u2800\u3164"
    r"\ufe00-\ufe0f\ufeff\uffa0"
)
SINGLE_LINE = rf"^[^{NOT_IN_LINE}]*[^{NOT_IN_LINE}\s{INVISIBLE}][^{NOT_IN_LINE}]*$"
PATTERN_REASONS[SINGLE_LINE] = (
    "Should be one line of text with at least one visible character other than white space, "
    "without control or bidirectional formatting characters"
)


@dataclass(frozen=True, slots=True)
class Text(GroupedMetadata):
    """A single-line string without control characters (NUL bytes break PostgreSQL) and not
    only white space, of `min_length` to `max_length` characters: `Annotated[str, Text(200)]`.
    Metadata rather than a function returning a type, so the annotation stays a type the type
    checker reads."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(
            min_length=self.min_length, max_length=self.max_length, pattern=SINGLE_LINE
        )


Name = Annotated[str, Text(200)]
REFERENCE_CHARACTERS = r"[A-Za-z0-9._-]"
REFERENCE_PART_PATTERN = f"^{REFERENCE_CHARACTERS}+$"
"""A filter on part of a reference: the reference's own characters (a NUL byte cut SQLite's
LIKE pattern short, so `?reference=%00` listed every case)."""
EXTERNAL_REF_PATTERN = f"^{REFERENCE_CHARACTERS}{{1,64}}$"
"""A reference an organisation can register (`ExternalRef`)."""
ExternalRef = Annotated[
    str,
    StringConstraints(pattern=EXTERNAL_REF_PATTERN),
    Field(
        description="The sender's own reference, unique per organisation.", examples=["K-2024-0193"]
    ),
]


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class NotADate(ValueError):
    """A `Date` no `YYYY-MM-DD` in the years taken: a page says how to write one (`app.web`)."""


def _date_from_string(value: Any) -> Any:
    """Only `YYYY-MM-DD` (or a date inside the app): pydantic would also take `0` or
    `1700000000` (Unix time), `2026-11-30T00:00` or a datetime, in a query as in a body."""
    if isinstance(value, datetime):
        raise NotADate("a date, not a timestamp: YYYY-MM-DD")
    if isinstance(value, date) or (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return value
    raise NotADate("dates are ISO 8601 strings (YYYY-MM-DD)")


def _date_in_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise NotADate(f"date must lie between {MIN_DATE} and {MAX_DATE}")
    return value


DATE_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
"""The years `_date_in_range` takes, beside `format: date` (which allowed 0001-01-01)."""


@dataclass(frozen=True, slots=True)
class StringPattern:
    """Puts `pattern` on a field's JSON schema where it is a string (money's string branch)."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string":
                branch["pattern"] = self.pattern
        return schema


Date = Annotated[
    date,
    BeforeValidator(_date_from_string),
    AfterValidator(_date_in_range),
    StringPattern(DATE_PATTERN),
]


def _year_from_string(value: Any) -> Any:
    """Digits, no leading zero: pydantic also took `2026.0`, `+2026`, `2026 ` and `02026`."""
    if isinstance(value, str) and not re.fullmatch(r"[1-9][0-9]*", value):
        raise ValueError("a year is written in digits only, without a leading zero, e.g. 2026")
    return value


YearDigits = Annotated[int, Interval(ge=2000, le=2100), BeforeValidator(_year_from_string)]
"""A calendar year as a path writes it (`/limits/{year}`, `/contingent/{year}`), 2000-2100."""

JsonInt = Annotated[int, Strict()]
"""An integer of a JSON body, sent as a JSON integer: pydantic's lax mode took `true` as 1,
`"2"`, `"1_960"`, `" 1960 "` and `1960.0` (the contract says integer; the spreadsheet import
and the forms turn their cells into integers before validation)."""

JsonBool = Annotated[bool, Strict()]
"""A yes/no of a JSON body, sent as `true` or `false`: pydantic's lax mode took `1`, `"yes"`,
`"off"` and the like."""

JsonNumber = Annotated[float, Strict()]
"""A decimal number of a JSON body (not money, `Money`), sent as a JSON number, an integer
included: pydantic's lax mode took `"7.5"` as 7.5 and `true` as 1.0."""


MONEY_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""Decimal also reads spaces, `_` between digits, `+`, an exponent and any script's digits
(`١٢٣` is 123): a client's formatting bug was stored as some amount instead of answered."""


def _money_input(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("money is a number or a numeric string")
    if isinstance(value, float | Decimal) and value == 0:
        return abs(value)  # -0.0 was echoed as -0.0: no amount is negative
    if (
        isinstance(value, str)
        and not re.fullmatch(MONEY_PATTERN, value)
        and (not MONEY_TEXT.fullmatch(value) or _in_pattern_range(Decimal(value)))
    ):
        raise PydanticCustomError(
            "decimal_parsing",
            "Input should be written with the digits 0-9 and at most two decimals after a "
            "point, without a sign or exponent, such as 1250.50",
        )
    return value


def _in_pattern_range(amount: Decimal) -> bool:
    """An amount `MONEY_PATTERN` could write: in another form (`-0`, `12.500`) it is refused for
    that; one it could not (`-5`, a third decimal) gets the bound it breaks, which says more."""
    return 0 <= amount < 10**10 and amount == amount.quantize(Decimal("0.01"))


def _float(value: Decimal) -> float:
    return float(value)


MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
"""The contract's pattern for money sent as a string: the server takes exactly the strings it
allows within the field's bounds (it took `1e5`, `-0` and `16250.000`, which it refuses)."""


@dataclass(frozen=True, slots=True)
class Money(GroupedMetadata):
    """EUR from 0 to `maximum` with at most two decimals; accepted as number or string, returned
    as a JSON number: `Annotated[Decimal, Money(10_000)]`."""

    maximum: int

    def __iter__(self) -> Iterator[Any]:
        # The bounds first: pydantic checks them inside its core validator then, rather than
        # in Python after the BeforeValidator (three times faster; a batch has two per item).
        yield Field(ge=0, le=self.maximum, max_digits=12, decimal_places=2)
        yield BeforeValidator(_money_input)
        yield PlainSerializer(_float, return_type=float, when_used="json")
        yield StringPattern(MONEY_PATTERN)


MunicipalityCode = Annotated[
    str,
    StringConstraints(pattern=r"^GM[0-9]{4}$"),
    Field(description="CBS municipality code", examples=["GM0344"]),
]
NeighbourhoodCode = Annotated[
    str,
    StringConstraints(pattern=r"^BU[0-9]{8}$"),
    Field(description="CBS neighbourhood (buurt) code", examples=["BU03440101"]),
]
AreaCode = Annotated[
    str,
    StringConstraints(pattern=r"^(GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$"),
    Field(
        description="CBS code of a municipality, district or neighbourhood", examples=["WK034401"]
    ),
]


def cbs_digits(code: str) -> str:
    """The numeric part of a CBS code; codes nest when one's digits prefix the other's."""
    return code[2:]


class ApiModel(BaseModel):
    """Input models reject unknown fields: a misspelt field must not be silently dropped."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")
TModel = TypeVar("TModel", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def _digits(value: Any) -> Any:
    """A number in a query is written in digits (a minus is left to the range to refuse):
    pydantic would also take `1_0` (10), `+5` or ` 5`."""
    if isinstance(value, str) and not DIGITS.fullmatch(value):
        raise ValueError("a number is written in digits only, e.g. 10")
    return value


DIGITS = re.compile(r"-?[0-9]+")
QUERY_DIGITS = BeforeValidator(_digits)
"""On an integer query parameter, after its range (else the contract loses the range)."""

Limit = Annotated[
    int, Interval(ge=1, le=1000), QUERY_DIGITS, Field(description="Page size (1-1000).")
]
HouseholdSize = Annotated[int, Interval(ge=1, le=12), QUERY_DIGITS]
Candidates = Annotated[int, Interval(ge=1, le=50), QUERY_DIGITS]


def partial_model(
    model: type[BaseModel], name: str, base: type[BaseModel] | None = None
) -> type[BaseModel]:
    """A copy of `model` with every field optional, nested groups made partial too.

    Used for PATCH bodies (JSON merge patch): the given fields are merged into the stored
    object and the result is validated with the full model, so cross-field rules still hold.
    """
    from pydantic import create_model

    from app.flat import _group_model
    from app.null_fields import patch_bases, refused_nulls

    fields: dict[str, Any] = refused_nulls(model, base)
    for field_name, info in model.model_fields.items():
        annotation: Any = info.annotation
        group = _group_model(annotation)
        if group is not None:
            annotation = partial_model(group, group.__name__ + "Patch")
        elif info.metadata:
            # Constraints and validators apply to the value, not to the null that means "clear".
            annotation = Annotated[annotation, *info.metadata]
        description = info.description
        fields[field_name] = (annotation | None, Field(None, description=description))
    return create_model(name, __base__=patch_bases(base or ApiModel), **fields)


def validate_merged(model: type[TModel], data: Any, prefix: tuple[str | int, ...] = ()) -> TModel:
    """Validate merged (stored + patched) data; errors become a 400 naming the body fields."""
    from pydantic import ValidationError

    from app.problems import InvalidInput

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(list(exc.errors()), prefix) from exc
