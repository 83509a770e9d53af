"""After the move: tenancy sustainment by cohort of move-in, lease transfers realised against
planned, and the signals the follow-up checkpoints raised per period (the README's section
"Figures after the move" defines each). Suppressed for viewers who may not see the cases, as
the other figures: a cell holding 1-4 housings or checkpoints other than the viewer's own is
hidden, and so is any cell that would give it away through the totals.

Such a viewer reads one calendar year per answer, as for the flows (`app.monitor.years`): every
answer is cut from one protected table of the year's months, quarters and the year, so answers
for other ranges or periods show nothing more. A cohort's housed count is the flows' housed
count of the same period (a tenancy starts on the day its case is housed), and its leases
transferred as planned meet the flows' intermediate leases, so the table takes those cells as
the flows' year table decided them: what the flows hide stays hidden here, and the cohort
counts that equal them (every housing of a cohort past N months has reached N months) are
protected with them.
"""

from collections.abc import Callable, Hashable
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.aftercare.models import CORPORATION_SIGNALS, Checkpoint, Tenancy, TenancyEndReason
from app.database import outside_transaction
from app.matching.ages import add_months
from app.monitor.access import Viewer, checked_range, log_export, viewer_of, viewer_range
from app.monitor.facts import Facts, load_facts
from app.monitor.models import SIGNAL_CODES, SUSTAINMENT_MONTHS, GroupBy, Period
from app.monitor.periods import calendar_year, periods
from app.monitor.suppression import Equation
from app.monitor.years import protected_year
from app.tables.models import OutflowTable
from app.timeutil import today
from app.vacancies.models import LeaseForm

COHORT_COUNTS = (
    "housed",
    *(f"{what}_{m}" for m in SUSTAINMENT_MONTHS for what in ("reached", "still_housed")),
    "transfers_planned",
    "transfers_realised",
    "transfers_on_time",
)
SIGNAL_COUNTS = ("checkpoints", *SIGNAL_CODES)

DEFINITIONS = {
    "housed": "Tenancies (housings) whose move-in day lies in the cohort.",
    "reached_N": "Of those, the housings whose day N months after the move-in (the same day of "
    "the month, or the month's last day) is on or before `as_of`.",
    "still_housed_N": "Of `reached_N`, the housings still housed on that day: no end recorded "
    "before it, or an end with reason `moved_on` (the client moved on to another home).",
    "share_N": "`still_housed_N` / `reached_N`; null when `reached_N` is 0 or either is "
    "suppressed.",
    "transfers_planned": "Intermediate leases of the cohort whose planned omklap day is on or "
    "before `as_of`.",
    "transfers_realised": "Of those, the leases the corporation recorded as transferred.",
    "transfers_on_time": "Of those, the ones transferred on or before the planned day.",
    "checkpoints": "Follow-up checkpoints whose day of record lies in the period.",
    "signal": "Per signal code: the checkpoints of the period that raised it (a checkpoint "
    "raising two signals counts once under each).",
}


def still_housed(tenancy: Tenancy, mark: date) -> bool:
    """Housed on `mark`: not ended before it, or ended by moving on to another home."""
    return (
        tenancy.ended_on is None
        or tenancy.ended_on >= mark
        or tenancy.end_reason == TenancyEndReason.moved_on
    )


def cohort_counts(tenancies: list[Tenancy], as_of: date) -> dict[str, int]:
    """The cohort counts (`COHORT_COUNTS`) of these tenancies on `as_of`."""
    counts = dict.fromkeys(COHORT_COUNTS, 0)
    for t in tenancies:
        counts["housed"] += 1
        for months in SUSTAINMENT_MONTHS:
            mark = add_months(t.moved_in, months)
            if mark <= as_of:
                counts[f"reached_{months}"] += 1
                counts[f"still_housed_{months}"] += still_housed(t, mark)
        planned = t.transfer_planned_on
        if t.lease_form == LeaseForm.intermediate_lease and planned and planned <= as_of:
            counts["transfers_planned"] += 1
            if t.transferred_on is not None:
                counts["transfers_realised"] += 1
                counts["transfers_on_time"] += t.transferred_on <= planned
    return counts


def signal_counts(checkpoints: list[Checkpoint]) -> dict[str, int]:
    counts = dict.fromkeys(SIGNAL_COUNTS, 0)
    for c in checkpoints:
        counts["checkpoints"] += 1
        for code in c.signals:
            counts[code] += 1
    return counts


