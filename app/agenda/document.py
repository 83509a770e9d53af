"""The whole agenda as the table sees it, assembled from the engine's result as JSON-ready
dicts (the views are cut from it, `app.agenda.views`), and a frozen agenda brought to today's
shape."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic_core import to_json

from app import matching
from app.agenda import engine_cache
from app.agenda.inputs import Loaded, MatchInputs, engine_key, run_engine
from app.agenda.models import UNBLOCKED_FEWEST, AgendaView
from app.limits.service import fallback_of, limits_public
from app.sqltypes import utcnow


def _fallback_json(on: date, limits_year: int) -> dict[str, Any] | None:
    fallback = fallback_of(on.year, limits_year)
    return None if fallback is None else fallback.model_dump(mode="json")


def upgrade_frozen(document: dict[str, Any]) -> dict[str, Any]:
    """A frozen agenda in today's shape (a new dict; the stored snapshot is never rewritten).

    Agendas frozen before the DAEB rent limit got its name carry only `liberalisation_limit`,
    no AOW age, source or origin, and no `limits_fallback` (they could not fall back)."""
    limits = dict(document["limits"])
    if "daeb_rent_limit" not in limits:
        limits["daeb_rent_limit"] = limits["liberalisation_limit"]
        for name in ("aow_age", "source", "origin"):
            limits.setdefault(name, None)
    fallback = document.get("limits_fallback")
    if "limits_fallback" not in document:
        fallback = _fallback_json(date.fromisoformat(document["date"]), limits["year"])
    # Agendas frozen before open proposals came back had no such section; those before
    # `displaced` was bounded list it whole; those before retention's mark on blocked cases.
    if bottlenecks := document.get("bottlenecks"):
        blocked = [{"details_removed": False, **b} for b in bottlenecks["blocked_cases"]]
        document = {**document, "bottlenecks": {**bottlenecks, "blocked_cases": blocked}}
    return {
        **document,
        "limits": limits,
        "limits_fallback": fallback,
        "open_proposals": document.get("open_proposals", []),
        "left_unhoused": [
            {"displaced_count": len(u["displaced"]), **u} for u in document.get("left_unhoused", [])
        ],
    }


def _optimality(optimality: matching.Optimality, time_budget: float) -> dict[str, Any] | None:
    if optimality.proven:
        return None
    return {
        "reason": optimality.reason,
        "time_budget_seconds": time_budget,
        "people_housed_bound": optimality.people_housed_bound,
        "score_bound": optimality.score_bound,
    }


def _components(
    components: list[Any] | None, shared: dict[int, dict[str, Any]] | None = None
) -> list[dict[str, Any]] | None:
    """Components as JSON-ready dicts. With `shared` (one per document), each component object
    becomes one dict however many pairs share it (the engine shares equal components across
    candidate lists); the dicts are read, never changed, afterwards."""
    if components is None:
        return None
    if shared is None:
        return [
            {"name": c.name, "value": c.value, "weight": c.weight, "points": c.points}
            for c in components
        ]
    out = []
    for c in components:
        entry = shared.get(id(c))
        if entry is None:
            entry = shared[id(c)] = {
                "name": c.name,
                "value": c.value,
                "weight": c.weight,
                "points": c.points,
            }
        out.append(entry)
    return out


Encoded = dict[str, tuple[object, bytes]]
"""A document's field -> (its value, that value's JSON), for the fields encoded already."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which candidate entries a view keeps, so a view that shows less is not built whole
    first: `case_ids` / `vacancy_ids` None keeps every entry; `ranked` False leaves each
    entry's ranked candidates empty (a corporation is shown counts only). The views still
    restrict what is built (`app.agenda.views.restrict`)."""

    case_ids: frozenset[str] | None = None
    vacancy_ids: frozenset[str] | None = None
    ranked: bool = True


WHOLE = Scope()


def _vacancy_summary(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "corporation_id": str(row.corporation_id),
        "external_ref": row.external_ref,
        "municipality_code": row.address_municipality_code,
        "neighbourhood_code": row.address_neighbourhood_code,
        "complex_ref": row.complex_ref,
        "dwelling_type": row.dwelling_type,
        "rooms": row.rooms,
        "floor": row.floor,
        "rent_base": float(row.rent_base),
        "available_from": row.available_from.isoformat(),
        "contingent": row.contingent,
    }


def full_document(
    inputs: MatchInputs,
    result: matching.MatchResult,
    open_actions: list[dict[str, Any]],
    time_budget: float,
    top_k: int,
    scope: Scope = WHOLE,
    sections: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole agenda as the table sees it (JSON-ready dicts); views are cut from it.

    `time_budget` is the solver's budget in seconds, reported when it ran out. `top_k` bounds
    each left-unhoused case's `displaced` list as the candidate lists are bounded (the engine
    listed `top_k` candidates), and so its `also_housed`; `displaced_count` and
    `also_housed_count` give the whole lists' lengths. `scope`
    leaves out the candidate entries a view would drop anyway. `sections`: the
    `result_sections` of these arguments, if built already."""
    if sections is None:
        sections = result_sections(inputs, result, time_budget, top_k, scope)
    document = {
        "table_id": str(inputs.table.id),
        "date": inputs.on.isoformat(),
        "generated_at": utcnow().isoformat().replace("+00:00", "Z"),
        "view": AgendaView.table.value,
        "policy": inputs.policy.model_dump(mode="json"),
        "limits": limits_public(inputs.limits, aow_year=inputs.on.year).model_dump(mode="json"),
        "limits_fallback": _fallback_json(inputs.on, inputs.limits.year),
        **sections,
        "open_actions": open_actions,
    }
    document["vacancies"] = document.pop("vacancies")  # last, as the model lists it
    return document


