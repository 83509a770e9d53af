"""The legal figures shipped as data (app/data): every year and cohort with its source, loaded
into the database on migration without overwriting what the operator set."""

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest

from app.limits import data, service
from app.limits.data import (
    ShippedYear,
    _check_cohorts,
    aow_age_in_year,
    aow_ages,
    shipped_limits,
)
from app.limits.models import FIGURES, YearLimits, YearLimitsFields
from app.matching import AowCohort
from app.problems import Conflict
from tests.matching.factories import LIMITS_2025, LIMITS_2026


def test_every_shipped_year_records_its_source():
    assert shipped_limits()
    for year in shipped_limits():
        assert len(year.source) > 40, year.year
        assert set(year.figures) == set(FIGURES)


def test_every_shipped_year_puts_its_figures_in_the_order_the_law_does():
    for year in shipped_limits():
        service.check_consistent(year.figures)  # raises on a reversed pair


def refused_with(tmp_path, monkeypatch, changes: dict, match: str) -> None:  # type: ignore[no-untyped-def]
    """limits.json with one more year, the latest shipped one with `changes`, fails to load
    with a ValueError matching `match`."""
    shipped = json.loads(data.LIMITS_FILE.read_text(encoding="utf-8"))
    shipped["years"].append({**shipped["years"][-1], **changes})
    edited = tmp_path / "limits.json"
    edited.write_text(json.dumps(shipped), encoding="utf-8")
    monkeypatch.setattr(data, "LIMITS_FILE", edited)
    shipped_limits.cache_clear()
    try:
        with pytest.raises(ValueError, match=match):
            shipped_limits()
    finally:
        shipped_limits.cache_clear()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"low_cap": "764.14", "high_cap": "713.02"}, "high_cap"),
        ({"income_limit_single": "0"}, "income_limit_single"),
    ],
    ids=["caps-swapped", "income-limit-zero"],
)
def test_a_shipped_year_the_law_would_refuse_fails_the_load(tmp_path, monkeypatch, changes, named):
    """A year added to limits.json (the README's way to add a year without a code change) was
    checked for its types only: caps typed in each other's field, or an income limit of 0,
    reached every agenda of the year at the next start, where the same figures sent with PUT
    are refused."""
    latest = json.loads(data.LIMITS_FILE.read_text(encoding="utf-8"))["years"][-1]["year"]
    refused_with(tmp_path, monkeypatch, {"year": latest + 1, **changes}, f"{latest + 1}.*{named}")


@pytest.mark.parametrize("year", [207, 20270, "2027x"])
def test_a_shipped_year_outside_the_calendar_years_the_api_takes_fails_the_load(
    tmp_path, monkeypatch, year
):
    """`PUT /v1/limits/{year}` takes 2000-2100 only; a year typed 207 for 2027 in limits.json
    was loaded, became the earliest known year (so agendas back to the year 207 had limits)
    and listed some 1,800 years as missing in every answer of GET /v1/limits."""
    refused_with(tmp_path, monkeypatch, {"year": year}, f"{year}")


def test_the_engine_factories_use_the_shipped_figures():
    shipped = {y.year: y.figures for y in shipped_limits()}
    for limits in (LIMITS_2025, LIMITS_2026):
        for name, value in shipped[limits.year].items():
            if hasattr(limits, name):
                assert getattr(limits, name) == value, (limits.year, name)


def test_the_aow_age_is_67_until_2027_and_67_years_3_months_from_2028():
    assert [aow_age_in_year(y) for y in (2025, 2026, 2027)] == [(67, 0)] * 3
    assert aow_age_in_year(2028) == (67, 3)


def test_every_aow_cohort_is_checked_to_reach_its_age_within_its_year():
    cohorts = list(aow_ages().cohorts)
    _check_cohorts(cohorts)
    shifted = dataclasses.replace(cohorts[4], born_before=date(1961, 11, 1))
    with pytest.raises(ValueError, match="do not reach the AOW age"):
        _check_cohorts([*cohorts[:4], shifted])


def test_an_aow_table_with_a_gap_or_a_falling_age_is_refused():
    a = AowCohort(date(1958, 1, 1), date(1959, 1, 1), 2025, 67, 0)
    gap = AowCohort(date(1959, 2, 1), date(1960, 1, 1), 2026, 67, 0)
    with pytest.raises(ValueError, match="cohorts 2025, 2026"):
        _check_cohorts([a, gap])
    lower = AowCohort(date(1959, 1, 1), date(1960, 4, 1), 2026, 66, 9)
    with pytest.raises(ValueError):
        _check_cohorts([a, lower])


def _shipped(year: int, **changes: Decimal) -> ShippedYear:
    base = shipped_limits()[-1]
    return dataclasses.replace(
        base, year=year, figures={**base.figures, **changes}, source=f"shipped {year}"
    )


@pytest.fixture
def shipping(monkeypatch):  # type: ignore[no-untyped-def]
    """Replace the shipped data file's years for one test."""

    def ship(*years) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(service, "shipped_limits", lambda: tuple(years))

    return ship


def test_a_newly_shipped_year_is_added_on_the_next_load(session, shipping):
    year = max(y.year for y in shipped_limits()) + 1
    shipping(*shipped_limits(), _shipped(year))
    report = service.sync_from_data_file(session)
    assert report.added == [year]
    row = session.get(YearLimits, year)
    assert (row.origin, row.source) == ("data_file", f"shipped {year}")


def test_a_year_a_later_release_dropped_from_the_file_can_be_deleted(session, shipping):
    """Such a year stays `data_file`, but no start adds it back: DELETE refused it, saying it
    would come back at the next start, which was untrue."""
    year = max(y.year for y in shipped_limits()) + 1
    shipping(*shipped_limits(), _shipped(year))
    service.sync_from_data_file(session)
    shipping(*shipped_limits())

    service.delete_limits(session, year)

    assert session.get(YearLimits, year) is None
    with pytest.raises(Conflict):
        service.delete_limits(session, shipped_limits()[-1].year)


def test_a_corrected_shipped_year_updates_the_row_that_came_from_the_file(session, shipping):
    latest = shipped_limits()[-1]
    corrected = dataclasses.replace(
        latest, figures={**latest.figures, "low_cap": Decimal("700.00")}
    )
    shipping(*shipped_limits()[:-1], corrected)
    report = service.sync_from_data_file(session)
    assert report.corrected == [latest.year]
    assert session.get(YearLimits, latest.year).low_cap == Decimal("700.00")


def test_the_operators_figures_are_never_overwritten_by_the_shipped_ones(session, shipping):
    latest = shipped_limits()[-1]
    body = YearLimitsFields.model_validate(
        {**latest.figures, "low_cap": "699.99", "source": "operator's own"}
    )
    service.put_limits(session, latest.year, body)
    report = service.sync_from_data_file(session)
    assert report.operator_differs == [latest.year]
    row = session.get(YearLimits, latest.year)
    assert row.low_cap == Decimal("699.99")
    assert (row.origin, row.source) == ("operator", "operator's own")


def test_an_operators_year_equal_to_the_shipped_one_is_adopted_with_its_source(session):
    latest = shipped_limits()[-1]
    typed = {**latest.figures, "source": "overgetypt uit de Staatscourant"}
    service.put_limits(session, latest.year, YearLimitsFields.model_validate(typed))
    service.sync_from_data_file(session)
    row = session.get(YearLimits, latest.year)
    assert (row.origin, row.source) == ("data_file", latest.source)
