"""Bottleneck reasons over time, as each published agenda showed them."""

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.meetings.models import Meeting, MeetingStatus
from app.monitor.access import checked_range, log_export, viewer_of
from app.monitor.suppression import PRIMARY_MAX
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
    the part of it that is not the viewer's own cases is 1 to 4. `end` defaults to today,
    `start` to 364 days before `end`."""
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
        mine = (
            {case for case, owner in owners.items() if viewer.owns_case(uuid.UUID(owner))}
            if viewer is not None
            else set()
        )

        def shown(value: int, cases: list[str], mine: set[str] = mine) -> int | None:
            others = value - len(mine.intersection(cases))
            return None if viewer is not None and 0 < others <= PRIMARY_MAX else value

        bottlenecks = document.get("bottlenecks") or {"blocked_cases": [], "by_reason": []}
        blocked = [str(b["case_id"]) for b in bottlenecks["blocked_cases"]]
        items.append(
            {
                "meeting_id": meeting.id,
                "date": meeting.date,
                "ready_cases": shown(
                    document.get("summary", {}).get("ready_cases", 0), list(owners)
                ),
                "blocked_cases": shown(len(blocked), blocked),
                "blocked_only_by": {
                    r["code"]: shown(r["cases_blocked_only_by"], [str(c) for c in r["case_ids"]])
                    for r in bottlenecks["by_reason"]
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
