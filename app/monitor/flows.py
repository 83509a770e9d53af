"""Zicht op uitstroom, the flows: new ready cases, housings by lease form, other exits, backlog
and waiting days per period and group, with suppression for viewers who may not see the cases.

Definitions (also in the README and in each answer):
- A case counts once it is ready (`ready_since`); a case that left before its ready date never
  enters the figures, and one ready after today not yet (`facts.load_facts`).
- new ready: cases whose `ready_since` falls in the period.
- housed: housings (decision `house`) whose move-in date falls in the period, by lease form.
- other exits: cases withdrawn with `exit_date` in the period; `returned` when the reason is
  `returned_to_care`, `withdrawn` otherwise.
- backlog at a date: cases ready on that date (`ready_since <= date`) that had not left
  (`exit_date` empty or later). Backlog at the end of a period = backlog at its last day, so
  backlog(end) = backlog(previous end) + new ready - housed - other exits.
- waiting days: move-in date minus `ready_since`, for the housings of the period; median and
  90th percentile (nearest rank).
"""

import uuid
from collections.abc import Hashable
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.database import outside_transaction
from app.monitor.access import log_export, viewer_of, viewer_range
from app.monitor.facts import Facts, listed_groups, load_facts
from app.monitor.models import FLOW_MEASURES, GroupBy, Period
from app.monitor.periods import periods
from app.monitor.years import check_cells, cut, grid_of, group_keys
from app.organisations.models import Organisation, OrganisationKind
from app.tables.models import OutflowTable

DEFINITIONS = {
    "new_ready": "Cases whose ready_since falls in the period.",
    "housed": "Housings (decision house) whose move-in date falls in the period.",
    "housed_own_lease": "Housed with an own lease.",
    "housed_intermediate_lease": "Housed with an intermediate lease (care provider sublets).",
    "other_exits": "Cases withdrawn with exit_date in the period (returned + withdrawn).",
    "returned": "Other exits with reason returned_to_care.",
    "withdrawn": "Other exits with any other reason.",
    "backlog_end": "Cases ready on the period's last day that had not left by then.",
    "waiting_days": "Move-in date minus ready_since for the period's housings; median and "
    "90th percentile (nearest rank).",
    "scope": "Cases that left before their ready date never enter the figures, and cases "
    "ready after today not yet (a period after today counts nothing as happened). Corporation "
    "and municipality groupings (municipality of the dwelling) have housing figures only.",
    "suppression": "For organisations that may not see the cases, every count that holds 1-4 "
    "people other than the viewer's own is hidden (null), and enough other cells that no hidden "
    "count follows from what is shown, from non-negativity or from the viewer's own cases and "
    "dwellings, nor a sum of hidden counts (over any periods) that holds 1-4 people other than "
    "the viewer's own. The viewer's own row is shown whole. These organisations read one "
    "calendar year per answer, cut from one protected table per year and grouping (months, "
    "quarters and the year together), so other ranges or periods show nothing more.",
}
FLOW_COLUMNS = [
    "period",
    "period_start",
    "period_end",
    "group",
    "group_name",
    *FLOW_MEASURES,
    "backlog_end",
    "waiting_days_median",
    "waiting_days_p90",
]


def _group_names(session: Session, group_by: GroupBy, keys: set[str]) -> dict[str, str]:
    if group_by in (GroupBy.care_provider, GroupBy.corporation) and keys:
        rows = session.exec(
            select(Organisation.id, Organisation.name).where(
                col(Organisation.id).in_([uuid.UUID(k) for k in keys])
            )
        ).all()
        return {str(r[0]): r[1] for r in rows}
    if group_by == GroupBy.municipality and keys:
        # The CBS name the operator loaded (a code without one stays a code).
        from app.areas.service import names_for

        names = names_for(session, keys)
        return {k: names.get(k, k) for k in keys}
    return {k: k for k in keys}


