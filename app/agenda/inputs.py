"""What one agenda is computed from: a table's open cases and vacancies for a meeting date,
its policy, limits, remembered declines, spread usage and open actions, read in one short
transaction; and the engine run on them.

The only place where `app.matching` meets the database.
"""

import copy
import json
import uuid
from collections import namedtuple
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import JSON, ColumnElement, Result, Select, Text, cast, or_, select
from sqlmodel import Session

from app import matching
from app.agenda import engine_cache
from app.agenda.engine_inputs import case_profile, dwelling, engine_policy
from app.cases.models import Case, CaseStatus
from app.limits.models import YearLimits as YearLimitsRow
from app.limits.service import engine_limits, limits_for, limits_public
from app.sqltypes import table_of
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.vacancies.models import Vacancy, VacancyStatus

CASES = table_of(Case)


VACANCIES = table_of(Vacancy)

UNREAD_CASE_COLUMNS = frozenset(
    {
        *("table_id", "external_ref", "facility", "income_source", "income_net_monthly"),
        *("debts_problematic", "debts_debt_assistance", "status", "status_reason"),
        *("parked_until", "exit_date", "closed_at", "anonymised_at", "created_at", "updated_at"),
    }
)
"""Case columns no part of the agenda reads (names, the status and dates the query's conditions
already decided, timestamps): not loaded. Of a big city's 3,000 cases, converting them took a
third of the load. `version` is loaded, so `Loaded.same_as` still sees every edit."""
UNREAD_VACANCY_COLUMNS = frozenset(
    {
        *("table_id", "address_street", "address_house_number", "address_postcode"),
        *("respond_before", "status", "created_at", "updated_at"),
    }
)
"""Vacancy columns no part of the agenda reads (see UNREAD_CASE_COLUMNS)."""


@dataclass(frozen=True, slots=True)
class MatchInputs:
    """What one agenda is computed from (and, once published, what it froze); `declines` are the
    table's remembered declines."""

    table: OutflowTable
    on: date
    policy: TablePolicy
    limits: YearLimitsRow
    cases: list[Any]
    vacancies: list[Any]
    declines: list[matching.EarlierDecline]


def open_cases_query(table_id: uuid.UUID, on: date) -> Select[Any]:
    """Cases the table matches on `on`: open, not on hold, parked or in a proposal, and ready."""
    return select(CASES).where(
        CASES.c.table_id == table_id,
        CASES.c.status == CaseStatus.registered,
        CASES.c.ready_since <= on,
        or_(CASES.c.parked_until.is_(None), CASES.c.parked_until <= on),
    )


def open_vacancies_query(table_id: uuid.UUID, on: date) -> Select[Any]:
    """Dwellings on offer. `respond_before` is shown, not used to drop a dwelling silently:
    every excluded dwelling must carry a reason code, and a corporation withdraws a dwelling
    that is no longer on offer (DELETE)."""
    return select(VACANCIES).where(
        VACANCIES.c.table_id == table_id, VACANCIES.c.status == VacancyStatus.available
    )


def plain_rows(result: Result[Any], json_columns: Collection[str] = ()) -> list[Any]:
    """The rows as named tuples (same fields, values, order and comparisons). Reading a field of
    SQLAlchemy's Row by name costs microseconds here, a named tuple's is a C slot, and the engine
    inputs read two dozen fields of every case: a big city's 3,000 cases convert 2.5 to 3 times
    faster (measured in-process on a loaded machine).

    `json_columns`: fields read as their JSON text (`_read`), decoded here once per distinct
    text; each row gets its own (shallow) copy of the decoded value."""
    # The fields are known at run time only (mypy wants them literal): typed as a factory.
    named: Callable[..., Any] = namedtuple
    keys = tuple(result.keys())
    row_type = named("Row", keys)
    positions = [i for i, key in enumerate(keys) if key in json_columns]
    if not positions:
        return [row_type._make(row) for row in result]
    decoded: dict[str, Any] = {}

    def value(text: str | None) -> Any:
        if text is None:
            return None
        found = decoded.get(text)
        if found is None:
            found = decoded[text] = json.loads(text)
        return copy.copy(found)  # a list today; a dict or a scalar would stay what it is

    rows = []
    for row in result:
        values = list(row)
        for i in positions:
            values[i] = value(values[i])
        rows.append(row_type._make(values))
    return rows


def _read(query: Select[Any], table: Any) -> Select[Any]:
    """`query` with only the columns of `table` that the agenda reads; JSON columns as their
    text (`plain_rows` decodes each distinct text once: a big city's cases and dwellings hold
    10,000 lists, most of them alike, and decoding them one by one was a sixth of the time of
    an agenda read from a kept engine result on PostgreSQL)."""
    unread = UNREAD_CASE_COLUMNS if table is CASES else UNREAD_VACANCY_COLUMNS
    return query.with_only_columns(*(_as_read(c) for c in table.c if c.name not in unread))


