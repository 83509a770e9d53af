"""The twelve-month outlook: dwellings needed at the last year's pace, with the method stated."""

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.cases.models import CaseStatus
from app.database import outside_transaction
from app.matching.ages import add_months
from app.monitor.access import Viewer, check_year, log_export, viewer_of
from app.monitor.facts import CaseFacts, Facts, Housing, load_facts
from app.monitor.models import GroupBy, Period
from app.monitor.periods import periods
from app.monitor.years import protected_year
from app.tables.models import OutflowTable

FORECAST_METHOD = (
    "Over the 12 months before the date: average new ready cases, housings and other exits per "
    "month. Dwellings needed in the next 12 months = backlog now + 12 x monthly new ready - "
    "12 x monthly other exits (everyone ready now or becoming ready who does not leave "
    "otherwise needs a dwelling). Backlog in 12 months at the current pace = backlog now + "
    "12 x (new ready - housed - other exits), at least 0. A simple linear projection: it "
    "assumes the last year's pace continues and knows nothing of seasonality or policy changes. "
    "For organisations that get suppressed figures: at the end of the last whole quarter, over "
    "the four quarters before it, each figure hidden when one it is made of is."
)


def _pace(cases: list[CaseFacts], housings: list[Housing], on: date) -> tuple[int, ...]:
    """Backlog on `on`, and new ready, housed and other exits over the twelve months before it
    (the days after `year_before(on)` up to `on`)."""
    year_ago = year_before(on)
    backlog = sum(c.ready_since <= on and (c.exit_date is None or c.exit_date > on) for c in cases)
    inflow = sum(year_ago < c.ready_since <= on for c in cases)
    housed = sum(year_ago < h.housed_on <= on for h in housings)
    other = sum(
        c.status == CaseStatus.withdrawn
        and c.exit_date is not None
        and year_ago < c.exit_date <= on
        for c in cases
    )
    return backlog, inflow, housed, other


def year_before(on: date) -> date:
    """The day the twelve months up to `on` start after: the same day a year earlier, and for
    the last day of a month the last day of that month a year earlier. Twelve months are not
    365 days: in a leap year `on - 365 days` left 1 January out of the calendar year, and on a
    leap day 1 March of the year before out of its twelve months."""
    next_day = on + timedelta(days=1)
    if next_day.day == 1:
        return add_months(next_day, -12) - timedelta(days=1)
    return add_months(on, -12)


def forecast(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    on: date,
    facts: Facts | None = None,
) -> dict[str, Any]:
    """Dwellings needed in the next 12 months at the last year's pace (FORECAST_METHOD): the
    `MonitorForecast` shape, counts in people and people per month.

    A viewer who may not see the cases gets the forecast at the end of the last whole quarter
    on or before `on` (`date` says which), from the four quarters before it as its calendar-year
    tables show them (`app.monitor.years`): a figure is hidden when one it is made of is. So the
    forecast shows nothing the flows do not, and asking for other dates gives nothing more.
    `facts`: the table's (`load_facts`), when the caller read them already."""
    viewer = viewer_of(context, table)
    facts = facts if facts is not None else load_facts(session, table.id)
    if viewer is None:
        counts: tuple[int | None, ...] = _pace(facts.cases, facts.housings, on)
    else:
        check_year(on, "date")
        on = _quarter_end(on)
        with outside_transaction(session):
            counts = _pace_as_shown(facts, viewer, on)
    backlog, inflow, housed, other = counts
    monthly = {
        "new_ready": None if inflow is None else inflow / 12,
        "housed": None if housed is None else housed / 12,
        "other": None if other is None else other / 12,
    }
    needed = projected = None
    if backlog is not None and inflow is not None and other is not None:
        needed = max(0, round(backlog + inflow - other))
        if housed is not None:
            projected = max(0, round(backlog + inflow - housed - other))
    document = {
        "table_id": table.id,
        "date": on,
        "backlog_now": backlog,
        "monthly_new_ready": _rounded(monthly["new_ready"]),
        "monthly_housed": _rounded(monthly["housed"]),
        "monthly_other_exits": _rounded(monthly["other"]),
        "dwellings_needed_12_months": needed,
        "backlog_in_12_months_at_current_pace": projected,
        "method": FORECAST_METHOD,
    }
    log_export(session, context, table)
    return document


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _quarter_end(on: date) -> date:
    """The last day of the last whole quarter on or before `on`."""
    first = date(on.year, (on.month - 1) // 3 * 3 + 1, 1)
    _, _, last = periods(first, date(on.year, 12, 31), Period.quarter)[0]
    return on if on == last else first - timedelta(days=1)


def _pace_as_shown(facts: Facts, viewer: Viewer, on: date) -> tuple[int | None, ...]:
    """`_pace` at the quarter end `on` over the four quarters before it, from the cells of the
    viewer's calendar-year tables without groups: a sum is None when one of its cells is
    hidden."""
    quarters = []
    year, quarter = on.year, (on.month - 1) // 3 + 1
    for _ in range(4):
        quarters.append((year, f"{year}-Q{quarter}"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    tables = {
        y: protected_year(facts, viewer, GroupBy.none, [None], y, set())
        for y in {y for y, _ in quarters}
    }

    def cell(year: int, label: str, measure: str) -> int | None:
        table = tables[year]
        if ("rows", label, None, measure) in table.hidden:
            return None
        value: int = next(r for r in table.grid.rows if r["period"] == label)[measure]
        return value

    def total(measure: str) -> int | None:
        values = [cell(y, label, measure) for y, label in quarters]
        return None if None in values else sum(v for v in values if v is not None)

    latest_year, latest = quarters[0]
    backlog = cell(latest_year, latest, "backlog_end")
    return backlog, total("new_ready"), total("housed"), total("other_exits")
