"""Zicht op uitstroom: outflow figures per table, period and group, computed from the case files
and the housings the meeting workflow records, with suppression for viewers who may not see the
cases. Every export is written to the access log.

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

import csv
import io
import itertools
import math
import uuid
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.cases.models import Case, CaseStatus
from app.meetings.models import Meeting, MeetingStatus
from app.monitor.models import (
    ContingentAgreement,
    ContingentAgreementIn,
    GroupBy,
    Period,
)
from app.monitor.suppression import suppress
from app.organisations.models import Organisation, OrganisationKind
from app.problems import Forbidden, NotFound, Unprocessable
from app.proposals.models import Proposal, ProposalStatus
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
    "suppression": "For organisations that may not see the cases, counts of 1-4 and enough "
    "other cells are hidden (null) that no hidden count follows from the totals shown.",
}
FLOW_MEASURES = (
    "new_ready",
    "housed",
    "housed_own_lease",
    "housed_intermediate_lease",
    "other_exits",
    "returned",
    "withdrawn",
)
HOUSING_MEASURES = ("housed", "housed_own_lease", "housed_intermediate_lease")
CASE_MEASURES = ("new_ready", "other_exits", "returned", "withdrawn", "backlog_end")
HISTOGRAM = ((0, 90), (91, 180), (181, 365), (366, 730), (731, None))
MAX_RANGE_DAYS = 366 * 10
MAX_RESTRICTED_CELLS = 300  # period x group cells; protection is O(cells^3) at worst


@dataclass(frozen=True, slots=True)
class Housing:
    case_id: uuid.UUID
    care_provider_id: uuid.UUID
    corporation_id: uuid.UUID
    municipality_code: str
    neighbourhood_code: str
    housed_on: date
    lease_form: str | None
    contingent: bool
    waiting_days: int


@dataclass(frozen=True, slots=True)
class CaseFacts:
    id: uuid.UUID
    care_provider_id: uuid.UUID
    ready_since: date
    exit_date: date | None
    status: str
    status_reason: str | None


def can_see_cases(context: AccessContext, table: OutflowTable) -> bool:
    """Chair and municipality members see whole figures; other members get suppressed ones."""
    principal = context.principal
    if principal.is_operator:
        raise Forbidden("The monitor is for the organisations at the table.")
    return (
        principal.organisation_id == table.chair_organisation_id
        or principal.organisation_kind == OrganisationKind.municipality
    )


def _log_export(session: Session, context: AccessContext, table: OutflowTable) -> None:
    access_log.record_export(session, context, AccessAction.monitor_export, table.id)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise Unprocessable("end", "lies before start", "invalid_range", "query")
    if (end - start).days > MAX_RANGE_DAYS:
        raise Unprocessable("end", "the range is at most 10 years", "range_too_long", "query")


def _cases(session: Session, table_id: uuid.UUID) -> list[CaseFacts]:
    rows = session.exec(
        select(
            Case.id,
            Case.care_provider_id,
            Case.ready_since,
            Case.exit_date,
            Case.status,
            Case.status_reason,
        ).where(Case.table_id == table_id)
    ).all()
    facts = [CaseFacts(*row) for row in rows]
    return [c for c in facts if c.exit_date is None or c.exit_date >= c.ready_since]


def _housings(session: Session, table_id: uuid.UUID) -> list[Housing]:
    rows = session.exec(
        select(
            Proposal.case_id,
            Proposal.care_provider_id,
            Proposal.corporation_id,
            Proposal.neighbourhood_code,
            Proposal.housed_on,
            Proposal.lease_form,
            Proposal.contingent,
            Case.ready_since,
        )
        .join(Case, Case.id == Proposal.case_id)  # type: ignore[arg-type]
        .where(Proposal.table_id == table_id, Proposal.status == ProposalStatus.housed)
    ).all()
    return [
        Housing(
            case_id=r[0],
            care_provider_id=r[1],
            corporation_id=r[2],
            municipality_code="GM" + r[3][2:6],
            neighbourhood_code=r[3],
            housed_on=r[4],
            lease_form=r[5],
            contingent=r[6],
            waiting_days=(r[4] - r[7]).days,
        )
        for r in rows
        if r[4] is not None
    ]


def periods(start: date, end: date, period: Period) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each period overlapping [start, end], clipped to it."""
    result = []
    cursor = start
    while cursor <= end:
        if period == Period.month:
            label = f"{cursor.year}-{cursor.month:02d}"
            first_month, months = cursor.month, 1
        elif period == Period.quarter:
            quarter = (cursor.month - 1) // 3
            label = f"{cursor.year}-Q{quarter + 1}"
            first_month, months = quarter * 3 + 1, 3
        else:
            label = f"{cursor.year}"
            first_month, months = 1, 12
        next_month = first_month + months
        next_start = date(cursor.year + (next_month - 1) // 12, (next_month - 1) % 12 + 1, 1)
        last = min(end, next_start - timedelta(days=1))
        result.append((label, cursor, last))
        cursor = next_start
    return result


def _percentile(values: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or
    below it."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def _group_names(session: Session, group_by: GroupBy, keys: set[str]) -> dict[str, str]:
    if group_by in (GroupBy.care_provider, GroupBy.corporation) and keys:
        rows = session.exec(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_([uuid.UUID(k) for k in keys])  # type: ignore[attr-defined]
            )
        ).all()
        return {str(r[0]): r[1] for r in rows}
    return {k: k for k in keys}


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
    """Inflow, housings, other exits, backlog and waiting days per period and group."""
    whole = can_see_cases(context, table)
    _check_range(start, end)
    period_kind, grouping = Period(period), GroupBy(group_by)
    spans = periods(start, end, period_kind)
    cases = _cases(session, table.id)
    housings = _housings(session, table.id)
    case_groups = grouping in (GroupBy.none, GroupBy.care_provider)

    def group_of_case(case: CaseFacts) -> str | None:
        return str(case.care_provider_id) if grouping == GroupBy.care_provider else None

    def group_of_housing(housing: Housing) -> str | None:
        if grouping == GroupBy.care_provider:
            return str(housing.care_provider_id)
        if grouping == GroupBy.corporation:
            return str(housing.corporation_id)
        if grouping == GroupBy.municipality:
            return housing.municipality_code
        return None

    groups: set[str] = set()
    if grouping == GroupBy.care_provider:
        groups |= {str(c.care_provider_id) for c in cases}
    groups |= {g for h in housings if (g := group_of_housing(h)) is not None}
    if grouping == GroupBy.care_provider:
        members = session.exec(
            select(Organisation.id)
            .join(TableMember, TableMember.organisation_id == Organisation.id)  # type: ignore[arg-type]
            .where(
                TableMember.table_id == table.id,
                Organisation.kind == OrganisationKind.care_provider.value,
            )
        ).all()
        groups |= {str(m) for m in members}
    ordered_groups: list[str | None] = [None] if grouping == GroupBy.none else sorted(groups)
    keys: list[str | None] = ordered_groups if grouping == GroupBy.none else [*ordered_groups, None]
    if not whole and len(spans) * (len(keys)) > MAX_RESTRICTED_CELLS:
        raise Unprocessable(
            "period",
            "too many cells to protect for this viewer; choose a coarser period or a shorter range",
            "too_fine_for_suppression",
            "query",
        )

    def select_cases(group: str | None) -> list[CaseFacts]:
        return [c for c in cases if group is None or group_of_case(c) == group]

    def select_housings(group: str | None) -> list[Housing]:
        return [h for h in housings if group is None or group_of_housing(h) == group]

    indexes = {g: GroupIndex.of(select_cases(g), select_housings(g)) for g in keys}
    rows = [
        _measures(label, first, last, group, indexes[group], case_groups)
        for label, first, last in spans
        for group in keys
    ]
    # Over the whole range: flows are sums, the stock is the backlog at the range's end.
    totals = [_measures("total", start, end, g, indexes[g], case_groups) for g in keys]
    in_range = [h for h in housings if start <= h.housed_on <= end]
    histogram = [
        {
            "bucket": f"{low}-{high}" if high is not None else f"{low}+",
            "min_days": low,
            "max_days": high,
            "count": sum(
                low <= h.waiting_days and (high is None or h.waiting_days <= high) for h in in_range
            ),
        }
        for low, high in HISTOGRAM
    ]
    hidden: set = set()
    if not whole:
        hidden = _protect_flows(rows, totals, histogram, spans, keys, case_groups)
    names = _group_names(session, grouping, {g for g in keys if g is not None})
    document = {
        "table_id": table.id,
        "start": start,
        "end": end,
        "period": period_kind.value,
        "group_by": grouping.value,
        "suppression": not whole,
        "rows": [_finish(r, names, hidden, "rows", not whole) for r in rows],
        "totals": [_finish(r, names, hidden, "totals", not whole) for r in totals],
        "waiting_days_histogram": [
            {**b, "count": None if ("hist", b["bucket"]) in hidden else b["count"]}
            for b in histogram
        ],
        "definitions": DEFINITIONS,
    }
    _log_export(session, context, table)
    return document


def _cell_id(part: str, row: dict[str, Any], measure: str) -> tuple:
    return (part, row["period"], row["group"], measure)


def _protect_flows(
    rows: list[dict[str, Any]],
    totals: list[dict[str, Any]],
    histogram: list[dict[str, Any]],
    spans: list[tuple[str, date, date]],
    keys: list[str | None],
    case_groups: bool,
) -> set:
    """Hide small counts and their complements across every relation the answer shows."""
    measures = [m for m in FLOW_MEASURES if case_groups or m in HOUSING_MEASURES]
    stock = ["backlog_end"] if case_groups else []
    values: dict[tuple, int | None] = {}
    for part, collection in (("rows", rows), ("totals", totals)):
        for row in collection:
            for measure in measures + stock:
                values[_cell_id(part, row, measure)] = row[measure]
    for bucket in histogram:
        values[("hist", bucket["bucket"])] = bucket["count"]
    by_period = {(r["period"], r["group"]): r for r in rows}
    total_of = {r["group"]: r for r in totals}
    grouped = keys[-1] is None and len(keys) > 1
    members = [k for k in keys if k is not None]
    equations: list = []
    for label, _, _ in spans:
        for measure in measures + stock:
            if grouped:
                equations.append(
                    [(_cell_id("rows", by_period[(label, g)], measure), 1.0) for g in members]
                    + [(_cell_id("rows", by_period[(label, None)], measure), -1.0)]
                )
    for group in keys:
        for measure in measures:
            equations.append(
                [
                    (_cell_id("rows", by_period[(label, group)], measure), 1.0)
                    for label, _, _ in spans
                ]
                + [(_cell_id("totals", total_of[group], measure), -1.0)]
            )
        for measure in stock:
            last_label = spans[-1][0]
            equations.append(
                [
                    (_cell_id("rows", by_period[(last_label, group)], measure), 1.0),
                    (_cell_id("totals", total_of[group], measure), -1.0),
                ]
            )
    if grouped:
        for measure in measures + stock:
            equations.append(
                [(_cell_id("totals", total_of[g], measure), 1.0) for g in members]
                + [(_cell_id("totals", total_of[None], measure), -1.0)]
            )
    for part, collection in (("rows", rows), ("totals", totals)):
        for row in collection:
            equations.append(
                [
                    (_cell_id(part, row, "housed"), 1.0),
                    (_cell_id(part, row, "housed_own_lease"), -1.0),
                    (_cell_id(part, row, "housed_intermediate_lease"), -1.0),
                ]
            )
            if case_groups:
                equations.append(
                    [
                        (_cell_id(part, row, "other_exits"), 1.0),
                        (_cell_id(part, row, "returned"), -1.0),
                        (_cell_id(part, row, "withdrawn"), -1.0),
                    ]
                )
    if case_groups:
        for group in keys:
            for (previous, _, _), (label, _, _) in itertools.pairwise(spans):
                now, before = by_period[(label, group)], by_period[(previous, group)]
                equations.append(
                    [
                        (_cell_id("rows", now, "backlog_end"), 1.0),
                        (_cell_id("rows", before, "backlog_end"), -1.0),
                        (_cell_id("rows", now, "new_ready"), -1.0),
                        (_cell_id("rows", now, "housed"), 1.0),
                        (_cell_id("rows", now, "other_exits"), 1.0),
                    ]
                )
    equations.append(
        [(("hist", b["bucket"]), 1.0) for b in histogram]
        + [(_cell_id("totals", total_of[None], "housed"), -1.0)]
    )
    return suppress(values, equations)


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
        exits = [c for c in cases if c.status == CaseStatus.withdrawn and c.exit_date is not None]
        return cls(
            ready=sorted(c.ready_since for c in cases),
            left=sorted(c.exit_date for c in cases if c.exit_date is not None),
            returned=sorted(c.exit_date for c in exits if c.status_reason == "returned_to_care"),  # type: ignore[misc]
            withdrawn=sorted(c.exit_date for c in exits if c.status_reason != "returned_to_care"),  # type: ignore[misc]
            housed=sorted((h.housed_on, h.lease_form or "", h.waiting_days) for h in housings),
        )


def _between(dates: list[date], first: date, last: date) -> int:
    return bisect_right(dates, last) - bisect_left(dates, first)


def _measures(
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
    row["waiting_days_median"] = _median(waits)
    row["waiting_days_p90"] = _percentile(waits, 0.9)
    row["_housed_count"] = len(waits)
    return row


def _finish(
    row: dict[str, Any], names: dict[str, str], hidden: set, part: str, restricted: bool
) -> dict[str, Any]:
    """Blank the hidden cells. For a restricted viewer, waiting statistics of fewer than five
    housings (or of hidden ones) are blanked too: a median of two people describes them."""
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["group_name"] = names.get(row["group"]) if row["group"] is not None else None
    suppressed = []
    for measure in (*FLOW_MEASURES, "backlog_end"):
        if (part, row["period"], row["group"], measure) in hidden:
            out[measure] = None
            suppressed.append(measure)
    few = row["_housed_count"] < 5 or "housed" in suppressed
    if restricted and few:
        for measure in ("waiting_days_median", "waiting_days_p90"):
            if out[measure] is not None:
                out[measure] = None
                suppressed.append(measure)
    out["suppressed"] = suppressed
    return out


def placements(
    session: Session, context: AccessContext, table: OutflowTable, *, start: date, end: date
) -> dict[str, Any]:
    """Housings per neighbourhood in the range: is the table concentrating people?"""
    whole = can_see_cases(context, table)
    _check_range(start, end)
    counts = Counter(
        (h.neighbourhood_code, h.municipality_code)
        for h in _housings(session, table.id)
        if start <= h.housed_on <= end
    )
    rows = [
        {"neighbourhood_code": code, "municipality_code": gm, "placements": n}
        for (code, gm), n in sorted(counts.items())
    ]
    total = sum(counts.values())
    hidden: set = set()
    if not whole:
        values: dict = {("n", r["neighbourhood_code"]): r["placements"] for r in rows}
        values[("total",)] = total
        equation = [(("n", r["neighbourhood_code"]), 1.0) for r in rows] + [(("total",), -1.0)]
        hidden = suppress(values, [equation])
    document = {
        "table_id": table.id,
        "start": start,
        "end": end,
        "suppression": not whole,
        "rows": [
            {
                **r,
                "placements": None if ("n", r["neighbourhood_code"]) in hidden else r["placements"],
            }
            for r in rows
        ],
        "total": None if ("total",) in hidden else total,
    }
    _log_export(session, context, table)
    return document


def put_agreement(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    year: int,
    corporation_id: uuid.UUID,
    data: ContingentAgreementIn,
) -> tuple[ContingentAgreement, bool]:
    """The municipality (or chair) records what a corporation agreed for a year."""
    principal = context.principal
    if not (
        principal.organisation_id == table.chair_organisation_id
        or principal.organisation_kind == OrganisationKind.municipality
    ):
        raise Forbidden("Municipalities at the table record contingent agreements.")
    corporation = session.get(Organisation, corporation_id)
    if (
        corporation is None
        or corporation.kind != OrganisationKind.housing_corporation.value
        or session.get(TableMember, (table.id, corporation_id)) is None
    ):
        raise NotFound("No such corporation at this table.")
    row = session.get(ContingentAgreement, (table.id, corporation_id, year))
    created = row is None
    if row is None:
        row = ContingentAgreement(
            table_id=table.id,
            corporation_id=corporation_id,
            year=year,
            agreed=data.agreed,
            updated_by_organisation_id=principal.require_organisation(),
        )
    else:
        row.agreed = data.agreed
        row.updated_by_organisation_id = principal.require_organisation()
    session.add(row)
    session.flush()
    return row, created


def list_agreements(
    session: Session, table: OutflowTable, year: int | None
) -> list[ContingentAgreement]:
    query = select(ContingentAgreement).where(ContingentAgreement.table_id == table.id)
    if year is not None:
        query = query.where(ContingentAgreement.year == year)
    return list(
        session.exec(query.order_by(ContingentAgreement.year, ContingentAgreement.corporation_id))  # type: ignore[arg-type]
    )


def contingent(
    session: Session, context: AccessContext, table: OutflowTable, *, year: int
) -> dict[str, Any]:
    """Contingent agreed against realised (housings in contingent dwellings) per corporation."""
    whole = can_see_cases(context, table)
    me = context.principal.organisation_id
    corporations = session.exec(
        select(Organisation)
        .join(TableMember, TableMember.organisation_id == Organisation.id)  # type: ignore[arg-type]
        .where(
            TableMember.table_id == table.id,
            Organisation.kind == OrganisationKind.housing_corporation.value,
        )
        .order_by(Organisation.name)
    ).all()
    agreed = {a.corporation_id: a.agreed for a in list_agreements(session, table, year)}
    realised = Counter(
        h.corporation_id
        for h in _housings(session, table.id)
        if h.contingent and h.housed_on.year == year
    )
    rows = [
        {
            "corporation_id": c.id,
            "corporation_name": c.name,
            "agreed": agreed.get(c.id),
            "realised": realised.get(c.id, 0),
        }
        for c in corporations
    ]
    own_only = context.principal.organisation_kind == OrganisationKind.housing_corporation
    if own_only and not whole:
        rows = [r for r in rows if r["corporation_id"] == me]
    hidden: set = set()
    total_realised: int | None = sum(r["realised"] for r in rows)
    if not whole and not own_only:
        values: dict = {("r", str(r["corporation_id"])): r["realised"] for r in rows}
        values[("total",)] = total_realised
        equation = [(("r", str(r["corporation_id"])), 1.0) for r in rows] + [(("total",), -1.0)]
        hidden = suppress(values, [equation])
        if ("total",) in hidden:
            total_realised = None
    out_rows = []
    for r in rows:
        shown = None if ("r", str(r["corporation_id"])) in hidden else r["realised"]
        share = round(shown / r["agreed"], 4) if shown is not None and r["agreed"] else None
        out_rows.append({**r, "realised": shown, "realised_share": share})
    agreed_values = [r["agreed"] for r in rows if r["agreed"] is not None]
    document = {
        "table_id": table.id,
        "year": year,
        "suppression": bool(not whole and not own_only),
        "rows": out_rows,
        "total_agreed": sum(agreed_values) if agreed_values else None,
        "total_realised": total_realised,
    }
    _log_export(session, context, table)
    return document


def bottleneck_history(
    session: Session, context: AccessContext, table: OutflowTable, *, start: date, end: date
) -> dict[str, Any]:
    """Per published meeting in the range: cases blocked, and per reason the cases it alone
    blocks (from the frozen agendas, so the figures are what the table saw)."""
    whole = can_see_cases(context, table)
    _check_range(start, end)
    meetings = session.exec(
        select(Meeting)
        .where(
            Meeting.table_id == table.id,
            Meeting.status == MeetingStatus.published,
            Meeting.date >= start,
            Meeting.date <= end,
        )
        .order_by(Meeting.date)  # type: ignore[arg-type]
    ).all()

    def shown(value: int) -> int | None:
        return None if not whole and 0 < value <= 4 else value

    items = []
    for meeting in meetings:
        document = (meeting.snapshot or {}).get("document", {})
        bottlenecks = document.get("bottlenecks") or {"blocked_cases": [], "by_reason": []}
        items.append(
            {
                "meeting_id": meeting.id,
                "date": meeting.date,
                "ready_cases": shown(document.get("summary", {}).get("ready_cases", 0)),
                "blocked_cases": shown(len(bottlenecks["blocked_cases"])),
                "blocked_only_by": {
                    r["code"]: shown(r["cases_blocked_only_by"]) for r in bottlenecks["by_reason"]
                },
            }
        )
    _log_export(session, context, table)
    return {
        "table_id": table.id,
        "start": start,
        "end": end,
        "suppression": not whole,
        "meetings": items,
    }


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
    cases = _cases(session, table.id)
    housings = _housings(session, table.id)
    backlog = sum(c.ready_since <= on and (c.exit_date is None or c.exit_date > on) for c in cases)
    inflow = sum(year_ago < c.ready_since <= on for c in cases)
    housed = sum(year_ago < h.housed_on <= on for h in housings)
    other = sum(
        c.status == CaseStatus.withdrawn
        and c.exit_date is not None
        and year_ago < c.exit_date <= on
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
    _log_export(session, context, table)
    return document


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """CSV with one header line; an empty cell is suppressed or does not apply."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()


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
