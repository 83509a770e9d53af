"""The twelve-month outlook: dwellings needed at the last year's pace, with the method stated."""

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.cases.models import CaseStatus
from app.monitor.access import log_export, viewer_of
from app.monitor.facts import CaseFacts, Housing, load_facts
from app.monitor.suppression import PRIMARY_MAX
from app.tables.models import OutflowTable

FORECAST_METHOD = (
    "Over the 12 months before the date: average new ready cases, housings and other exits per "
    "month. Dwellings needed in the next 12 months = backlog now + 12 x monthly new ready - "
    "12 x monthly other exits (everyone ready now or becoming ready who does not leave "
    "otherwise needs a dwelling). Backlog in 12 months at the current pace = backlog now + "
    "12 x (new ready - housed - other exits), at least 0. A simple linear projection: it "
    "assumes the last year's pace continues and knows nothing of seasonality or policy changes."
)


def _pace(cases: list[CaseFacts], housings: list[Housing], on: date) -> tuple[int, ...]:
    """Backlog on `on`, and new ready, housed and other exits over the 365 days before it."""
    year_ago = on - timedelta(days=365)
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


def forecast(
    session: Session, context: AccessContext, table: OutflowTable, *, on: date
) -> dict[str, Any]:
    """Dwellings needed in the next 12 months at the last year's pace (FORECAST_METHOD): the
    `MonitorForecast` shape, counts in people and people per month. For a viewer who may not see
    the cases every figure is hidden when one of the counts behind it, less the viewer's own
    cases and housings, is 1 to 4."""
    viewer = viewer_of(context, table)
    facts = load_facts(session, table.id)
    counts = _pace(facts.cases, facts.housings, on)
    backlog, inflow, housed, other = counts
    monthly = {"new_ready": inflow / 12, "housed": housed / 12, "other": other / 12}
    needed = max(0, round(backlog + 12 * monthly["new_ready"] - 12 * monthly["other"]))
    projected = max(
        0, round(backlog + 12 * (monthly["new_ready"] - monthly["housed"] - monthly["other"]))
    )
    small = False
    if viewer is not None:
        mine = viewer.own(facts)
        own = _pace(mine.cases, mine.housings, on)
        small = any(0 < n - m <= PRIMARY_MAX for n, m in zip(counts, own, strict=True))
    document = {
        "table_id": table.id,
        "date": on,
        "backlog_now": None if small else backlog,
        "monthly_new_ready": None if small else round(monthly["new_ready"], 2),
        "monthly_housed": None if small else round(monthly["housed"], 2),
        "monthly_other_exits": None if small else round(monthly["other"], 2),
        "dwellings_needed_12_months": None if small else needed,
        "backlog_in_12_months_at_current_pace": None if small else projected,
        "method": FORECAST_METHOD,
    }
    log_export(session, context, table)
    return document
