"""Where each case and dwelling of a table stands on its next meeting date.

The matching engine's own evaluation of the agenda's inputs (`app.agenda.service.load` and
`engine_arguments`: the same rules, figures, declines and spread usage the agenda uses), without
the solver: a case in the agenda either has feasible dwellings (its best candidates, by score)
or is blocked (every rule that excludes a dwelling, with the number of dwellings it excludes,
and the reasons that alone would open one). A case or dwelling outside the agenda has the
why-not status reasons (`case_status_reasons`, `vacancy_status_reasons`) instead.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import ScalarSelect, func
from sqlmodel import Session, col, select

from app import matching
from app.agenda import inputs as agenda_inputs
from app.agenda import why_not as agenda_why_not
from app.agenda.views import excluded_reasons
from app.meetings.models import Meeting
from app.tables.models import OutflowTable
from app.timeutil import today

TOP_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Standing:
    """One case's (or dwelling's) position on `on`.

    `in_agenda`: it takes part in the agenda of that date. `feasible_count`: partners that pass
    every rule (None outside the agenda). `excluded_counts`: reason code -> number of partners
    it excludes; `excluded_reasons`: those codes, most-excluding first (ties by code), all that
    a viewer other than the table is shown (`without_counts`). `unblocked_by`: reasons that
    alone would open a partner (blocked ones only). `candidates`: the best partners as (id,
    score), best first. `status_reasons`: why-not status codes with their figures (outside the
    agenda only).
    """

    in_agenda: bool
    feasible_count: int | None = None
    excluded_counts: dict[str, int] = field(default_factory=dict)
    excluded_reasons: list[str] = field(default_factory=list)
    unblocked_by: list[str] = field(default_factory=list)
    candidates: list[tuple[str, float]] = field(default_factory=list)
    status_reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return not self.in_agenda or self.feasible_count == 0

    def reason_codes(self) -> set[str]:
        """The blocking reasons: status codes outside the agenda, the excluding rules of a
        blocked case or dwelling inside it, none for one that has a feasible partner."""
        if not self.in_agenda:
            return {r["code"] for r in self.status_reasons}
        return set(self.excluded_reasons) if self.feasible_count == 0 else set()

    def without_counts(self) -> "Standing":
        """The standing as a care provider or corporation may read it: the excluding reasons
        without the partners each excludes. A rule of the client alone excludes every
        dwelling, one of the dwelling alone every ready case, so the counts gave the dwellings
        or cases taking part, the totals the agenda's restricted summary hides."""
        return replace(self, excluded_counts={})


@dataclass(frozen=True, slots=True)
class TableStanding:
    table_id: uuid.UUID
    on: date
    cases: dict[str, Standing]
    dwellings: dict[str, Standing]
    limits_year: int


def first_meeting_from_today(table_id: Any, on: Any = None) -> ScalarSelect[date | None]:
    """The table's first meeting date on or after today (NULL when none), as a scalar
    subquery of `table_id` (a value or a column, e.g. `OutflowTable.id` to read it with the
    table's own row); `next_meeting_date` with NULL meaning today. `on`: today as a value or a
    bound parameter (a statement built once takes it per execution), else `today()`."""
    return (
        select(func.min(col(Meeting.date)))
        .where(Meeting.table_id == table_id, col(Meeting.date) >= (today() if on is None else on))
        .scalar_subquery()
    )


def next_meeting_date(session: Session, table_id: uuid.UUID) -> date:
    """The table's first meeting on or after today, else today."""
    first = session.exec(select(first_meeting_from_today(table_id))).one()
    return first or today()