def result_sections(
    inputs: MatchInputs,
    result: matching.MatchResult,
    time_budget: float,
    top_k: int,
    scope: Scope = WHOLE,
) -> dict[str, Any]:
    """The document's sections that come from the engine's result (from `summary` to
    `vacancies_without_candidates`, and `vacancies`): a function of the result and of what it
    was computed from (`inputs`, `time_budget`, `top_k`) alone, so a kept result keeps them too
    (`compute_loaded`)."""
    case_rows = {str(r.id): r for r in inputs.cases}
    shared: dict[int, dict[str, Any]] = {}
    proposed_for = {p.case_id: p.dwelling_id for p in result.proposals}
    stats = result.stats
    # (id as text, row): each id written out once (str of a UUID is Python code, and a big
    # city's sections wrote each case's four times more).
    waiting = sorted(case_rows.items(), key=lambda item: (item[1].ready_since, item[0]))
    return {
        "summary": {
            "ready_cases": stats.cases,
            "vacancies": stats.dwellings,
            "feasible_pairs": stats.feasible_pairs,
            "people_housed": stats.people_housed,
            "persons_housed": stats.persons_housed,
            "blocked_cases": len(result.bottlenecks.blocked_cases),
            "passed_over_complete": result.passed_over_complete,
            "solver": stats.solver,
            "optimal": result.optimality.proven,
            "optimality": _optimality(result.optimality, time_budget),
        },
        "proposals": [
            {
                "case_id": p.case_id,
                "vacancy_id": p.dwelling_id,
                "score": p.score,
                "components": _components(p.components),
                "passed_over": [
                    {
                        "case_id": o.case_id,
                        "score": o.score,
                        "received_vacancy_id": o.received_dwelling_id,
                        "housed_if_given": o.housed_if_given,
                        "trade_off": o.trade_off,
                        "alternative_vacancy_id": o.alternative_dwelling_id,
                    }
                    for o in p.passed_over
                ],
            }
            for p in result.proposals
        ],
        "candidates_by_case": [
            {
                "case_id": case_id,
                "ready_since": case_rows[case_id].ready_since.isoformat(),
                "feasible_count": entry.feasible_count,
                "excluded_counts": entry.excluded_counts,
                "candidates": [
                    {
                        "vacancy_id": c.dwelling_id,
                        "score": c.score,
                        "components": _components(c.components, shared),
                    }
                    for c in (entry.candidates if scope.ranked else ())
                ],
            }
            for case_id, entry in result.candidates_by_case.items()
            if scope.case_ids is None or case_id in scope.case_ids
        ],
        "candidates_by_vacancy": [
            {
                "vacancy_id": vacancy_id,
                "feasible_count": entry.feasible_count,
                "excluded_counts": entry.excluded_counts,
                "candidates": [
                    {
                        "case_id": c.case_id,
                        "score": c.score,
                        "components": _components(c.components, shared),
                    }
                    for c in (entry.candidates if scope.ranked else ())
                ],
            }
            for vacancy_id, entry in result.candidates_by_dwelling.items()
            if scope.vacancy_ids is None or vacancy_id in scope.vacancy_ids
        ],
        "bottlenecks": _bottlenecks(result.bottlenecks),
        "left_unhoused": [
            {
                "case_id": u.case_id,
                "vacancy_id": u.dwelling_id,
                "score": u.score,
                "housed_if_given": u.housed_if_given,
                "total_score_if_given": u.total_score_if_given,
                "trade_off": u.trade_off,
                # The first `top_k` (dwelling order); the whole list is the case's own answer
                # (`app.agenda.alternatives`).
                "displaced": _changes(u.displaced[:top_k]),
                "displaced_count": len(u.displaced),
                "also_housed": _also_housed(u.also_housed[:top_k]),
                "also_housed_count": len(u.also_housed),
            }
            for u in result.left_unhoused
        ],
        "longest_waiting": [
            {
                "case_id": case_id,
                "ready_since": r.ready_since.isoformat(),
                "waiting_days": (inputs.on - r.ready_since).days,
                "feasible_count": result.candidates_by_case[case_id].feasible_count,
                "proposed_vacancy_id": proposed_for.get(case_id),
            }
            for case_id, r in waiting
        ],
        "vacancies_without_candidates": [
            {
                "vacancy_id": d.dwelling_id,
                "excluded_counts": d.excluded_counts,
                "unblocked_by": d.unblocked_by,
                UNBLOCKED_FEWEST: d.unblocked_fewest,
            }
            for d in result.bottlenecks.dwellings_without_candidates
        ],
        "vacancies": [
            _vacancy_summary(r) for r in sorted(inputs.vacancies, key=lambda r: str(r.id))
        ],
    }


