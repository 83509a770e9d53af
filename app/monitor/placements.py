"""Placements per neighbourhood: is the table concentrating people in a few neighbourhoods?"""

from collections import Counter
from collections.abc import Hashable
from datetime import date
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.monitor.access import check_range, log_export, viewer_of
from app.monitor.facts import load_facts
from app.monitor.suppression import suppress
from app.tables.models import OutflowTable


def placements(
    session: Session, context: AccessContext, table: OutflowTable, *, start: date, end: date
) -> dict[str, Any]:
    """Housings per neighbourhood in the range (the `MonitorPlacements` shape), suppressed for
    viewers who may not see the cases (knowing their own housings in each neighbourhood).

    Only neighbourhoods with a housing have a row, so for those viewers a hidden row is left
    out rather than shown as null: its listing alone says someone was placed there, and with the
    total shown, hidden rows of at least 1 each could be pinned (6 hidden rows summing to 6 are
    6 ones). Errors: 403 for the operator, 400 for a bad range."""
    viewer = viewer_of(context, table)
    whole = viewer is None
    check_range(start, end)
    housings = [h for h in load_facts(session, table.id).housings if start <= h.housed_on <= end]
    counts = Counter((h.neighbourhood_code, h.municipality_code) for h in housings)
    rows: list[dict[str, Any]] = [
        {"neighbourhood_code": code, "municipality_code": gm, "placements": n}
        for (code, gm), n in sorted(counts.items())
    ]
    total = sum(counts.values())
    hidden: set[Hashable] = set()
    if viewer is not None:
        values: dict[tuple[str, ...], Any] = {
            ("n", r["neighbourhood_code"]): r["placements"] for r in rows
        }
        values[("total",)] = total
        equation = [(("n", r["neighbourhood_code"]), 1.0) for r in rows] + [(("total",), -1.0)]
        own = Counter(
            h.neighbourhood_code
            for h in housings
            if viewer.owns_housing(h.care_provider_id, h.corporation_id)
        )
        lower: dict[tuple[str, ...], int] = {("n", code): n for code, n in own.items()}
        lower[("total",)] = sum(own.values())
        hidden = suppress(values, [equation], lower=lower)
    document = {
        "table_id": table.id,
        "start": start,
        "end": end,
        "suppression": not whole,
        "rows": [r for r in rows if ("n", r["neighbourhood_code"]) not in hidden],
        "total": None if ("total",) in hidden else total,
    }
    log_export(session, context, table)
    return document