def _as_read(column: Any) -> ColumnElement[Any]:
    """`column` as `_read` selects it (JSON as text, on both dialects)."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.name)
    return column  # type: ignore[no-any-return]


def _json_columns(table: Any) -> frozenset[str]:
    return frozenset(c.name for c in table.c if isinstance(c.type, JSON))


CASE_JSON_COLUMNS = _json_columns(CASES)
VACANCY_JSON_COLUMNS = _json_columns(VACANCIES)


def load_inputs(session: Session, table: OutflowTable, on: date) -> MatchInputs:
    """Raises Unprocessable (`no_limits_for_year`) for a date before the earliest known limits;
    a later year without limits of its own uses the latest earlier year's (`limits_for`)."""
    limits = limits_for(session, on)
    from app.proposals.declines import earlier_declines

    connection = session.connection()
    policy = TablePolicy.model_validate(table.policy)
    return MatchInputs(
        table=table,
        on=on,
        policy=policy,
        limits=limits,
        cases=plain_rows(
            connection.execute(_read(open_cases_query(table.id, on), CASES)), CASE_JSON_COLUMNS
        ),
        vacancies=plain_rows(
            connection.execute(_read(open_vacancies_query(table.id, on), VACANCIES)),
            VACANCY_JSON_COLUMNS,
        ),
        declines=earlier_declines(session, table.id),
    )


def run_engine(
    inputs: MatchInputs,
    usage: matching.SpreadUsage,
    top_k: int,
    time_budget: float,
    reuse: bool = False,
    key: bytes | None = None,
) -> matching.MatchResult:
    """The matching engine on loaded inputs (no database access: safe outside a transaction).
    `why_not` runs the engine on exactly these arguments too.

    `time_budget`: seconds the solver may search for a proven optimum (the setting
    `solver_time_budget_seconds`) before it returns its flagged feasible fallback.

    `reuse`: the same inputs give the result already computed in this process
    (`engine_cache`), so the pages of one agenda come from one computation. Only for a caller
    who sees every case (the table view, a publish): a cached answer is much faster, so for
    anyone else its timing would tell whether something they cannot see changed since the last
    read (the cursor was made blind to such edits for the same reason). `key`: these
    arguments' `engine_key`, if known already.
    """

    def compute() -> matching.MatchResult:
        return matching.match(
            *engine_arguments(inputs, usage),
            top_k=top_k,
            declines=inputs.declines,
            time_budget=time_budget,
            # The lists' components are fetched list by list (`app.agenda.candidates`): in the
            # agenda they were most of a big city's answer (6 of 12 MB) and of its candidate
            # time.
            candidate_components=False,
        )

    if not reuse:
        return compute()
    if key is None:
        key = engine_key(inputs, usage, top_k, time_budget)
    return engine_cache.cached(key, compute)


def engine_key(
    inputs: MatchInputs, usage: matching.SpreadUsage, top_k: int, time_budget: float
) -> bytes:
    """The engine cache's key for these arguments of `run_engine`."""
    return engine_cache.digest((*computed_from(inputs, usage), top_k, time_budget))


def computed_from(inputs: MatchInputs, usage: matching.SpreadUsage) -> tuple[object, ...]:
    """What the engine's result depends on, in a form that compares and serialises (rows
    sorted): the date, policy, legal limits, rows, remembered declines and spread usage."""
    return (
        inputs.on,
        inputs.policy,
        limits_public(inputs.limits),
        _by_id(inputs.cases),
        _by_id(inputs.vacancies),
        inputs.declines,
        usage,
    )


def _by_id(rows: list[Any]) -> list[tuple[object, ...]]:
    """The rows as tuples in id order (ids are unique: the order `sorted` gives the tuples),
    comparing the ids' integers, not the UUID objects (whose comparison runs in Python)."""
    return [tuple(r) for r in sorted(rows, key=lambda r: r.id.int)]


EngineArguments = tuple[
    list[matching.CaseProfile],
    list[matching.Dwelling],
    matching.Policy,
    matching.YearLimits,
    date,
    matching.SpreadUsage,
]


def engine_arguments(inputs: MatchInputs, usage: matching.SpreadUsage) -> EngineArguments:
    """(cases, dwellings, policy, limits, date, usage) as the engine takes them."""
    return (
        [case_profile(r) for r in inputs.cases],
        [dwelling(r) for r in inputs.vacancies],
        engine_policy(inputs.policy),
        engine_limits(inputs.limits),
        inputs.on,
        usage,
    )


Owners = dict[str, dict[str, str]]  # {"cases": {case_id: care_provider_id}, "vacancies": {...}}


def owners_of(inputs: MatchInputs) -> Owners:
    # A table's thousands of cases and dwellings have a handful of owners: each owner's id is
    # written once (`UUID.__str__` runs in Python; for a big city this was a tenth of a read
    # from a kept engine result).
    owner = _Text()
    return {
        "cases": {str(r.id): owner[r.care_provider_id] for r in inputs.cases},
        "vacancies": {str(r.id): owner[r.corporation_id] for r in inputs.vacancies},
    }


class _Text(dict[uuid.UUID, str]):
    """`str` of each id asked for, computed once."""

    def __missing__(self, key: uuid.UUID) -> str:
        text = self[key] = str(key)
        return text


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything one agenda is computed from, read in one short transaction."""

    inputs: MatchInputs
    usage: matching.SpreadUsage
    open_actions: list[dict[str, Any]]

    def same_as(self, other: "Loaded") -> bool:
        """Whether two loads would give the same agenda (the same rows, policy, limits, spread
        usage and open actions)."""

        def key(loaded: Loaded) -> tuple[object, ...]:
            return (*computed_from(loaded.inputs, loaded.usage), loaded.open_actions)

        return key(self) == key(other)


def load(session: Session, table: OutflowTable, on: date) -> Loaded:
    """Read what the agenda for `on` needs (the rows are plain values, not ORM objects)."""
    from app.actions.service import open_actions_for_agenda
    from app.proposals.service import spread_usage

    inputs = load_inputs(session, table, on)
    usage = spread_usage(session, table.id, on, inputs.policy.spread_window_months)
    return Loaded(inputs, usage, open_actions_for_agenda(session, table.id, on))