def flows(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    start: date | None,
    end: date | None,
    period: str,
    group_by: str,
    facts: Facts | None = None,
) -> dict[str, Any]:
    """Inflow, housings, other exits, backlog and waiting days per period and group.

    Returns the `MonitorFlows` shape: `rows` (period x group; group null = all), `totals` over
    the range per group, `waiting_days_histogram`, `definitions`. Counts are people, waiting
    statistics days. `end` defaults to today, `start` to 364 days before `end`.

    A viewer who gets suppressed figures reads one whole calendar year (`start` defaults to its
    1 January; the range widens to the year, and `start` and `end` in the answer say so): its
    figures are cut from one protected table per year and grouping (`app.monitor.years`), so
    answers for other ranges, periods or dates show nothing more. Errors: 403 for the operator;
    400 for a bad range, for that viewer a range over two years (`range_spans_years`) or more
    than `years.MAX_RESTRICTED_CELLS` cells in a year's table (`too_fine_for_suppression`).
    `facts`: the table's (`load_facts`), when the caller read them already.
    """
    viewer = viewer_of(context, table)
    start, end = viewer_range(viewer, start, end)
    period_kind, grouping = Period(period), GroupBy(group_by)
    facts = facts if facts is not None else load_facts(session, table.id)
    cases, housings = facts.cases, facts.housings
    keys = group_keys(grouping, facts, listed_groups(session, table.id, grouping))
    hidden: set[Hashable] = set()
    known_waits: dict[tuple[Any, ...], int] = {}
    if viewer is None:
        in_range = [h.waiting_days for h in housings if start <= h.housed_on <= end]
        spans = periods(start, end, period_kind)
        grid = grid_of(cases, housings, grouping, spans, keys, in_range)
    else:
        check_cells(keys)
        own_groups = {
            str(viewer.organisation_id)
            for kind, g in (
                (OrganisationKind.care_provider, GroupBy.care_provider),
                (OrganisationKind.housing_corporation, GroupBy.corporation),
            )
            if viewer.kind == kind and grouping == g
        }
        # Protecting a fine grid takes seconds of CPU: done without holding the database, so
        # that on SQLite every other organisation's request is not queued behind it.
        with outside_transaction(session):
            grid, hidden, known_waits = cut(
                facts, viewer, grouping, period_kind, start.year, keys, own_groups
            )
        if not viewer.is_care_provider:  # the waiting days it knows are a care provider's own
            known_waits = {}
    names = _group_names(session, grouping, {g for g in keys if g is not None})

    def finish(row: dict[str, Any], part: str) -> dict[str, Any]:
        known = known_waits.get((part, row["period"], row["group"]), 0)
        return _finish(row, names, hidden, part, viewer is not None, known)

    document = {
        "table_id": table.id,
        "start": start,
        "end": end,
        "period": period_kind.value,
        "group_by": grouping.value,
        "suppression": viewer is not None,
        "rows": [finish(r, "rows") for r in grid.rows],
        "totals": [finish(r, "totals") for r in grid.totals],
        "waiting_days_histogram": [
            {**b, "count": None if ("hist", b["bucket"]) in hidden else b["count"]}
            for b in grid.histogram
        ],
        "definitions": DEFINITIONS,
    }
    log_export(session, context, table)
    return document


def _finish(
    row: dict[str, Any],
    names: dict[str, str],
    hidden: set[Hashable],
    part: str,
    restricted: bool,
    known_waits: int,
) -> dict[str, Any]:
    """Blank the hidden cells. For a restricted viewer, waiting statistics are blanked too
    unless they describe only housings whose waiting days it knows itself (a care provider's
    own): a median or a nearest-rank p90 is one person's waiting time (p90 over 5 to 9 is the
    longest), so over others' housings it gives that person's wait, and with a corporation's
    move-in dates their ready date; two medians of nested groups pinned three exact waits in a
    tester's hands. The histogram (protected counts per bucket) still shows the spread."""
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["group_name"] = names.get(row["group"]) if row["group"] is not None else None
    suppressed = []
    for measure in (*FLOW_MEASURES, "backlog_end"):
        if (part, row["period"], row["group"], measure) in hidden:
            out[measure] = None
            suppressed.append(measure)
    others = row["_housed_count"] - known_waits
    if restricted and ("housed" in suppressed or others > 0):
        # Named whether or not the period had a housing: listed only where it had one, the
        # names told a hidden housed count of 0 from one of at least 1.
        for measure in ("waiting_days_median", "waiting_days_p90"):
            out[measure] = None
            suppressed.append(measure)
    out["suppressed"] = suppressed
    return out
