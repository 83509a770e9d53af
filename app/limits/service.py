"""Reading, replacing and choosing the limits of a year, and loading the shipped ones.

The limits an agenda applies (`limits_for`): the meeting year's own, or, when that year has
none yet, the latest earlier year's (a fallback the agenda shows and the log warns about), so the
weekly meeting does not stop on the first January date before the new figures are entered. A
date before the earliest known year is refused (400 `no_limits_for_year`).
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Row, func
from sqlmodel import Session, col, select

from app import matching
from app.limits.data import aow_age_in_year, aow_ages, check_consistent, shipped_limits
from app.limits.models import (
    FIGURES,
    LimitsFallback,
    LimitsOrigin,
    MissingYear,
    YearLimits,
    YearLimitsFields,
    YearLimitsPublic,
)
from app.problems import Conflict, NotFound, Unprocessable
from app.versioning import flush, get_checked

log = logging.getLogger(__name__)

# Every agenda and why-not of a year without limits falls back; one warning per hour per
# (meeting year, fallback year) and process tells the operator without flooding the log (a
# sweep of why-not answers wrote 1,507 identical lines). Only the log depends on this state.
FALLBACK_WARNING_EVERY_SECONDS = 3600.0
_fallback_warned: dict[tuple[int, int], float] = {}


def _first_in_a_while(years: tuple[int, int]) -> bool:
    now = time.monotonic()
    last = _fallback_warned.get(years)
    if last is not None and now - last < FALLBACK_WARNING_EVERY_SECONDS:
        return False
    _fallback_warned[years] = now
    return True


def list_limits(session: Session) -> list[YearLimits]:
    return list(session.exec(select(YearLimits).order_by(col(YearLimits.year))))


def get_limits(session: Session, year: int) -> YearLimits | None:
    return session.get(YearLimits, year)


def limits_public(row: YearLimits, aow_year: int | None = None) -> YearLimitsPublic:
    """The API's view of a year: both names of the DAEB rent limit, and the AOW age of those who
    reach it in `aow_year` (default the row's year). An agenda passes its meeting's year: when
    it falls back to an earlier year's limits, the AOW age still follows the cohort table for
    the meeting's year, as the rules do."""
    aow = aow_age_in_year(row.year if aow_year is None else aow_year)
    return YearLimitsPublic.model_validate(
        {
            "year": row.year,
            **{name: getattr(row, name) for name in FIGURES},
            "liberalisation_limit": row.daeb_rent_limit,
            "aow_age": {"years": aow[0], "months": aow[1]} if aow else None,
            "pension_age": aow[0] if aow else None,
            "source": row.source,
            "origin": row.origin,
            "updated_at": row.updated_at,
        }
    )


def resolve_figures(year: int, data: YearLimitsFields) -> dict[str, Any]:
    """The figures of a PUT body as columns. The DAEB rent limit may come under its deprecated
    name; the deprecated `pension_age` must agree with the AOW table. Raises Unprocessable."""
    given = data.model_dump(exclude_unset=False)
    new, old = given["daeb_rent_limit"], given["liberalisation_limit"]
    if new is None and old is None:
        raise Unprocessable(
            "daeb_rent_limit", "Field required (or its deprecated alias liberalisation_limit)."
        )
    if new is not None and old is not None and new != old:
        raise Unprocessable(
            "liberalisation_limit",
            "liberalisation_limit is the deprecated name of daeb_rent_limit; the two differ. "
            "Send daeb_rent_limit only.",
            "conflicting_alias",
        )
    pension_age = given["pension_age"]
    if pension_age is not None:
        aow = aow_age_in_year(year)
        if aow is None or aow[0] != pension_age:
            raise Unprocessable(
                "pension_age",
                "pension_age is deprecated: the AOW age comes per birth cohort, in years and "
                f"months, from the AOW table ({_aow_text(aow)} for {year}); leave it out.",
                "deprecated_field",
            )
    figures = {name: given[name] for name in FIGURES if name != "daeb_rent_limit"}
    figures["daeb_rent_limit"] = new if new is not None else old
    check_consistent(figures)
    return figures


def _aow_text(aow: tuple[int, int] | None) -> str:
    if aow is None:
        return "not yet set"
    return f"{aow[0]} years {aow[1]} months"


def put_limits(
    session: Session,
    year: int,
    data: YearLimitsFields,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> tuple[YearLimits, bool]:
    """Create or replace a year's limits as the operator's; returns the row and whether it was
    created. Raises Unprocessable (see `resolve_figures`); `If-Match` / `If-None-Match` are
    compared with the year's ETag (`app.versioning.get_checked`: 412). Putting the limits as
    they stand changes nothing (same ETag)."""
    figures = resolve_figures(year, data)
    row = get_checked(
        session, YearLimits, year, f"set of limits of {year}", if_match, if_none_match
    )
    created = row is None
    if row is None:
        row = YearLimits(year=year, **figures)
    else:
        for name, value in figures.items():
            setattr(row, name, value)
    row.source = data.source
    row.origin = LimitsOrigin.operator.value
    session.add(row)
    flush(session, if_match, f"set of limits of {year}")
    return row, created


def delete_limits(session: Session, year: int, if_match: str | None = None) -> None:
    """Remove a year the operator set (a typo such as 2002 for 2026 otherwise kept every year
    after it in `missing_years` and gave their agendas its figures). Agendas of that year fall
    back to the latest earlier year's again (or are a 400 before the earliest); published
    agendas keep the limits they froze. Raises NotFound for a year without limits of its own,
    Conflict (409 `shipped_limits`) for a year of the shipped file, also when the operator
    corrected it (every start would add it back: correct it with PUT instead); a year the file
    held once and a later release dropped may go,
    PreconditionFailed when `If-Match` does not match."""
    row = get_checked(session, YearLimits, year, f"set of limits of {year}", if_match)
    if row is None:
        raise NotFound(f"No limits for {year}.")
    # A shipped year the operator corrected (origin `operator`) comes with the service too:
    # removed, its agendas fell back to the year before until the next start re-added it.
    # A year a later release dropped from the file stays `data_file` but no start adds it
    # back: it may go (the refusal said it would come back, which was untrue).
    if year in {s.year for s in shipped_limits()}:
        raise Conflict(
            f"The limits of {year} come with the service (app/data/limits.json) and would be "
            "added back at the next start; correct them with PUT instead (PUT the shipped "
            "figures to return to them).",
            code="shipped_limits",
        )
    session.delete(row)
    flush(session, if_match, f"set of limits of {year}")


def engine_limits(row: YearLimits | Row[Any]) -> matching.YearLimits:
    """The engine's input: the row's figures and the AOW table."""
    return matching.YearLimits(
        year=row.year,
        low_cap=row.low_cap,
        high_cap=row.high_cap,
        daeb_rent_limit=row.daeb_rent_limit,
        income_limit_single=row.income_limit_single,
        income_limit_multi=row.income_limit_multi,
        income_limit_single_pension=row.income_limit_single_pension,
        income_limit_multi_pension=row.income_limit_multi_pension,
        service_costs_count=row.service_costs_count,
        service_costs_max=row.service_costs_max,
        aow_ages=aow_ages(),
    )


def fallback_of(meeting_year: int, limits_year: int) -> LimitsFallback | None:
    """What an agenda says when its year has no limits of its own; None when it has."""
    if meeting_year == limits_year:
        return None
    return LimitsFallback(
        meeting_year=meeting_year,
        limits_year=limits_year,
        detail=f"No legal limits for {meeting_year} yet; this agenda uses those of "
        f"{limits_year}. The operator adds {meeting_year} with PUT /v1/limits/{meeting_year}.",
    )


def limits_for(session: Session, on: date, location: str = "query") -> YearLimits:
    """The limits an agenda on `on` applies: its year's, else the latest earlier year's (logged
    as a warning). Raises Unprocessable (`no_limits_for_year`, on the field `date` in
    `location`) before the earliest."""
    row = session.exec(
        select(YearLimits)
        .where(YearLimits.year <= on.year)
        .order_by(col(YearLimits.year).desc())
        .limit(1)
    ).first()
    if row is None:
        earliest = session.exec(select(func.min(YearLimits.year))).one()
        known = f"the earliest known year is {earliest}" if earliest else "no year is known"
        raise Unprocessable(
            "date",
            f"no legal limits for {on.year} or any earlier year ({known}); the operator adds "
            f"them with PUT /v1/limits/{on.year}",
            "no_limits_for_year",
            location,
        )
    _warn_of_fallback(on, row.year)
    return row


ENGINE_COLUMNS = ("year", *FIGURES)
"""The columns of a year's limits that `engine_limits` reads (and two it does not)."""


def engine_limits_of(on: date, row: Any) -> matching.YearLimits | None:
    """`engine_limits(limits_for(session, on))` of a row the caller read itself, as a plain
    row (no ORM object: this runs on every case saved, `app.registry.intake`): the
    `ENGINE_COLUMNS` of the latest year up to `on`'s. None where `limits_for` raises
    `no_limits_for_year` (no such year: no row, or a row whose `year` is None)."""
    if row is None or row.year is None:
        return None
    _warn_of_fallback(on, row.year)
    return engine_limits(row)


def _warn_of_fallback(on: date, year: int) -> None:
    if year != on.year and _first_in_a_while((on.year, year)):
        log.warning(
            "no legal limits for %s: an agenda for %s uses those of %s; add %s with "
            "PUT /v1/limits/%s",
            on.year,
            on.isoformat(),
            year,
            on.year,
            on.year,
        )


def missing_years(session: Session, through: int) -> list[MissingYear]:
    """Years from the earliest known through `through` without limits of their own, each with
    the year an agenda would fall back to."""
    known = [row.year for row in list_limits(session)]
    if not known:
        return []
    missing = []
    latest_before = known[0]
    for year in range(known[0], through + 1):
        if year in known:
            latest_before = year
        else:
            missing.append(MissingYear(year=year, falls_back_to=latest_before))
    return missing


@dataclass
class SyncReport:
    """What loading the shipped limits changed."""

    added: list[int] = field(default_factory=list)
    corrected: list[int] = field(default_factory=list)
    operator_differs: list[int] = field(default_factory=list)
    """Years the operator set with figures other than the shipped ones (kept as they are)."""


def _same(row: YearLimits, figures: dict[str, Any]) -> bool:
    return all(getattr(row, name) == value for name, value in figures.items())


def sync_from_data_file(session: Session) -> SyncReport:
    """Bring the shipped years (app/data/limits.json) into the database: add missing years,
    correct rows that came from the file when the file changed, and leave the operator's own
    rows alone (a row whose figures equal the shipped ones is adopted as the file's)."""
    report = SyncReport()
    for shipped in shipped_limits():
        row = session.get(YearLimits, shipped.year)
        if row is None:
            session.add(
                YearLimits(
                    year=shipped.year,
                    **shipped.figures,
                    source=shipped.source,
                    origin=LimitsOrigin.data_file.value,
                )
            )
            report.added.append(shipped.year)
            continue
        same = _same(row, shipped.figures)
        if row.origin == LimitsOrigin.operator.value and not same:
            report.operator_differs.append(shipped.year)
            continue
        if not same:
            report.corrected.append(shipped.year)
            for name, value in shipped.figures.items():
                setattr(row, name, value)
        if not same or row.source != shipped.source or row.origin != LimitsOrigin.data_file:
            row.source = shipped.source
            row.origin = LimitsOrigin.data_file.value
            session.add(row)
    session.flush()
    for year in report.operator_differs:
        log.warning(
            "limits for %s were set by the operator and differ from the shipped figures; "
            "the operator's are kept",
            year,
        )
    return report
