"""Bottleneck reasons over time, as each published agenda showed them."""

import uuid
from collections.abc import Hashable
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.meetings.models import Meeting, MeetingStatus
from app.monitor.access import Viewer, checked_range, log_export, viewer_of
from app.monitor.suppression import Equation, suppress
from app.tables.models import OutflowTable


def bottleneck_history(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """Per published meeting in the range: cases blocked, and per reason the cases it alone
    blocks (from the frozen agendas, so the figures are what the table saw): the
    `MonitorBottlenecks` shape. For a viewer who may not see the cases a count is hidden when
    the part of it that is not the viewer's own cases is 1 to 4, and so is any count that would
    give a hidden one away (`_hidden`). `end` defaults to today, `start` to 364 days before
    `end`."""
    viewer = viewer_of(context, table)
    start, end = checked_range(start, end, days=364)
    meetings = session.exec(
        select(Meeting)
        .where(
            Meeting.table_id == table.id,
            Meeting.status == MeetingStatus.published,
            Meeting.date >= start,
            Meeting.date <= end,
        )
        .order_by(col(Meeting.date))
    ).all()

    items = []
    for meeting in meetings:
        snapshot = meeting.snapshot or {}
        document = snapshot.get("document", {})
        owners = snapshot.get("owners", {}).get("cases", {})
        bottlenecks = document.get("bottlenecks") or {"blocked_cases": [], "by_reason": []}
        cells: dict[Hashable, list[str]] = {
            ("ready_cases",): list(owners),
            ("blocked_cases",): [str(b["case_id"]) for b in bottlenecks["blocked_cases"]],
        }
        counts: dict[Hashable, int] = {
            ("ready_cases",): document.get("summary", {}).get("ready_cases", 0),
            ("blocked_cases",): len(cells[("blocked_cases",)]),
        }
        for r in bottlenecks["by_reason"]:
            cells[("only", r["code"])] = [str(c) for c in r["case_ids"]]
            counts[("only", r["code"])] = r["cases_blocked_only_by"]
        hidden = _hidden(viewer, owners, cells, counts) if viewer is not None else set()
        shown = {cell: None if cell in hidden else n for cell, n in counts.items()}
        items.append(
            {
                "meeting_id": meeting.id,
                "date": meeting.date,
                "ready_cases": shown[("ready_cases",)],
                "blocked_cases": shown[("blocked_cases",)],
                "blocked_only_by": {
                    r["code"]: n
                    for r in bottlenecks["by_reason"]
                    # A reason is listed where a blocked case fails it: for a viewer who may
                    # not see the cases, only with a count it may read and that is not 0.
                    if (n := shown[("only", r["code"])]) or viewer is None
                },
            }
        )
    log_export(session, context, table)
    return {
        "table_id": table.id,
        "start": start,
        "end": end,
        "suppression": viewer is not None,
        "meetings": items,
    }


def _hidden(
    viewer: Viewer,
    owners: dict[str, str],
    cells: dict[Hashable, list[str]],
    counts: dict[Hashable, int],
) -> set[Hashable]:
    """One meeting's counts to hide from `viewer`: a count whose part that is not the viewer's
    own cases is 1 to PRIMARY_MAX, and the complements `suppress` adds where the reasons'
    counts add up to the blocked cases (every blocked case blocked by one reason alone), so a
    hidden reason cannot be worked out from the others. Each meeting stands alone: its counts
    are frozen with its agenda, the same in every answer."""
    mine = {case for case, owner in owners.items() if viewer.owns_case(uuid.UUID(owner))}
    lower: dict[Hashable, int] = {
        cell: len(mine.intersection(cases)) for cell, cases in cells.items()
    }
    reasons = [cell for cell in counts if cell[0] == "only"]  # type: ignore[index]
    equations: list[Equation] = []
    if reasons and sum(counts[c] for c in reasons) == counts[("blocked_cases",)]:
        equations.append([*((c, 1.0) for c in reasons), (("blocked_cases",), -1.0)])
    values: dict[Hashable, int | None] = dict(counts)
    return suppress(values, equations, lower=lower)
