"""Two answers a day apart together give away a cell that each hides and that did not change.

A care provider asks its monitor by month on 8 December and again on 9 December. In between
nobody did anything: another provider's case, registered earlier with ready date 9 December,
enters the figures on its ready date (`facts.load_facts` counts no case ready after today). The
year's table is protected again, and hides other cells than the day before: on 8 December the
backlog of November, December and the year (10, of which the viewer's own 6) is hidden, with
December's new ready (0) and the year's (17) shown; on 9 December December's backlog (11, now 5
of others') is shown, and the year's new ready (18). The months before December are the same on
both days, so December's new ready on the 9th is 18 - 17 = 1, and November's backlog
11 - 1 = 10: four other clients waiting at the end of November, hidden in both answers.

README ("Privacy", what is still open) says answers on different days differ by what happened
in between; this shows more: a cell that did not change follows from the two. A reader written
here, apart from the suppression, joins the two answers (the cells of the months before the day
that passed are the same variables in both) and asks a linear programme for each hidden cell's
least and greatest value.
"""

import uuid
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
import time_machine
from scipy.optimize import linprog

from app.monitor import years as monitor_years
from app.monitor.access import Viewer
from app.monitor.facts import CaseFacts, Facts, Housing
from app.monitor.models import GroupBy, Period
from app.organisations.models import OrganisationKind
from app.timeutil import AMSTERDAM
from tests.clock import TODAY
from tests.monitor.reader import CEILING, cells_of, relations

Y = TODAY.year
VIEWER, OTHER, THIRD = (uuid.UUID(int=n) for n in (1, 2, 3))
CORPORATION = uuid.UUID(int=100)
ASKED = date(Y, 12, 8)
NEXT = ASKED + timedelta(days=1)
MEASURES = (
    "new_ready",
    "housed",
    "housed_own_lease",
    "housed_intermediate_lease",
    "returned",
    "withdrawn",
    "other_exits",
    "backlog_end",
)

# (provider, ready, left, status, reason): twenty cases of three providers, as found by a random
# search; housed ones move in with CORPORATION on an own lease.
CASES = [
    (THIRD, date(Y - 1, 12, 4), date(Y - 1, 12, 5), "housed", None),
    (VIEWER, date(Y - 1, 12, 11), None, "registered", None),
    (OTHER, date(Y - 1, 12, 25), date(Y, 2, 13), "housed", None),
    (OTHER, date(Y, 1, 3), date(Y, 7, 2), "withdrawn", "returned_to_care"),
    (THIRD, date(Y, 2, 4), date(Y, 3, 2), "withdrawn", "returned_to_care"),
    (VIEWER, date(Y, 2, 9), None, "registered", None),
    (OTHER, date(Y, 2, 13), date(Y, 5, 1), "housed", None),
    (VIEWER, date(Y, 3, 8), date(Y, 5, 25), "withdrawn", "other"),
    (OTHER, date(Y, 4, 11), None, "registered", None),
    (OTHER, date(Y, 4, 15), date(Y, 7, 16), "housed", None),
    (VIEWER, date(Y, 5, 20), date(Y, 7, 5), "housed", None),
    (VIEWER, date(Y, 5, 27), None, "registered", None),
    (OTHER, date(Y, 6, 20), date(Y, 11, 1), "withdrawn", "other"),
    (VIEWER, date(Y, 7, 9), None, "registered", None),
    (OTHER, date(Y, 8, 29), date(Y, 10, 8), "housed", None),
    (VIEWER, date(Y, 10, 10), None, "registered", None),
    (OTHER, date(Y, 10, 15), None, "registered", None),
    (VIEWER, date(Y, 10, 19), None, "registered", None),
    (OTHER, date(Y, 10, 28), None, "registered", None),
    (OTHER, date(Y, 11, 24), None, "registered", None),
    (OTHER, NEXT, None, "registered", None),  # ready tomorrow: in no figure on ASKED
]


def _facts(on: date) -> Facts:
    """The facts as `load_facts` reads them on `on` (a case ready after it is left out)."""
    cases, housings = [], []
    for n, (provider, ready, left, status, reason) in enumerate(CASES):
        if ready > on:
            continue
        case_id = uuid.UUID(int=1000 + n)
        cases.append(CaseFacts(case_id, provider, ready, left, status, reason))
        if status == "housed":
            assert left is not None
            place = (CORPORATION, "GM0344", "BU03440101")
            waited = (left - ready).days
            housings.append(Housing(case_id, provider, *place, left, "own_lease", False, waited))
    return Facts(cases, housings)


