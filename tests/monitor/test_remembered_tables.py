"""A restricted viewer's year tables are remembered between requests by their whole input (the
table's cases and housings, the viewer, the grouping, the year, the day): a repeated request is
answered from memory with the figures a fresh computation gives, and a change in the table is
computed afresh."""

import os
import subprocess
import sys
import uuid
from dataclasses import fields, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.monitor import flow_equations
from app.monitor import years as monitor_years
from app.monitor.facts import CaseFacts, Facts, Housing, facts_digest
from app.monitor.memory import Memory
from tests.clock import day
from tests.monitor.fixed_facts import fixed_facts
from tests.monitor.history import figures, ready_case

YEAR = day(-40).year  # a year with at least 40 past days in it, on every clock
JANUARY_1 = date(YEAR, 1, 1)
BY_PROVIDER = {
    "start": JANUARY_1.isoformat(),
    "end": date(YEAR, 12, 31).isoformat(),
    "period": "quarter",
    "groupBy": "care_provider",
}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spread(client, region, limits):
    """Eight of the other provider's cases and three of A's, ready on days spread over the
    year's past."""
    past = (day(-40) - JANUARY_1).days
    for owner, count in ((region.other_care_provider, 8), (region.care_provider, 3)):
        for k in range(count):
            when = JANUARY_1 + timedelta(days=k * past // count)
            ready_case(client, owner, region.table_id, when.isoformat())


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """The years whose table is built (its equations set up), one entry each time."""
    years: list[int] = []
    real = monitor_years.year_system

    def counting(grid, *args, **kwargs):  # type: ignore[no-untyped-def]
        years.append(grid.rows[0]["period_start"].year)
        return real(grid, *args, **kwargs)

    monkeypatch.setattr(monitor_years, "year_system", counting)
    return years


def _forget(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Nothing remembered: the next answer is computed afresh."""
    monkeypatch.setattr(monitor_years, "_TABLES", Memory(64))
    monkeypatch.setattr(flow_equations, "_PROTECTED", Memory(128))


def _own_total(answer: dict, provider_id: str) -> dict:
    return next(r for r in answer["totals"] if r["group"] == provider_id)


def test_a_repeated_request_gives_the_identical_answer(client, region, spread, built, monkeypatch):
    first = figures(client, region.care_provider, region.table_id, **BY_PROVIDER)
    assert first["suppression"] is True
    assert built  # the first answer built its year's tables
    built.clear()
    again = figures(client, region.care_provider, region.table_id, **BY_PROVIDER)
    assert again == first
    assert built == []  # from memory
    _forget(monkeypatch)
    fresh = figures(client, region.care_provider, region.table_id, **BY_PROVIDER)
    assert fresh == first
    assert built  # computed afresh, to the same answer


def test_a_changed_fact_is_not_answered_from_memory(client, region, spread, monkeypatch):
    """The viewer's own row is shown whole: a case of its own that became ready in the year
    counts at once, in an answer equal to a fresh computation."""
    before = figures(client, region.care_provider, region.table_id, **BY_PROVIDER)
    ready = _own_total(before, region.care_provider.id)["new_ready"]
    ready_case(
        client, region.care_provider, region.table_id, (JANUARY_1 + timedelta(5)).isoformat()
    )
    after = figures(client, region.care_provider, region.table_id, **BY_PROVIDER)
    assert _own_total(after, region.care_provider.id)["new_ready"] == ready + 1
    _forget(monkeypatch)
    assert figures(client, region.care_provider, region.table_id, **BY_PROVIDER) == after


def test_every_process_keys_the_same_facts_alike():
    """Two server processes (each with its own hash seed) remember a table under one key."""
    code = (
        "from tests.monitor.fixed_facts import fixed_facts;"
        "from app.monitor.facts import facts_digest; print(facts_digest(fixed_facts()))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {facts_digest(fixed_facts())}


def _other(value: object) -> object:
    """A value of the same kind that differs from `value`."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=value.int + 100)
    if isinstance(value, date):
        return value + timedelta(days=1)
    return f"{value}, changed"


def test_every_field_of_a_case_and_a_housing_is_in_the_key():
    facts = fixed_facts()
    [housed, waiting], [housing] = facts.cases, facts.housings
    for field in fields(CaseFacts):
        changed = replace(housed, **{field.name: _other(getattr(housed, field.name))})
        assert facts_digest(Facts([changed, waiting], [housing])) != facts_digest(facts), field.name
    for field in fields(Housing):
        other = replace(housing, **{field.name: _other(getattr(housing, field.name))})
        assert facts_digest(Facts(facts.cases, [other])) != facts_digest(facts), field.name