def _changes(changes: list[matching.Displaced]) -> list[dict[str, Any]]:
    return [
        {
            "case_id": c.case_id,
            "vacancy_id": c.dwelling_id,
            "score": c.score,
            "moves_to_vacancy_id": c.moves_to_dwelling_id,
        }
        for c in changes
    ]


def _also_housed(housed: list[matching.AlsoHoused]) -> list[dict[str, Any]]:
    return [{"case_id": h.case_id, "vacancy_id": h.dwelling_id, "score": h.score} for h in housed]


def _bottlenecks(bottlenecks: matching.Bottlenecks) -> dict[str, Any]:
    return {
        "blocked_cases": [
            {
                "case_id": b.case_id,
                "excluded_counts": b.excluded_counts,
                "unblocked_by": b.unblocked_by,
                "min_reasons": b.min_reasons,
                "closest_reasons": b.closest_reasons,
                "details_removed": False,  # retention's mark (`app.meetings.anonymised`)
            }
            for b in bottlenecks.blocked_cases
        ],
        "by_reason": [
            {
                "code": r.code,
                "cases_blocked_only_by": r.cases_blocked_only_by,
                "case_ids": r.case_ids,
                "blocked_cases_failing": r.blocked_cases_failing,
            }
            for r in bottlenecks.by_reason
        ],
        "groups": [
            {"reasons": g.reasons, "waive": g.waive, "count": g.count, "case_ids": g.case_ids}
            for g in bottlenecks.groups
        ],
    }


def compute_loaded(
    loaded: Loaded,
    top_k: int,
    time_budget: float,
    scope: Scope = WHOLE,
    reuse: bool = False,
    encoded: Encoded | None = None,
) -> dict[str, Any]:
    """The full (table-view) document from loaded inputs, or as much of it as `scope` keeps;
    pure computation, no database. `reuse`: see `run_engine`; the whole document's
    `result_sections` are then kept with the result, and `encoded` (if given) gets their JSON
    (`app.agenda.paging.view_fingerprint`). A big city's sections took a third of a kept
    agenda's time to build and a seventh to encode for the fingerprint, on every page.

    The kept sections are shared by every request reading the same result: the document's
    readers (the views, the pages, the JSON) make new dicts where they cut, never change them.
    """
    inputs = loaded.inputs
    if not reuse or scope != WHOLE:
        result = run_engine(inputs, loaded.usage, top_k, time_budget, reuse)
        return full_document(inputs, result, loaded.open_actions, time_budget, top_k, scope)
    key = engine_key(inputs, loaded.usage, top_k, time_budget)
    result = run_engine(inputs, loaded.usage, top_k, time_budget, reuse, key)
    sections = engine_cache.derived(
        key, "sections", lambda: result_sections(inputs, result, time_budget, top_k)
    )
    if encoded is not None:
        encoded.update(
            engine_cache.derived(
                key, "encoded sections", lambda: {k: (v, to_json(v)) for k, v in sections.items()}
            )
        )
    return full_document(inputs, result, loaded.open_actions, time_budget, top_k, sections=sections)


DISPLACED_REST = "displaced_rest"
"""The key of the rests of the `displaced` lists in what `compute_to_freeze` keeps."""

ALSO_HOUSED_REST = "also_housed_rest"
"""The key of the rests of the `also_housed` lists in what `compute_to_freeze` keeps."""


def compute_to_freeze(
    loaded: Loaded, top_k: int, time_budget: float
) -> tuple[dict[str, Any], dict[str, dict[str, list[dict[str, Any]]]]]:
    """The full document, as `compute_loaded`, and the rests of the lists it cuts to `top_k`:
    {DISPLACED_REST: {case id: changes after the head}, ALSO_HOUSED_REST: {case id: cases
    housed besides after the head}}, with only the cases whose list it cuts. A published
    meeting keeps both, so it can give each case's whole alternative later, when its proposals
    hold the dwellings and the live agenda no longer lists the case."""
    # The chair publishes: it sees every case, and it freezes what its agenda showed.
    result = run_engine(loaded.inputs, loaded.usage, top_k, time_budget, reuse=True)
    document = full_document(loaded.inputs, result, loaded.open_actions, time_budget, top_k)
    rests = {
        DISPLACED_REST: {
            u.case_id: _changes(u.displaced[top_k:])
            for u in result.left_unhoused
            if len(u.displaced) > top_k
        },
        ALSO_HOUSED_REST: {
            u.case_id: _also_housed(u.also_housed[top_k:])
            for u in result.left_unhoused
            if len(u.also_housed) > top_k
        },
    }
    return document, rests