def _answer(on: date) -> tuple[dict, dict, dict]:
    """The viewer's answer by month asked on `on` (as the API builds it from `years.cut`), the
    true value of every cell, and the viewer's own part of every cell."""
    viewer = Viewer(VIEWER, OrganisationKind.care_provider)
    facts = _facts(on)
    with time_machine.travel(datetime.combine(on, time(10), tzinfo=AMSTERDAM), tick=False):
        grid, hidden, _ = monitor_years.cut(
            facts, viewer, GroupBy.none, Period.month, Y, [None], set()
        )
    spans = [(r["period"], r["period_start"], r["period_end"]) for r in grid.rows]
    mine = viewer.own(facts)
    own_grid = monitor_years.grid_of(mine.cases, mine.housings, GroupBy.none, spans, [None], [])

    def shown(part: str, rows: list[dict]) -> list[dict]:
        return [
            {**r, **{m: None if (part, r["period"], None, m) in hidden else r[m] for m in MEASURES}}
            for r in rows
        ]

    document = {
        "group_by": "none",
        "rows": shown("rows", grid.rows),
        "totals": shown("totals", grid.totals),
        "waiting_days_histogram": [
            {**b, "count": None if ("hist", b["bucket"]) in hidden else b["count"]}
            for b in grid.histogram
        ],
    }
    truth, own = {}, {}
    for part, rows, own_rows in (
        ("rows", grid.rows, own_grid.rows),
        ("totals", grid.totals, own_grid.totals),
    ):
        for row, own_row in zip(rows, own_rows, strict=True):
            for m in MEASURES:
                truth[(part, row["period"], None, m)] = row[m]
                own[(part, row["period"], None, m)] = own_row[m]
    for b in grid.histogram:
        truth[("hist", b["bucket"])] = b["count"]
    first = grid.rows[0]
    start = first["backlog_end"] - first["new_ready"] + first["housed"] + first["other_exits"]
    truth[("start", None)] = start
    own_first = own_grid.rows[0]
    own[("start", None)] = (
        own_first["backlog_end"]
        - own_first["new_ready"]
        + own_first["housed"]
        + own_first["other_exits"]
    )
    return document, truth, own


def _same_on_both_days(cell: tuple) -> bool:
    """The cells no event of NEXT can change: the backlog before the year, the months before."""
    return cell[0] == "start" or (cell[0] == "rows" and cell[1] < f"{Y}-{NEXT.month:02d}")


def _worked_out(answers: list[tuple[dict, dict, dict]]) -> list[tuple]:
    """The hidden cells holding others' people whose least and greatest value, over every
    solution of the answers' relations, coincide: (day or "same", cell, value, own part)."""
    variables: dict[tuple, int] = {}

    def var(day: int, cell: tuple) -> int:
        key = ("same", cell) if _same_on_both_days(cell) else (day, cell)
        return variables.setdefault(key, len(variables))

    rows, low, high = [], {}, {}
    for day, (document, _, own) in enumerate(answers):
        order, shown = cells_of(document)
        for cell in order:
            k = var(day, cell)
            if shown[cell] is not None:
                low[k] = high[k] = float(shown[cell])
            else:
                low[k] = max(low.get(k, 0.0), float(own.get(cell, 0)))
        for equation in relations(document):
            row: dict[int, float] = {}
            for cell, coefficient in equation.items():
                row[var(day, cell)] = row.get(var(day, cell), 0.0) + coefficient
            rows.append(row)
    matrix = np.zeros((len(rows), len(variables)))
    for i, row in enumerate(rows):
        for k, coefficient in row.items():
            matrix[i, k] = coefficient
    bounds = [(low.get(k, 0.0), high.get(k, CEILING)) for k in range(len(variables))]
    found = []
    for (day, cell), k in variables.items():
        _, truth, own = answers[1 if day == 1 else 0]
        if low[k] == high.get(k) or cell[0] == "start" or truth[cell] == own.get(cell, 0):
            continue  # shown, never shown, or nobody else's people in it
        cost = np.zeros(len(variables))
        cost[k] = 1.0
        least = linprog(cost, A_eq=matrix, b_eq=np.zeros(len(rows)), bounds=bounds).fun
        greatest = -linprog(-cost, A_eq=matrix, b_eq=np.zeros(len(rows)), bounds=bounds).fun
        if greatest - least < 1e-6:
            found.append((day, cell, truth[cell], own.get(cell, 0)))
    return found


def test_each_days_answer_on_its_own_gives_nothing_away():
    assert _worked_out([_answer(ASKED)]) == []
    assert _worked_out([_answer(NEXT)]) == []


@pytest.mark.xfail(
    strict=True,
    reason="found, not fixed: each day's table is protected on its own (app.monitor.years), "
    "so the cells it hides follow the day's figures; a release model with frozen periods would "
    "close it",
)
def test_two_answers_a_day_apart_give_away_no_cell_that_did_not_change():
    answers = [_answer(ASKED), _answer(NEXT)]
    # November's backlog (10, the viewer's own 6) is hidden on both days ...
    assert all(a[0]["rows"][10]["backlog_end"] is None for a in answers)
    # ... and the two together pin it, and every other cell of the months before December.
    unchanged = [found for found in _worked_out(answers) if found[0] == "same"]
    assert unchanged == [], unchanged
