"""The figures' grids, and the calendar-year tables a restricted viewer's figures are cut from.

An organisation that gets suppressed figures could otherwise combine answers: two ranges one day
apart give that day's figures, and an answer by month, one by quarter and one by year of the same
months link cells that each answer protected on its own. So for such a viewer every answer is
cut from one protected table per calendar year and grouping (`protected_year`): its months,
quarters and the year together, with every relation between them. Answers for any range, any
period and any date then show slices of the same tables, and a cell is hidden or shown the same
way in each. The tables of different groupings share the total row and the histogram: those are
decided once, in the table without groups, and every grouped table takes that decision as given.
Consecutive years share the backlog at the turn of the year: each year's table takes the last
year's decision on it as given (so the tables are protected in order). The chain starts at the
first year with a ready case, but at most CHAIN_YEARS before this one (a ready date typed as
1926 would otherwise make a century of tables to protect); from there back, a turn of the year
is shown exactly when its rest is not 1 to 4, in the tables on both sides. Each table is
remembered by its whole input (`_remembered_year`): later answers from it take milliseconds
while the table's cases and housings stay the same.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from app.cases.models import CaseStatus
from app.monitor import waiting
from app.monitor.access import Viewer
from app.monitor.facts import CaseFacts, Facts, Housing, facts_digest
from app.monitor.flow_equations import Grid, System, year_system
from app.monitor.memory import Memory, digest
from app.monitor.models import FLOW_MEASURES, GroupBy, Period
from app.monitor.periods import calendar_year, periods
from app.monitor.suppression import PRIMARY_MAX
from app.problems import Unprocessable
from app.timeutil import today

YEAR_PERIODS = 17  # 12 months, 4 quarters and the year
CHAIN_YEARS = 5  # a year's table stands on at most this many years before this one
MAX_RESTRICTED_CELLS = YEAR_PERIODS * 17  # a year table's period x group cells: 16 groups, total


def check_cells(keys: list[str | None]) -> None:
    """A year's table of more than MAX_RESTRICTED_CELLS period x group cells would take minutes
    of CPU to protect: 400 `too_fine_for_suppression` on `groupBy`."""
    if YEAR_PERIODS * len(keys) > MAX_RESTRICTED_CELLS:
        raise Unprocessable(
            "groupBy",
            "too many groups to protect for this viewer; choose another grouping",
            "too_fine_for_suppression",
            "query",
        )


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


def group_of_case(grouping: GroupBy, case: CaseFacts) -> str | None:
    return str(case.care_provider_id) if grouping == GroupBy.care_provider else None


def group_of_housing(grouping: GroupBy, housing: Housing) -> str | None:
    if grouping == GroupBy.care_provider:
        return str(housing.care_provider_id)
    if grouping == GroupBy.corporation:
        return str(housing.corporation_id)
    if grouping == GroupBy.municipality:
        return housing.municipality_code
    return None


def group_keys(grouping: GroupBy, facts: Facts, listed: set[str]) -> list[str | None]:
    """The groups of a grouping in their order, then None (the total); `[None]` ungrouped.
    `listed` (`facts.listed_groups`: the table's members of the kind, or its municipalities)
    are there whether or not anyone was counted in them, so the rows, and with them the cells
    a restricted viewer finds hidden, do not change when someone is first counted in one. A
    group left since (a corporation that left the table, a municipality no longer covered) is
    listed when its cases or housings are counted."""
    if grouping == GroupBy.none:
        return [None]
    groups = set(listed)
    groups |= {g for c in facts.cases if (g := group_of_case(grouping, c)) is not None}
    groups |= {g for h in facts.housings if (g := group_of_housing(grouping, h)) is not None}
    return [*sorted(groups), None]


def grid_of(
    cases: list[CaseFacts],
    housings: list[Housing],
    grouping: GroupBy,
    spans: list[tuple[str, date, date]],
    keys: list[str | None],
    waits: list[int],
) -> Grid:
    case_groups = grouping in (GroupBy.none, GroupBy.care_provider)
    # One pass over the facts per grid (a big table has tens of thousands of cases, and a
    # restricted answer builds grids for several years): group None is all of them.
    grouped_cases: dict[str | None, list[CaseFacts]] = {g: [] for g in keys if g is not None}
    grouped_housings: dict[str | None, list[Housing]] = {g: [] for g in keys if g is not None}
    for c in cases:
        if (key := group_of_case(grouping, c)) in grouped_cases:
            grouped_cases[key].append(c)
    for h in housings:
        if (key := group_of_housing(grouping, h)) in grouped_housings:
            grouped_housings[key].append(h)
    if None in keys:
        grouped_cases[None], grouped_housings[None] = cases, housings
    indexes = {g: GroupIndex.of(grouped_cases[g], grouped_housings[g]) for g in keys}
    rows = [
        measures(label, first, last, group, indexes[group], case_groups)
        for label, first, last in spans
        for group in keys
    ]
    # Over the whole range: flows are sums, the stock is the backlog at the range's end.
    start, end = spans[0][1], spans[-1][2]
    totals = [measures("total", start, end, g, indexes[g], case_groups) for g in keys]
    return Grid(rows, totals, waiting.histogram(waits))


@dataclass(frozen=True, slots=True)
class YearTable:
    """One calendar year's figures for one grouping, as a restricted viewer may see them: the
    grid of every month, quarter and the year (group None the total), the viewer's own part of
    it, the cells to hide, and the protection problem they solve (for tables that share
    cells with this one: `app.monitor.sustainment`)."""

    grid: Grid
    own: Grid
    hidden: frozenset[Hashable]
    system: System


def _year_grids(
    facts: Facts, mine: Facts, viewer: Viewer, grouping: GroupBy, keys: list[str | None], year: int
) -> tuple[Grid, Grid, list[dict[str, Any]], dict[str, list[str]]]:
    spans, parts = calendar_year(year)
    in_year = [h for h in facts.housings if h.housed_on.year == year]
    grid = grid_of(
        facts.cases, facts.housings, grouping, spans, keys, [h.waiting_days for h in in_year]
    )
    own = grid_of(
        mine.cases,
        mine.housings,
        grouping,
        spans,
        keys,
        [h.waiting_days for h in in_year if viewer.knows_waiting(h.care_provider_id)],
    )
    owned = waiting.histogram(
        [
            h.waiting_days
            for h in in_year
            if viewer.owns_housing(h.care_provider_id, h.corporation_id)
        ]
    )
    return grid, own, owned, parts


def _turns(
    facts: Facts, mine: Facts, grouping: GroupBy, keys: list[str | None], year: int, end: bool
) -> tuple[frozenset[Hashable], frozenset[Hashable]]:
    """The backlog before 1 January (and, with `end`, at 31 December) per group, shown exactly
    when its rest is not 1 to PRIMARY_MAX: the decision a table standing alone makes for the
    turns of the year, so that the tables on either side of a turn agree on it."""
    shown: set[Hashable] = set()
    hidden: set[Hashable] = set()
    turns: list[tuple[date, list[tuple[Any, ...]]]] = [(date(year - 1, 12, 31), [("start",)])]
    if end:
        last = [("rows", f"{year}-12"), ("rows", f"{year}-Q4"), ("rows", f"{year}")]
        turns.append((date(year, 12, 31), last))
    for eve, prefixes in turns:
        for group in keys:
            rest = _backlog(facts.cases, grouping, group, eve) - _backlog(
                mine.cases, grouping, group, eve
            )
            cells = [
                (*p, group) if p[0] == "start" else (*p, group, "backlog_end") for p in prefixes
            ]
            (hidden if 0 < rest <= PRIMARY_MAX else shown).update(cells)
    return frozenset(shown), frozenset(hidden)


def _backlog(cases: list[CaseFacts], grouping: GroupBy, group: str | None, on: date) -> int:
    return sum(
        c.ready_since <= on
        and (c.exit_date is None or c.exit_date > on)
        and (group is None or group_of_case(grouping, c) == group)
        for c in cases
    )


def protected_year(
    facts: Facts,
    viewer: Viewer,
    grouping: GroupBy,
    keys: list[str | None],
    year: int,
    own_groups: set[str],
) -> YearTable:
    """The calendar year's table for `viewer` (see the module docstring). Raises nothing; costs
    seconds of CPU on a fine grid the first time, then milliseconds while its input stays the
    same (`_remembered_year`)."""
    asked = _Asked(
        facts_digest(facts), viewer, grouping, tuple(keys), year, tuple(sorted(own_groups)), today()
    )
    return _remembered_year(facts, asked)


@dataclass(frozen=True, slots=True)
class _Asked:
    """What a year's table is computed from besides the facts themselves: their digest
    (`facts_digest`), the viewer, the grouping and its keys, the year, the viewer's own groups
    (sorted) and the day (`on`, which sets the chain's anchor)."""

    facts_key: str
    viewer: Viewer
    grouping: GroupBy
    keys: tuple[str | None, ...]
    year: int
    own_groups: tuple[str, ...]
    on: date

    def digest(self) -> str:
        viewer = (self.viewer.organisation_id.int, str(self.viewer.kind))
        asked = (str(self.grouping), self.keys, self.year, self.own_groups, self.on.toordinal())
        return digest((self.facts_key, viewer, asked))


# The year tables answered lately (`_remembered_year`); one of 7 groups with its equations takes
# about 0.6 MB.
_TABLES: Memory[YearTable] = Memory(64)


def _remembered_year(facts: Facts, asked: _Asked) -> YearTable:
    """`_protect_year`, remembered by everything it reads: the facts (by their digest) and the
    rest of what was `asked`. The table is a pure function of them, so a remembered one is the
    one a fresh computation gives, in any process, and a change in the table's cases or
    housings asks for a new one. Every request of a restricted viewer would otherwise build the
    grids and equations of up to CHAIN_YEARS + 1 years again before the protection's own memory
    (`flow_equations.suppress_remembered`) could answer.

    The table returned is shared with later requests: callers read it and never change it."""
    return _TABLES.answer(asked.digest(), lambda: _protect_year(facts, asked))


def _protect_year(facts: Facts, asked: _Asked) -> YearTable:
    """`protected_year` as `asked`; the tables it stands on are `_remembered_year`s."""
    viewer, grouping, keys, year = asked.viewer, asked.grouping, list(asked.keys), asked.year
    own_groups = set(asked.own_groups)
    mine = viewer.own(facts)
    case_groups = grouping in (GroupBy.none, GroupBy.care_provider)
    shown: frozenset[Hashable] = frozenset()
    hidden: frozenset[Hashable] = frozenset()
    anchor = max(
        min((c.ready_since.year for c in facts.cases), default=year),
        asked.on.year - CHAIN_YEARS,
    )
    if case_groups and year > anchor:
        # The backlog before the year is the last year's at 31 December: as that table shows it.
        before = _remembered_year(facts, replace(asked, year=year - 1))
        turn = {("start", g): ("rows", f"{year - 1}-12", g, "backlog_end") for g in keys}
        hidden = frozenset(start for start, end in turn.items() if end in before.hidden)
        shown = frozenset(turn) - hidden
    elif case_groups:
        # From the anchor back, both turns of the year follow the primary rule alone, the same
        # in the tables on either side of them.
        shown, hidden = _turns(facts, mine, grouping, keys, year, year < anchor)
    if grouping != GroupBy.none:
        ungrouped = replace(asked, grouping=GroupBy.none, keys=(None,), own_groups=())
        total = _remembered_year(facts, ungrouped)
        total_cells = {
            cell
            for row in total.grid.rows
            for measure in (*FLOW_MEASURES, "backlog_end")
            if (cell := ("rows", row["period"], None, measure)) and row[measure] is not None
        } | {("hist", b["bucket"]) for b in total.grid.histogram}
        hidden |= total.hidden & total_cells
        shown |= total_cells - total.hidden
    grid, own, owned, parts = _year_grids(facts, mine, viewer, grouping, keys, year)
    system = year_system(
        grid, own, parts, keys, case_groups, own_groups, owned, shown=shown, hidden=hidden
    )
    return YearTable(grid, own, system.protect(), system)


def cut(
    facts: Facts,
    viewer: Viewer,
    grouping: GroupBy,
    kind: Period,
    year: int,
    keys: list[str | None],
    own_groups: set[str],
) -> tuple[Grid, set[Hashable], dict[tuple[Any, ...], int]]:
    """A restricted viewer's answer for the calendar `year` by `kind` of period: its rows, its
    totals (the year's row) and histogram (a `Grid`), the cells to hide in the answer's terms
    (`(part, period, group, measure)`, `("hist", bucket)`), and per row the housings whose
    waiting days the viewer knows (`(part, period, group)` -> count, a care provider's own)."""
    table = protected_year(facts, viewer, grouping, keys, year, own_groups)
    labels = {label for label, _, _ in periods(date(year, 1, 1), date(year, 12, 31), kind)}
    rows = [r for r in table.grid.rows if r["period"] in labels]
    totals = [{**r, "period": "total"} for r in table.grid.rows if r["period"] == str(year)]
    hidden: set[Hashable] = set()
    for cell in (c for c in table.hidden if isinstance(c, tuple)):  # cell ids are tuples
        if cell[0] == "hist" or (cell[0] == "rows" and cell[1] in labels):
            hidden.add(cell)
        if cell[0] == "rows" and cell[1] == str(year):
            hidden.add(("totals", "total", *cell[2:]))
    own_housed = {(r["period"], r["group"]): r["housed"] for r in table.own.rows}
    known_waits = {("rows", p, g): n for (p, g), n in own_housed.items() if p in labels}
    known_waits |= {("totals", "total", g): n for (p, g), n in own_housed.items() if p == str(year)}
    return Grid(rows, totals, table.grid.histogram), hidden, known_waits