def _table(
    labels: list[tuple[str, date, date]],
    items: list[Any],
    day_of: Callable[[Any], date],
    count: Callable[[list[Any]], dict[str, int]],
) -> dict[str, dict[str, int]]:
    rows = {
        label: count([i for i in items if first <= day_of(i) <= last])
        for label, first, last in labels
    }
    rows["total"] = count(items)
    return rows


def _shown(
    rows: dict[str, dict[str, int]],
    labels: list[tuple[str, date, date]],
    start: date,
    end: date,
    hidden: set[Hashable],
    key: str,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    spans = {label: (first, last) for label, first, last in labels} | {"total": (start, end)}
    out = {}
    for label, counts in rows.items():
        first, last = spans[label]
        row: dict[str, Any] = {key: label, "period_start": first, "period_end": last}
        row |= {m: None if (m, label) in hidden else n for m, n in counts.items()}
        for months in SUSTAINMENT_MONTHS if key == "cohort" else ():
            reached, still = row[f"reached_{months}"], row[f"still_housed_{months}"]
            row[f"share_{months}"] = (
                round(still / reached, 4) if reached and still is not None else None
            )
        out[label] = row
    total = out.pop("total")
    return list(out.values()), total


def sustainment(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    start: date | None,
    end: date | None,
    period: Period,
    facts: Facts | None = None,
) -> dict[str, Any]:
    """The `MonitorSustainment` document: cohorts of move-ins in [start, end] and checkpoints
    recorded in it, counted on today (`end` defaults to today, `start` to three years before
    `end`). A viewer who gets suppressed figures reads one calendar year (`viewer_range`:
    `start` defaults to 1 January of `end`'s year and the range widens to it). Errors: 403 for
    the operator, 400 for a bad range. `facts`: the table's (`load_facts`), when the caller read
    them already."""
    viewer = viewer_of(context, table)
    if viewer is None:
        start, end = checked_range(start, end, days=3 * 365)
    else:
        start, end = viewer_range(viewer, start, end)
    as_of = today()
    labels = periods(start, end, period)
    tenancies: list[Tenancy] = _dated(session, Tenancy, table, start, end)
    checkpoints: list[Checkpoint] = _dated(session, Checkpoint, table, start, end)
    if viewer is None:
        cohorts = _table(labels, tenancies, _moved_in, lambda ts: cohort_counts(ts, as_of))
        signals = _table(labels, checkpoints, _recorded_on, signal_counts)
        cohort_rows, cohort_total = _shown(cohorts, labels, start, end, set(), "cohort")
        signal_rows, signal_total = _shown(signals, labels, start, end, set(), "period")
    else:
        owners = {
            t.case_id: t for t in session.exec(select(Tenancy).where(Tenancy.table_id == table.id))
        }
        facts = facts if facts is not None else load_facts(session, table.id)
        with outside_transaction(session):
            hidden = _protected_year(
                facts, viewer, start.year, as_of, tenancies, checkpoints, owners
            )
        cohorts = _table(labels, tenancies, _moved_in, lambda ts: cohort_counts(ts, as_of))
        signals = _table(labels, checkpoints, _recorded_on, signal_counts)
        year = str(start.year)
        cohort_rows, cohort_total = _shown(
            cohorts, labels, start, end, _cut(hidden, "c", year), "cohort"
        )
        signal_rows, signal_total = _shown(
            signals, labels, start, end, _cut(hidden, "s", year), "period"
        )
    document = {
        "table_id": table.id,
        "start": start,
        "end": end,
        "as_of": as_of,
        "period": period,
        "suppression": viewer is not None,
        "cohorts": cohort_rows,
        "cohorts_total": cohort_total,
        "signals": signal_rows,
        "signals_total": signal_total,
        "definitions": DEFINITIONS,
    }
    log_export(session, context, table)
    return document


def _moved_in(tenancy: Tenancy) -> date:
    return tenancy.moved_in


def _recorded_on(checkpoint: Checkpoint) -> date:
    return checkpoint.recorded_on


def _dated(
    session: Session,
    model: type[Tenancy] | type[Checkpoint],
    table: OutflowTable,
    start: date,
    end: date,
) -> list[Any]:
    """The table's tenancies by move-in day, or checkpoints by day of record, in [start, end]."""
    day = col(Tenancy.moved_in) if model is Tenancy else col(Checkpoint.recorded_on)
    return list(
        session.exec(select(model).where(model.table_id == table.id, day >= start, day <= end))
    )


def _cut(hidden: frozenset[Hashable], part: str, year: str) -> set[Hashable]:
    """The year table's hidden cells of one part as `_shown` takes them, `(measure, label)`:
    the year's row is also the answer's total."""
    cut: set[Hashable] = set()
    for cell in hidden:
        if isinstance(cell, tuple) and cell[0] == part:
            _, label, measure = cell
            cut.add((measure, label))
            if label == year:
                cut.add((measure, "total"))
    return cut


def _protected_year(
    facts: Facts,
    viewer: Viewer,
    year: int,
    as_of: date,
    tenancies: list[Tenancy],
    checkpoints: list[Checkpoint],
    owners: dict[Any, Tenancy],
) -> frozenset[Hashable]:
    """The cells of the calendar year's sustainment table to hide from `viewer`: cohort cells
    `("c", label, measure)` and signal cells `("s", label, measure)` for the 12 months, the
    4 quarters and the year (`label` as in `calendar_year`), protected together with the flows'
    year table without groups (`app.monitor.years`), whose cells keep their decisions.

    The reader's equations: each quarter and the year are the sums of their months; a cohort's
    housed count is the flows' housed count of its period; a cohort whose last move-in day is N
    months before `as_of` has `reached_N = housed`; where they are equal (every intermediate
    lease of the cohort planned to transfer by `as_of`), `transfers_planned` is the flows'
    `housed_intermediate_lease`; and every equation of the flows' table. So no cell shown here
    settles a flows cell the flows hide, nor the other way round (README, the monitor's "Asking
    again shows nothing more")."""
    spans, parts = calendar_year(year)
    flows = protected_year(facts, viewer, GroupBy.none, [None], year, set())
    system = flows.system
    mine_tenancies = [t for t in tenancies if _owns(viewer, t)]
    mine_checkpoints = [c for c in checkpoints if _owns(viewer, owners[c.case_id])]
    values: dict[Hashable, int | None] = {}
    lower: dict[Hashable, int] = {}
    equations: list[Equation] = []

    def cohorts(items: list[Tenancy]) -> dict[str, int]:
        return cohort_counts(items, as_of)

    for part, items, own_items, day_of, count, own_count, measures in (
        ("c", tenancies, mine_tenancies, _moved_in, cohorts, cohorts, COHORT_COUNTS),
        (
            "s",
            checkpoints,
            mine_checkpoints,
            _recorded_on,
            signal_counts,
            _signals_known_to(viewer),
            SIGNAL_COUNTS,
        ),
    ):
        whole = _table(spans, items, day_of, count)
        own = _table(spans, own_items, day_of, own_count)
        for label, _, _ in spans:
            for measure in measures:
                values[(part, label, measure)] = whole[label][measure]
                lower[(part, label, measure)] = own[label][measure]
        for coarse, inside in parts.items():
            for measure in measures:
                equations.append(
                    [((part, m, measure), 1.0) for m in inside] + [((part, coarse, measure), -1.0)]
                )
    for label, _, last in spans:
        housed = ("c", label, "housed")
        equations.append([(housed, 1.0), (("rows", label, None, "housed"), -1.0)])
        for months in SUSTAINMENT_MONTHS:
            if add_months(last, months) <= as_of:
                equations.append([(("c", label, f"reached_{months}"), 1.0), (housed, -1.0)])
        planned = ("c", label, "transfers_planned")
        intermediate = ("rows", label, None, "housed_intermediate_lease")
        if values[planned] == system.values[intermediate]:
            equations.append([(planned, 1.0), (intermediate, -1.0)])
    return flows.system.joined(flows.hidden, values, equations, lower)


def _signals_known_to(viewer: Viewer) -> Callable[[list[Checkpoint]], dict[str, int]]:
    """`signal_counts` of the viewer's own checkpoints as far as it knows them: a care provider
    all of its clients', a corporation of its tenants' only that they were recorded and the
    landlord's signals (`CORPORATION_SIGNALS`, as its view of the tenancy shows them). Counting
    the others as its own showed it support stopped or a tenant gone (breaker)."""
    if viewer.is_care_provider:
        return signal_counts

    def known(checkpoints: list[Checkpoint]) -> dict[str, int]:
        counts = signal_counts(checkpoints)
        return {
            measure: count if measure == "checkpoints" or measure in CORPORATION_SIGNALS else 0
            for measure, count in counts.items()
        }

    return known


def _owns(viewer: Viewer, tenancy: Tenancy) -> bool:
    return viewer.owns_housing(tenancy.care_provider_id, tenancy.corporation_id)
