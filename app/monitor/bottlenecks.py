"""Bottleneck reasons over time, as each published agenda showed them."""

from datetime import date
from typing import Any

from sqlmodel import Session, select

from app.access_log.service import AccessContext
from app.meetings.models import Meeting
from app.monitor.access import can_see_cases, check_range, log_export
from app.tables.models import OutflowTable


def bottleneck_history(
    session: Session, context: AccessContext, table: OutflowTable, *, start: date, end: date
) -> dict[str, Any]:
    """Per published meeting in the range: cases blocked, and per reason the cases it alone
    blocks (from the frozen agendas, so the figures are what the table saw)."""
    whole = can_see_cases(context, table)
    check_range(start, end)
    meetings = session.exec(
        select(Meeting)
        .where(
            Meeting.table_id == table.id,
            Meeting.status == "published",
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
    log_export(session, context, table)
    return {
        "table_id": table.id,
        "start": start,
        "end": end,
        "suppression": not whole,
        "meetings": items,
    }
