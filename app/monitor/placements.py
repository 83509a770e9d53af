"""Placements per neighbourhood: is the table concentrating people in a few neighbourhoods?"""

from collections import Counter
from collections.abc import Hashable
from datetime import date
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.database import outside_transaction
from app.monitor.access import Viewer, log_export, viewer_of, viewer_range
from app.monitor.facts import Facts, Housing, listed_groups, load_facts
from app.monitor.models import GroupBy
from app.monitor.suppression import Equation, suppress
from app.monitor.years import check_cells, group_keys, protected_year
from app.problems import Unprocessable
from app.tables.models import OutflowTable


def placements(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """Housings per neighbourhood in the range (the `MonitorPlacements` shape); `end` defaults
    to today, `start` to 364 days before `end`.

    Viewers who may not see the cases read one calendar year, as for the flows (`start`
    defaults to its 1 January, the range widens to it, a range over two years is a 400), and
    get the rows suppressed, knowing their own housings in each neighbourhood. The total and
    each municipality's sum of its neighbourhoods are the housed counts of the year's flows
    tables (`app.monitor.years`, ungrouped and by municipality): they are shown or hidden as
    those tables decided, and the neighbourhoods are protected with them.

    Only neighbourhoods with a housing have a row, so for those viewers a hidden row is left
    out rather than shown as null: its listing alone says someone was placed there, and with the
    total shown, hidden rows of at least 1 each could be pinned (6 hidden rows summing to 6 are
    6 ones). Errors: 403 for the operator, 400 for a bad range."""
    viewer = viewer_of(context, table)
    start, end = viewer_range(viewer, start, end)
    facts = load_facts(session, table.id)
    housings = [h for h in facts.housings if start <= h.housed_on <= end]
    counts = Counter((h.neighbourhood_code, h.municipality_code) for h in housings)
    rows: list[dict[str, Any]] = [
        {"neighbourhood_code": code, "municipality_code": gm, "placements": n}
        for (code, gm), n in sorted(counts.items())
    ]
    total = sum(counts.values())
    hidden: set[Hashable] = set()
    if viewer is not None:
        listed = listed_groups(session, table.id, GroupBy.municipality)
        with outside_transaction(session):
            hidden = _protected(facts, viewer, start.year, housings, rows, total, listed)
    document = {
        "table_id": table.id,
        "start": start,
        "end": end,
        "suppression": viewer is not None,
        "rows": [r for r in rows if ("n", r["neighbourhood_code"]) not in hidden],
        "total": None if ("total",) in hidden else total,
    }
    log_export(session, context, table)
    return document


def _protected(
    facts: Facts,
    viewer: Viewer,
    year: int,
    housings: list[Housing],
    rows: list[dict[str, Any]],
    total: int,
    listed: set[str],
) -> set[Hashable]:
    """The cells to hide: the neighbourhoods with the total and the municipalities' sums as the
    year's flows tables decided them."""
    values: dict[Hashable, int | None] = {
        ("n", r["neighbourhood_code"]): r["placements"] for r in rows
    }
    values[("total",)] = total
    here = sorted({r["municipality_code"] for r in rows})
    for gm in here:
        values[("gm", gm)] = sum(r["placements"] for r in rows if r["municipality_code"] == gm)
    equations: list[Equation] = [
        [(("n", r["neighbourhood_code"]), 1.0) for r in rows] + [(("total",), -1.0)]
    ]
    for gm in here:
        equations.append(
            [(("n", r["neighbourhood_code"]), 1.0) for r in rows if r["municipality_code"] == gm]
            + [(("gm", gm), -1.0)]
        )
    mine = [h for h in housings if viewer.owns_housing(h.care_provider_id, h.corporation_id)]
    lower: dict[Hashable, int] = {("total",): len(mine)}
    lower |= {("n", code): n for code, n in Counter(h.neighbourhood_code for h in mine).items()}
    lower |= {("gm", gm): n for gm, n in Counter(h.municipality_code for h in mine).items()}
    # As the flows show them: the year's housed, ungrouped and per municipality (the same keys
    # as the flows by municipality, so the same tables).
    keys = group_keys(GroupBy.municipality, facts, listed)
    ungrouped = protected_year(facts, viewer, GroupBy.none, [None], year, set())
    fixed_hidden: set[Hashable] = set()
    if ("rows", str(year), None, "housed") in ungrouped.hidden:
        fixed_hidden.add(("total",))
    sums: set[Hashable] = set()
    try:
        check_cells(keys)
    except Unprocessable:
        # The flows refuse this viewer that grouping (`too_fine_for_suppression`), so no
        # answer shows a municipality's sum: those cells stay unknowns the protection decides.
        pass
    else:
        by_municipality = protected_year(facts, viewer, GroupBy.municipality, keys, year, set())
        for gm in here:
            sums.add(("gm", gm))
            if ("rows", str(year), gm, "housed") in by_municipality.hidden:
                fixed_hidden.add(("gm", gm))
    known = frozenset({("total",), *sums}) - fixed_hidden
    return suppress(
        values, equations, known=known, lower=lower, fixed_hidden=frozenset(fixed_hidden)
    )
