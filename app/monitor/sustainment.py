"""After the move: tenancy sustainment by cohort of move-in, lease transfers realised against
planned, and the signals the follow-up checkpoints raised per period (the README's section
"Figures after the move" defines each). Suppressed for viewers who may not see the cases, as
the other figures: a cell holding 1-4 housings or checkpoints other than the viewer's own is
hidden, and so is any cell that would give it away through the totals."""

from collections.abc import Callable, Hashable
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.aftercare.models import Checkpoint, Tenancy, TenancyEndReason
from app.matching.ages import add_months
from app.monitor.access import Viewer, checked_range, log_export, viewer_of
from app.monitor.models import SIGNAL_CODES, SUSTAINMENT_MONTHS, Period
from app.monitor.periods import periods
from app.monitor.suppression import suppress
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


def _suppressed(
    rows: dict[str, dict[str, int]],
    own_rows: dict[str, dict[str, int]],
    measures: tuple[str, ...],
) -> set[Hashable]:
    """Hidden (measure, row) cells; each measure's rows add up to its `total` row."""
    values: dict[Any, int | None] = {}
    lower: dict[Any, int] = {}
    equations = []
    for measure in measures:
        for label, counts in rows.items():
            values[(measure, label)] = counts[measure]
            lower[(measure, label)] = own_rows[label][measure]
        parts = [((measure, label), 1.0) for label in rows if label != "total"]
        equations.append([*parts, ((measure, "total"), -1.0)])
    return suppress(values, equations, lower=lower)


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
) -> dict[str, Any]:
    """The `MonitorSustainment` document: cohorts of move-ins in [start, end] and checkpoints
    recorded in it, counted on today (`end` defaults to today, `start` to three years before
    `end`). Errors: 403 for the operator, 400 for a bad range."""
    viewer = viewer_of(context, table)
    start, end = checked_range(start, end, days=3 * 365)
    as_of = today()
    labels = periods(start, end, period)
    tenancies = list(
        session.exec(
            select(Tenancy).where(
                Tenancy.table_id == table.id,
                col(Tenancy.moved_in) >= start,
                col(Tenancy.moved_in) <= end,
            )
        )
    )
    checkpoints = list(
        session.exec(
            select(Checkpoint).where(
                Checkpoint.table_id == table.id,
                col(Checkpoint.recorded_on) >= start,
                col(Checkpoint.recorded_on) <= end,
            )
        )
    )
    cohorts = _table(labels, tenancies, lambda t: t.moved_in, lambda ts: cohort_counts(ts, as_of))
    signals = _table(labels, checkpoints, lambda c: c.recorded_on, signal_counts)
    hidden_cohorts: set[Hashable] = set()
    hidden_signals: set[Hashable] = set()
    if viewer is not None:
        owners = {
            t.case_id: t for t in session.exec(select(Tenancy).where(Tenancy.table_id == table.id))
        }

        def mine(t: Tenancy) -> bool:
            return _owns(viewer, t)

        own_tenancies = [t for t in tenancies if mine(t)]
        own_checkpoints = [c for c in checkpoints if mine(owners[c.case_id])]
        own_cohorts = _table(
            labels, own_tenancies, lambda t: t.moved_in, lambda ts: cohort_counts(ts, as_of)
        )
        own_signals = _table(labels, own_checkpoints, lambda c: c.recorded_on, signal_counts)
        hidden_cohorts = _suppressed(cohorts, own_cohorts, COHORT_COUNTS)
        hidden_signals = _suppressed(signals, own_signals, SIGNAL_COUNTS)
    cohort_rows, cohort_total = _shown(cohorts, labels, start, end, hidden_cohorts, "cohort")
    signal_rows, signal_total = _shown(signals, labels, start, end, hidden_signals, "period")
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


def _owns(viewer: Viewer, tenancy: Tenancy) -> bool:
    return viewer.owns_housing(tenancy.care_provider_id, tenancy.corporation_id)
