"""The contract's pattern for money sent as a string says what the server accepts: a client
that checks its strings against `openapi.json` never gets a 400 for their form."""

import re
from decimal import Decimal
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from app.schemas import MONEY_PATTERN, Money

MAXIMUM = 10_000_000
money = TypeAdapter(Annotated[Decimal, Money(MAXIMUM)])


@given(st.from_regex(MONEY_PATTERN, fullmatch=True))
def test_every_string_the_contract_allows_within_the_bounds_the_server_accepts(text):
    if Decimal(text) <= MAXIMUM:
        assert money.validate_python(text) == Decimal(text)


@pytest.mark.parametrize(
    "text",
    ["+12", ".5", "1.", "1e3", " 12", "1_000", "\u0661\u0662", "-0", "-0.00", "12.500", "0" * 11],
)
def test_strings_the_server_refuses_are_outside_the_contract_pattern(text):
    assert not re.fullmatch(MONEY_PATTERN, text)
    with pytest.raises(ValidationError):
        money.validate_python(text)


@given(st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{1,4})?([eE][-+]?[0-9]{1,2})?", fullmatch=True))
def test_every_string_the_server_accepts_the_contract_pattern_allows(text):
    # "1e5" was stored as 100000 and "-0" echoed as -0.0, though the pattern refuses both.
    try:
        money.validate_python(text)
    except ValidationError:
        return
    assert re.fullmatch(MONEY_PATTERN, text)


@pytest.mark.parametrize("value", [-0.0, "0", 0])
def test_zero_is_never_answered_as_negative_zero(value):
    assert money.dump_json(money.validate_python(value)) == b"0.0"


def test_the_contract_gives_money_strings_that_pattern():
    schema = money.json_schema()
    [string] = [branch for branch in schema["anyOf"] if branch.get("type") == "string"]
    assert string["pattern"] == MONEY_PATTERN