def table_standing(
    session: Session,
    table: OutflowTable,
    on: date,
    top: int = TOP_CANDIDATES,
    *,
    only_cases: Collection[str] | None = None,
    only_dwellings: Collection[str] | None = None,
) -> TableStanding:
    """Every open case's and dwelling's standing on `on` (the agenda's inputs, evaluated by the
    engine). Raises Unprocessable (`no_limits_for_year`) as the agenda does.

    `only_cases` / `only_dwellings` (ids): evaluate only these rows / columns, against all
    partners, for a page that shows a few of them. A case's standing depends on the case and
    every dwelling (rules, scores, spread usage and declines are per pair), not on the other
    cases, so it is the same as in the whole table's evaluation; likewise a dwelling's. The
    standings of rows left out are absent (None: all)."""
    from app.proposals.service import spread_usage

    inputs = agenda_inputs.load_inputs(session, table, on)
    if only_cases is not None:
        wanted = set(only_cases)
        inputs = replace(inputs, cases=[r for r in inputs.cases if str(r.id) in wanted])
    if only_dwellings is not None:
        wanted = set(only_dwellings)
        inputs = replace(inputs, vacancies=[r for r in inputs.vacancies if str(r.id) in wanted])
    usage = spread_usage(session, table.id, on, inputs.policy.spread_window_months)
    arguments = agenda_inputs.engine_arguments(inputs, usage)
    cases, dwellings, policy, limits, day, usage = arguments
    evaluation = matching.evaluate(cases, dwellings, policy, limits, day, usage, inputs.declines)
    bottlenecks = matching.find_bottlenecks(evaluation)
    blocked = {b.case_id: b for b in bottlenecks.blocked_cases}
    idle = {d.dwelling_id: d for d in bottlenecks.dwellings_without_candidates}
    # The feasible pairs are sparse, in case order; per dwelling, the same pairs re-sorted.
    pair_case, pair_dwelling = evaluation.pair_case, evaluation.pair_dwelling
    units = evaluation.pair_units
    by_dwelling = np.argsort(pair_dwelling, kind="stable")
    case_bounds = np.searchsorted(pair_case, np.arange(len(evaluation.case_ids) + 1)).tolist()
    dwelling_bounds = np.searchsorted(
        pair_dwelling[by_dwelling], np.arange(len(evaluation.dwelling_ids) + 1)
    ).tolist()
    case_standing: dict[str, Standing] = {}
    for i, case_id in enumerate(evaluation.case_ids):
        pairs = range(case_bounds[i], case_bounds[i + 1])
        ranked = sorted(
            pairs, key=lambda k: (-int(units[k]), evaluation.dwelling_ids[pair_dwelling[k]])
        )
        b = blocked.get(case_id)
        case_standing[case_id] = Standing(
            in_agenda=True,
            feasible_count=len(pairs),
            excluded_counts=(counts := _counts(evaluation, i, None)),
            excluded_reasons=excluded_reasons(counts),
            unblocked_by=list(b.unblocked_by) if b else [],
            candidates=[
                (
                    evaluation.dwelling_ids[pair_dwelling[k]],
                    matching.output_score(int(units[k])) or 0.0,
                )
                for k in ranked[:top]
            ],
        )
    dwelling_standing: dict[str, Standing] = {}
    for j, dwelling_id in enumerate(evaluation.dwelling_ids):
        pairs = by_dwelling[dwelling_bounds[j] : dwelling_bounds[j + 1]].tolist()
        ranked = sorted(pairs, key=lambda k: (-int(units[k]), evaluation.case_ids[pair_case[k]]))
        d = idle.get(dwelling_id)
        dwelling_standing[dwelling_id] = Standing(
            in_agenda=True,
            feasible_count=len(pairs),
            excluded_counts=(counts := _counts(evaluation, None, j)),
            excluded_reasons=excluded_reasons(counts),
            unblocked_by=list(d.unblocked_by) if d else [],
            candidates=[
                (evaluation.case_ids[pair_case[k]], matching.output_score(int(units[k])) or 0.0)
                for k in ranked[:top]
            ],
        )
    return TableStanding(table.id, on, case_standing, dwelling_standing, inputs.limits.year)


def _counts(evaluation: matching.Evaluation, i: int | None, j: int | None) -> dict[str, int]:
    """Reason code -> partners it excludes, for a case (row i) or a dwelling (column j)."""
    counts = (
        evaluation.case_reason_counts[i] if i is not None else evaluation.dwelling_reason_counts[j]
    )
    return {
        code: int(n) for code, n in zip(matching.REASON_CODES, counts.tolist(), strict=True) if n
    }


def case_standing(
    session: Session, standing: TableStanding, case: Any, visible_case: Any
) -> Standing:
    """The standing of one case row: from the evaluation if it is in the agenda, else its
    why-not status reasons (`visible_case(case_id, provider_id)` says whose case ids a
    proposal's detail may name)."""
    found = standing.cases.get(str(case.id))
    if found is not None:
        return found
    reasons = agenda_why_not.case_status_reasons(session, case, standing.on, visible_case)
    return Standing(in_agenda=False, status_reasons=reasons)


def dwelling_standing(
    session: Session, standing: TableStanding, vacancy: Any, visible_case: Any
) -> Standing:
    found = standing.dwellings.get(str(vacancy.id))
    if found is not None:
        return found
    reasons = agenda_why_not.vacancy_status_reasons(session, vacancy, visible_case)
    return Standing(in_agenda=False, status_reasons=reasons)
