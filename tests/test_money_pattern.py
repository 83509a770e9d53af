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


@pytest.mark.parametrize("text", ["+12", ".5", "1.", "1e3", " 12", "1_000", "\u0661\u0662"])
def test_strings_the_server_refuses_are_outside_the_contract_pattern(text):
    assert not re.fullmatch(MONEY_PATTERN, text)
    if text != "1e3":  # the server reads an exponent; the contract does not offer one
        with pytest.raises(ValidationError):
            money.validate_python(text)


def test_the_contract_gives_money_strings_that_pattern():
    schema = money.json_schema()
    [string] = [branch for branch in schema["anyOf"] if branch.get("type") == "string"]
    assert string["pattern"] == MONEY_PATTERN
