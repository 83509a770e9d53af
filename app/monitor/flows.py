"""Zicht op uitstroom, the flows: new ready cases, housings by lease form, other exits, backlog
and waiting days per period and group, with suppression for viewers who may not see the cases.

Definitions (also in the README and in each answer):
- A case counts once it is ready (`ready_since`); a case that left before its ready date never
  enters the figures.
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
from bisect import bisect_left, bisect_right
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.cases.models import CaseStatus
from app.database import outside_transaction
from app.monitor import waiting
from app.monitor.access import check_range, log_export, viewer_of
from app.monitor.facts import CaseFacts, Housing, load_facts
from app.monitor.flow_equations import Grid, protect_flows
from app.monitor.models import FLOW_MEASURES, GroupBy, Period
from app.monitor.periods import periods
from app.organisations.models import Organisation, OrganisationKind
from app.problems import Unprocessable
from app.tables.models import OutflowTable, TableMember

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
    "scope": "Cases that left before their ready date never enter the figures. Corporation "
    "and municipality groupings (municipality of the dwelling) have housing figures only.",
    "suppression": "For organisations that may not see the cases, every count that holds 1-4 "
    "people other than the viewer's own is hidden (null), and enough other cells that no hidden "
    "count follows from what is shown, from non-negativity or from the viewer's own cases and "
    "dwellings, nor a sum of hidden counts (over any periods) that holds 1-4 people other than "
    "the viewer's own. The viewer's own row is shown whole.",
}
MAX_RESTRICTED_CELLS = 300  # period x group cells; protection is O(cells^3) at worst
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


@dataclass(frozen=True, slots=True)
class GroupIndex:
    """One group's dates, sorted, so every period's counts are two binary searches.

    For a counted case the exit never precedes the ready date, so the backlog on day D is
    #(ready <= D) - #(left <= D).
    """

    ready: list[date]
    left: list[date]
    returned: list[date]
    withdrawn: list[date]
    housed: list[tuple[date, str, int]]  # (move-in, lease form, waiting days)

    @classmethod
    def of(cls, cases: list[CaseFacts], housings: list[Housing]) -> "GroupIndex":
        exits = [
            (c.exit_date, c.status_reason)
            for c in cases
            if c.status == CaseStatus.withdrawn and c.exit_date is not None
        ]
        return cls(
            ready=sorted(c.ready_since for c in cases),
            left=sorted(c.exit_date for c in cases if c.exit_date is not None),
            returned=sorted(on for on, reason in exits if reason == "returned_to_care"),
            withdrawn=sorted(on for on, reason in exits if reason != "returned_to_care"),
            housed=sorted((h.housed_on, h.lease_form or "", h.waiting_days) for h in housings),
        )


def _between(dates: list[date], first: date, last: date) -> int:
    return bisect_right(dates, last) - bisect_left(dates, first)


def measures(
    label: str, first: date, last: date, group: str | None, index: GroupIndex, case_groups: bool
) -> dict[str, Any]:
    """Every measure of one period (or the whole range) for one group."""
    row: dict[str, Any] = {"period": label, "period_start": first, "period_end": last}
    row["group"] = group
    row |= dict.fromkeys((*FLOW_MEASURES, "backlog_end"))
    if case_groups:
        row["new_ready"] = _between(index.ready, first, last)
        row["returned"] = _between(index.returned, first, last)
        row["withdrawn"] = _between(index.withdrawn, first, last)
        row["other_exits"] = row["returned"] + row["withdrawn"]
        row["backlog_end"] = bisect_right(index.ready, last) - bisect_right(index.left, last)
    low = bisect_left(index.housed, (first,))
    high = bisect_left(index.housed, (last + timedelta(days=1),))
    housed = index.housed[low:high]
    row["housed"] = len(housed)
    row["housed_own_lease"] = sum(h[1] == "own_lease" for h in housed)
    row["housed_intermediate_lease"] = sum(h[1] == "intermediate_lease" for h in housed)
    waits = [h[2] for h in housed]
    row["waiting_days_median"] = waiting.median(waits)
    row["waiting_days_p90"] = waiting.percentile(waits, 0.9)
    row["_housed_count"] = len(waits)
    return row


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


def _member_care_providers(session: Session, table: OutflowTable) -> set[str]:
    members = session.exec(
        select(Organisation.id)
        .join(TableMember, col(TableMember.organisation_id) == col(Organisation.id))
        .where(
            TableMember.table_id == table.id,
            Organisation.kind == OrganisationKind.care_provider.value,
        )
    ).all()
    return {str(m) for m in members}


def _group_of_case(grouping: GroupBy, case: CaseFacts) -> str | None:
    return str(case.care_provider_id) if grouping == GroupBy.care_provider else None


def _group_of_housing(grouping: GroupBy, housing: Housing) -> str | None:
    if grouping == GroupBy.care_provider:
        return str(housing.care_provider_id)
    if grouping == GroupBy.corporation:
        return str(housing.corporation_id)
    if grouping == GroupBy.municipality:
        return housing.municipality_code
    return None


def _grid(
    cases: list[CaseFacts],
    housings: list[Housing],
    grouping: GroupBy,
    spans: list[tuple[str, date, date]],
    keys: list[str | None],
    waits: list[int],
) -> Grid:
    case_groups = grouping in (GroupBy.none, GroupBy.care_provider)
    indexes = {
        g: GroupIndex.of(
            [c for c in cases if g is None or _group_of_case(grouping, c) == g],
            [h for h in housings if g is None or _group_of_housing(grouping, h) == g],
        )
        for g in keys
    }
    rows = [
        measures(label, first, last, group, indexes[group], case_groups)
        for label, first, last in spans
        for group in keys
    ]
    # Over the whole range: flows are sums, the stock is the backlog at the range's end.
    start, end = spans[0][1], spans[-1][2]
    totals = [measures("total", start, end, g, indexes[g], case_groups) for g in keys]
    return Grid(rows, totals, waiting.histogram(waits))


def flows(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    start: date,
    end: date,
    period: str,
    group_by: str,
) -> dict[str, Any]:
    """Inflow, housings, other exits, backlog and waiting days per period and group.

    Returns the `MonitorFlows` shape: `rows` (period x group; group null = all), `totals` over
    the range per group, `waiting_days_histogram`, `definitions`. Counts are people, waiting
    statistics days. Errors: 403 for the operator, 400 for a bad range or, for a viewer who
    gets suppressed figures, more than MAX_RESTRICTED_CELLS period x group cells.
    """
    viewer = viewer_of(context, table)
    check_range(start, end)
    period_kind, grouping = Period(period), GroupBy(group_by)
    spans = periods(start, end, period_kind)
    facts = load_facts(session, table.id)
    cases, housings = facts.cases, facts.housings
    groups: set[str] = set()
    if grouping == GroupBy.care_provider:
        groups |= {str(c.care_provider_id) for c in cases}
        groups |= _member_care_providers(session, table)
    groups |= {g for h in housings if (g := _group_of_housing(grouping, h)) is not None}
    ordered_groups: list[str | None] = [None] if grouping == GroupBy.none else [*sorted(groups)]
    keys: list[str | None] = ordered_groups if grouping == GroupBy.none else [*ordered_groups, None]
    if viewer is not None and len(spans) * (len(keys)) > MAX_RESTRICTED_CELLS:
        raise Unprocessable(
            "period",
            "too many cells to protect for this viewer; choose a coarser period or a shorter range",
            "too_fine_for_suppression",
            "query",
        )
    in_range = [h for h in housings if start <= h.housed_on <= end]
    grid = _grid(cases, housings, grouping, spans, keys, [h.waiting_days for h in in_range])
    hidden: set[Hashable] = set()
    known_waits: dict[tuple[Any, ...], int] = {}
    if viewer is not None:
        mine = viewer.own(facts)
        own = _grid(
            mine.cases,
            mine.housings,
            grouping,
            spans,
            keys,
            [h.waiting_days for h in in_range if viewer.knows_waiting(h.care_provider_id)],
        )
        own_groups = {
            str(viewer.organisation_id)
            for kind, g in (
                (OrganisationKind.care_provider, GroupBy.care_provider),
                (OrganisationKind.housing_corporation, GroupBy.corporation),
            )
            if viewer.kind == kind and grouping == g
        }
        case_groups = grouping in (GroupBy.none, GroupBy.care_provider)
        owned = [
            h.waiting_days
            for h in in_range
            if viewer.owns_housing(h.care_provider_id, h.corporation_id)
        ]
        # Protecting a fine grid takes seconds of CPU: done without holding the database, so
        # that on SQLite every other organisation's request is not queued behind it.
        with outside_transaction(session):
            hidden = protect_flows(
                grid, own, spans, keys, case_groups, own_groups, waiting.histogram(owned)
            )
        if viewer.is_care_provider:  # the waiting days of its own housings it knows
            known_waits = {
                (part, r["period"], r["group"]): r["housed"]
                for part, collection in (("rows", own.rows), ("totals", own.totals))
                for r in collection
            }
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
    """Blank the hidden cells. For a restricted viewer, waiting statistics are blanked too when
    they describe 1 to 4 housings whose waiting days the viewer does not know itself (a median
    of two people describes them), or when the housed count is hidden."""
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["group_name"] = names.get(row["group"]) if row["group"] is not None else None
    suppressed = []
    for measure in (*FLOW_MEASURES, "backlog_end"):
        if (part, row["period"], row["group"], measure) in hidden:
            out[measure] = None
            suppressed.append(measure)
    others = row["_housed_count"] - known_waits
    if restricted and ("housed" in suppressed or 0 < others < 5):
        for measure in ("waiting_days_median", "waiting_days_p90"):
            if out[measure] is not None:
                out[measure] = None
                suppressed.append(measure)
    out["suppressed"] = suppressed
    return out
