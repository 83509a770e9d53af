"""The twelve-month outlook: dwellings needed at the last year's pace, with the method stated."""

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.monitor.access import can_see_cases, log_export
from app.monitor.facts import load_facts
from app.tables.models import OutflowTable

FORECAST_METHOD = (
    "Over the 12 months before the date: average new ready cases, housings and other exits per "
    "month. Dwellings needed in the next 12 months = backlog now + 12 x monthly new ready - "
    "12 x monthly other exits (everyone ready now or becoming ready who does not leave "
    "otherwise needs a dwelling). Backlog in 12 months at the current pace = backlog now + "
    "12 x (new ready - housed - other exits), at least 0. A simple linear projection: it "
    "assumes the last year's pace continues and knows nothing of seasonality or policy changes."
)


def forecast(
    session: Session, context: AccessContext, table: OutflowTable, *, on: date
) -> dict[str, Any]:
    whole = can_see_cases(context, table)
    year_ago = on - timedelta(days=365)
    facts = load_facts(session, table.id)
    cases, housings = facts.cases, facts.housings
    backlog = sum(c.ready_since <= on and (c.exit_date is None or c.exit_date > on) for c in cases)
    inflow = sum(year_ago < c.ready_since <= on for c in cases)
    housed = sum(year_ago < h.housed_on <= on for h in housings)
    other = sum(
        c.status == "withdrawn" and c.exit_date is not None and year_ago < c.exit_date <= on
        for c in cases
    )
    monthly = {"new_ready": inflow / 12, "housed": housed / 12, "other": other / 12}
    needed = max(0, round(backlog + 12 * monthly["new_ready"] - 12 * monthly["other"]))
    projected = max(
        0, round(backlog + 12 * (monthly["new_ready"] - monthly["housed"] - monthly["other"]))
    )
    small = not whole and any(0 < n <= 4 for n in (backlog, inflow, housed, other))
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
