"""Bottleneck reasons over time, as each published agenda showed them."""

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.meetings.models import Meeting, MeetingStatus
from app.monitor.access import checked_range, log_export, viewer_of
from app.problems import Forbidden
from app.tables.models import OutflowTable


def refuse_viewers(context: AccessContext, table: OutflowTable) -> None:
    """Forbidden for a care provider or corporation (and the operator): see
    `bottleneck_history`. The route asks it as a dependency, before its query is judged."""
    if viewer_of(context, table) is not None:
        raise Forbidden(
            "The bottleneck history counts the whole table's cases meeting by meeting; it is "
            "for the chair and municipalities. The flows give the table's figures protected."
        )


def bottleneck_history(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """Per published meeting in the range: cases ready, cases blocked, and per reason the cases
    it alone blocks (from the frozen agendas, so the figures are what the table saw): the
    `MonitorBottlenecks` shape. `end` defaults to today, `start` to 364 days before `end`.

    Raises Forbidden for a care provider or corporation (and the operator): the counts are the
    whole table's, meeting by meeting. Protected one meeting at a time they still gave the
    difference between two meetings (10 other providers' ready cases, then 12: 2 became ready
    in between), which the monitor's year tables hide; a table's counts change by a few cases a
    week, so protecting them across meetings would leave little to show. Those viewers read the
    table's counts from the flows, protected across every answer (`app.monitor.years`)."""
    refuse_viewers(context, table)
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
        document = (meeting.snapshot or {}).get("document", {})
        bottlenecks = document.get("bottlenecks") or {"blocked_cases": [], "by_reason": []}
        items.append(
            {
                "meeting_id": meeting.id,
                "date": meeting.date,
                "ready_cases": document.get("summary", {}).get("ready_cases", 0),
                "blocked_cases": len(bottlenecks["blocked_cases"]),
                "blocked_only_by": {
                    r["code"]: r["cases_blocked_only_by"] for r in bottlenecks["by_reason"]
                },
            }
        )
    log_export(session, context, table)
    return {"table_id": table.id, "start": start, "end": end, "meetings": items}
