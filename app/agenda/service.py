"""The bridge between the database and the matching engine: loads a table's open cases and
vacancies for a meeting date, runs the engine, and cuts the result down to the caller's view.

The only place where `app.matching` meets the database.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from app import matching
from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.agenda import open_proposals
from app.agenda.engine_inputs import case_profile, dwelling, engine_policy
from app.agenda.models import AgendaView
from app.cases.models import Case, CaseStatus
from app.database import outside_transaction
from app.limits.models import YearLimits as YearLimitsRow
from app.limits.service import engine_limits, fallback_of, limits_for, limits_public
from app.monitor.suppression import suppress
from app.organisations.models import OrganisationKind
from app.problems import Conflict, Forbidden, NotFound
from app.sqltypes import utcnow
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.vacancies.models import Vacancy, VacancyStatus

LONGEST_WAITING = 25
CASES = Case.__table__  # type: ignore[attr-defined]
VACANCIES = Vacancy.__table__  # type: ignore[attr-defined]


def view_for(context: AccessContext, table: OutflowTable) -> AgendaView:
    principal = context.principal
    if principal.is_operator:
        raise Forbidden("The agenda holds case data; it is for the organisations at the table.")
    if principal.organisation_id == table.chair_organisation_id:
        return AgendaView.table
    if principal.organisation_kind == OrganisationKind.municipality:
        return AgendaView.table
    if principal.organisation_kind == OrganisationKind.care_provider:
        return AgendaView.care_provider
    return AgendaView.housing_corporation


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


def open_cases_query(table_id: uuid.UUID, on: date):  # type: ignore[no-untyped-def]
    """Cases the table matches on `on`: open, not on hold, parked or in a proposal, and ready."""
    return select(CASES).where(
        CASES.c.table_id == table_id,
        CASES.c.status == CaseStatus.registered,
        CASES.c.ready_since <= on,
        or_(CASES.c.parked_until.is_(None), CASES.c.parked_until <= on),
    )


def open_vacancies_query(table_id: uuid.UUID, on: date):  # type: ignore[no-untyped-def]
    """Dwellings on offer. `respond_before` is shown, not used to drop a dwelling silently:
    every excluded dwelling must carry a reason code, and a corporation withdraws a dwelling
    that is no longer on offer (DELETE)."""
    return select(VACANCIES).where(
        VACANCIES.c.table_id == table_id, VACANCIES.c.status == VacancyStatus.available
    )


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
        cases=list(connection.execute(open_cases_query(table.id, on))),
        vacancies=list(connection.execute(open_vacancies_query(table.id, on))),
        declines=earlier_declines(session, table.id),
    )


def run_engine(
    inputs: MatchInputs, usage: matching.SpreadUsage, top_k: int, time_budget: float
) -> matching.MatchResult:
    """The matching engine on loaded inputs (no database access: safe outside a transaction).
    `why_not` runs the engine on exactly these arguments too.

    `time_budget`: seconds the solver may search for a proven optimum (the setting
    `solver_time_budget_seconds`) before it returns its flagged feasible fallback.
    """
    return matching.match(
        *engine_arguments(inputs, usage),
        top_k=top_k,
        declines=inputs.declines,
        time_budget=time_budget,
    )


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
    # Agendas frozen before open proposals came back had no such section.
    return {
        **document,
        "limits": limits,
        "limits_fallback": fallback,
        "open_proposals": document.get("open_proposals", []),
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


def _components(components: list[Any] | None) -> list[dict[str, Any]] | None:
    if components is None:
        return None
    return [
        {"name": c.name, "value": c.value, "weight": c.weight, "points": c.points}
        for c in components
    ]


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


Owners = dict[str, dict[str, str]]  # {"cases": {case_id: care_provider_id}, "vacancies": {...}}


def full_document(
    inputs: MatchInputs,
    result: matching.MatchResult,
    open_actions: list[dict[str, Any]],
    time_budget: float,
) -> dict[str, Any]:
    """The whole agenda as the table sees it (JSON-ready dicts); views are cut from it.

    `time_budget` is the solver's budget in seconds, reported when it ran out."""
    case_rows = {str(r.id): r for r in inputs.cases}
    proposed_for = {p.case_id: p.dwelling_id for p in result.proposals}
    stats = result.stats
    waiting = sorted(inputs.cases, key=lambda r: (r.ready_since, str(r.id)))
    return {
        "table_id": str(inputs.table.id),
        "date": inputs.on.isoformat(),
        "generated_at": utcnow().isoformat().replace("+00:00", "Z"),
        "view": AgendaView.table.value,
        "policy": inputs.policy.model_dump(mode="json"),
        "limits": limits_public(inputs.limits, aow_year=inputs.on.year).model_dump(mode="json"),
        "limits_fallback": _fallback_json(inputs.on, inputs.limits.year),
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
                        "components": _components(c.components),
                    }
                    for c in entry.candidates
                ],
            }
            for case_id, entry in result.candidates_by_case.items()
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
                        "components": _components(c.components),
                    }
                    for c in entry.candidates
                ],
            }
            for vacancy_id, entry in result.candidates_by_dwelling.items()
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
                "displaced": _changes(u.displaced),
            }
            for u in result.left_unhoused
        ],
        "longest_waiting": [
            {
                "case_id": str(r.id),
                "ready_since": r.ready_since.isoformat(),
                "waiting_days": (inputs.on - r.ready_since).days,
                "feasible_count": result.candidates_by_case[str(r.id)].feasible_count,
                "proposed_vacancy_id": proposed_for.get(str(r.id)),
            }
            for r in waiting
        ],
        "vacancies_without_candidates": [
            {
                "vacancy_id": d.dwelling_id,
                "excluded_counts": d.excluded_counts,
                "unblocked_by": d.unblocked_by,
            }
            for d in result.bottlenecks.dwellings_without_candidates
        ],
        "open_actions": open_actions,
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


def _hide_other_cases(changes: list[dict[str, Any]], own_case) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Changes as a care provider may see them: other providers' cases without id or score."""
    return [c if own_case(c["case_id"]) else {**c, "case_id": None, "score": None} for c in changes]


def owners_of(inputs: MatchInputs) -> Owners:
    return {
        "cases": {str(r.id): str(r.care_provider_id) for r in inputs.cases},
        "vacancies": {str(r.id): str(r.corporation_id) for r in inputs.vacancies},
    }


def restrict(
    document: dict[str, Any], view: AgendaView, organisation_id: uuid.UUID, owners: Owners
) -> dict[str, Any]:
    """Cut the table's document down to what `view` may see (a new dict in the shape of the
    view's model, `app.agenda.models.Agenda`; the input is kept).

    care_provider: its own cases only. housing_corporation: its own dwellings only, and no case
    details. Both get the summary suppressed (`restricted_summary`).
    """
    if view == AgendaView.table:
        return dict(document, longest_waiting=document["longest_waiting"][:LONGEST_WAITING])
    me = str(organisation_id)
    head = {key: document[key] for key in HEAD_FIELDS}
    if view == AgendaView.care_provider:
        doc = head | _care_provider_part(document, me, owners)
    else:
        doc = head | _corporation_part(document, me, owners)
    doc["view"] = view.value
    doc["summary"] = restricted_summary(document, doc, view, me, owners)
    if view == AgendaView.housing_corporation and doc["summary"]["ready_cases"] is None:
        for entry in doc["vacancies_without_candidates"]:
            entry["unblocked_by"] = []
    mentioned = {p["vacancy_id"] for p in doc["proposals"]}
    mentioned |= {
        c["vacancy_id"] for e in doc.get("candidates_by_case", []) for c in e["candidates"]
    }
    mentioned |= {e["vacancy_id"] for e in doc.get("candidates_by_vacancy", [])}
    mentioned |= {v["vacancy_id"] for v in doc.get("vacancies_without_candidates", [])}
    for entry in doc.get("left_unhoused", []):
        mentioned.add(entry["vacancy_id"])
        mentioned |= {c["vacancy_id"] for c in entry["displaced"]}
    doc["vacancies"] = [v for v in document["vacancies"] if v["id"] in mentioned]
    return doc


HEAD_FIELDS = ("table_id", "date", "generated_at", "policy", "limits", "limits_fallback")


def _care_provider_part(document: dict[str, Any], me: str, owners: Owners) -> dict[str, Any]:
    def own_case(case_id: Any) -> bool:
        return owners["cases"].get(str(case_id)) == me

    return {
        "proposals": [
            {
                **p,
                "passed_over": [
                    {**o, "housed_if_given": None}
                    for o in p["passed_over"]
                    if own_case(o["case_id"])
                ],
            }
            for p in document["proposals"]
            if own_case(p["case_id"])
        ],
        "candidates_by_case": [e for e in document["candidates_by_case"] if own_case(e["case_id"])],
        "bottlenecks": _restrict_bottlenecks(document["bottlenecks"], own_case),
        "left_unhoused": [
            {
                **u,
                "housed_if_given": None,  # the table's count give or take one: see summary
                "total_score_if_given": None,
                "displaced": _hide_other_cases(u["displaced"], own_case),
            }
            for u in document.get("left_unhoused", [])
            if own_case(u["case_id"])
        ],
        "longest_waiting": [w for w in document["longest_waiting"] if own_case(w["case_id"])][
            :LONGEST_WAITING
        ],
        "open_actions": [
            a
            for a in document["open_actions"]
            if a["owner_organisation_id"] == me or (a["case_id"] and own_case(a["case_id"]))
        ],
        "open_proposals": open_proposals.for_care_provider(document.get("open_proposals", []), me),
    }


def _corporation_part(document: dict[str, Any], me: str, owners: Owners) -> dict[str, Any]:
    """Only the fields `CorporationAgenda` names, built afresh (nothing copied wholesale), and
    each dwelling's count of fitting cases suppressed as the monitor's (1 to 4 hidden)."""

    def own_vacancy(vacancy_id: Any) -> bool:
        return owners["vacancies"].get(str(vacancy_id)) == me

    return {
        # In dwelling order: the table's order (best score first) would rank the cases.
        "proposals": sorted(
            (
                {"case_id": p["case_id"], "vacancy_id": p["vacancy_id"]}
                for p in document["proposals"]
                if own_vacancy(p["vacancy_id"])
            ),
            key=lambda p: str(p["vacancy_id"]),
        ),
        "candidates_by_vacancy": [
            {"vacancy_id": e["vacancy_id"], "feasible_count": e["feasible_count"]}
            for e in document["candidates_by_vacancy"]
            if own_vacancy(e["vacancy_id"])
        ],
        "vacancies_without_candidates": [
            {"vacancy_id": v["vacancy_id"], "unblocked_by": list(v["unblocked_by"])}
            for v in document["vacancies_without_candidates"]
            if own_vacancy(v["vacancy_id"])
        ],
        "open_actions": [
            {key: a[key] for key in CORPORATION_ACTION_FIELDS}
            for a in document["open_actions"]
            if a["owner_organisation_id"] == me
        ],
        "open_proposals": open_proposals.for_corporation(document.get("open_proposals", []), me),
    }


CORPORATION_ACTION_FIELDS = (
    "id",
    "kind",
    "owner_organisation_id",
    "meeting_id",
    "due_date",
    "overdue",
)
SUPPRESSED_COUNTS = ("ready_cases", "feasible_pairs", "people_housed", "blocked_cases")


def restricted_summary(
    document: dict[str, Any], view_doc: dict[str, Any], view: AgendaView, me: str, owners: Owners
) -> dict[str, Any]:
    """The summary for a care provider or corporation, with the monitor's suppression
    (`app.monitor.suppression.suppress`): a count whose rest (the count less what the viewer
    knows of it from its own view) is 1 to 4 is hidden, and so is any cell that would give a
    hidden rest away through the published equation (the table's fitting pairs are the sum of
    the corporation's dwellings' counts and the rest). Sets the suppressed corporation
    dwellings' `feasible_count` in `view_doc` to None too.

    What the viewer knows (`lower`): a care provider its own cases (ready, fitting pairs,
    proposed, blocked); a corporation the cases proposed for its dwellings and the fitting
    cases it is shown per dwelling.
    """
    summary = document["summary"]
    values: dict[Any, int | None] = {name: summary[name] for name in SUPPRESSED_COUNTS}
    lower: dict[Any, int] = {"people_housed": len(view_doc["proposals"])}
    equations: list[list[tuple[Any, float]]] = []
    if view == AgendaView.care_provider:
        own = [case for case, owner in owners["cases"].items() if owner == me]
        lower["ready_cases"] = len(own)
        lower["feasible_pairs"] = sum(e["feasible_count"] for e in view_doc["candidates_by_case"])
        blocked = view_doc["bottlenecks"]["blocked_cases"] if view_doc["bottlenecks"] else []
        lower["blocked_cases"] = len(blocked)
    else:
        per_vacancy = {("vacancy", e["vacancy_id"]): e for e in view_doc["candidates_by_vacancy"]}
        others = summary["feasible_pairs"] - sum(e["feasible_count"] for e in per_vacancy.values())
        values |= {cell: e["feasible_count"] for cell, e in per_vacancy.items()}
        values[("other_vacancies",)] = others
        equations.append(
            [("feasible_pairs", 1.0), (("other_vacancies",), -1.0)]
            + [(cell, -1.0) for cell in per_vacancy]
        )
    hidden = suppress(values, equations, lower=lower)
    if "ready_cases" in hidden:
        # Others' fitting pairs over the dwellings bound others' cases from below: with few
        # other cases the pairs go too (hiding more never exposes a hidden cell).
        hidden.add("feasible_pairs")
    if view == AgendaView.housing_corporation:
        for cell, entry in per_vacancy.items():
            if cell in hidden:
                entry["feasible_count"] = None
    out = {key: summary[key] for key in ("vacancies", "passed_over_complete", "solver", "optimal")}
    out |= {name: None if name in hidden else summary[name] for name in SUPPRESSED_COUNTS}
    out["persons_housed"] = None if out["people_housed"] is None else summary["persons_housed"]
    optimality = summary.get("optimality")
    out["optimality"] = None
    if optimality is not None:
        out["optimality"] = {
            "reason": optimality["reason"],
            "time_budget_seconds": optimality["time_budget_seconds"],
            "people_housed_bound": (
                None if out["people_housed"] is None else optimality["people_housed_bound"]
            ),
        }
    return out


def _bottlenecks(bottlenecks: matching.Bottlenecks) -> dict[str, Any]:
    return {
        "blocked_cases": [
            {
                "case_id": b.case_id,
                "excluded_counts": b.excluded_counts,
                "unblocked_by": b.unblocked_by,
                "min_reasons": b.min_reasons,
                "closest_reasons": b.closest_reasons,
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


def _restrict_bottlenecks(bottlenecks: dict[str, Any], own_case) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Blocked cases of the view, with the per-reason and group counts recomputed over them."""
    blocked = [b for b in bottlenecks["blocked_cases"] if own_case(b["case_id"])]
    by_reason = []
    for reason in bottlenecks["by_reason"]:
        case_ids = [c for c in reason["case_ids"] if own_case(c)]
        failing = sum(1 for b in blocked if reason["code"] in b["excluded_counts"])
        if case_ids or failing:
            by_reason.append(
                {
                    "code": reason["code"],
                    "cases_blocked_only_by": len(case_ids),
                    "case_ids": case_ids,
                    "blocked_cases_failing": failing,
                }
            )
    groups = []
    for group in bottlenecks["groups"]:
        case_ids = [c for c in group["case_ids"] if own_case(c)]
        if case_ids:
            groups.append({**group, "count": len(case_ids), "case_ids": case_ids})
    return {
        "blocked_cases": blocked,
        "by_reason": sorted(by_reason, key=lambda r: (-r["cases_blocked_only_by"], r["code"])),
        "groups": sorted(groups, key=lambda g: (-g["count"], g["reasons"])),
    }


def cases_shown(document: dict[str, Any]) -> set[str]:
    """Every case id a (restricted) document mentions, for the access log."""
    shown = {str(p["case_id"]) for p in document["proposals"]}
    shown |= {str(o["case_id"]) for p in document["proposals"] for o in p.get("passed_over") or []}
    shown |= {str(e["case_id"]) for e in document.get("candidates_by_case", [])}
    shown |= {
        str(c["case_id"])
        for e in document.get("candidates_by_vacancy", [])
        for c in e.get("candidates", [])
    }
    if document.get("bottlenecks"):
        shown |= {str(b["case_id"]) for b in document["bottlenecks"]["blocked_cases"]}
    for entry in document.get("left_unhoused", []):
        shown.add(str(entry["case_id"]))
        shown |= {str(c["case_id"]) for c in entry["displaced"] if c["case_id"]}
    shown |= {str(w["case_id"]) for w in document.get("longest_waiting", [])}
    shown |= {str(a["case_id"]) for a in document["open_actions"] if a.get("case_id")}
    shown |= {p["case_id"] for p in document.get("open_proposals", [])}
    # A frozen agenda's changes name cases edited or become ready since, with their status.
    shown |= {c["id"] for c in document.get("changes", []) if c["subject"] == "case"}
    return shown


def log_cases_shown(
    session: Session, context: AccessContext, document: dict[str, Any], table_id: uuid.UUID
) -> None:
    entries = [(uuid.UUID(c), table_id) for c in sorted(cases_shown(document))]
    access_log.record(session, context, AccessAction.agenda, entries)


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything one agenda is computed from, read in one short transaction."""

    inputs: MatchInputs
    usage: matching.SpreadUsage
    open_actions: list[dict[str, Any]]

    def same_as(self, other: "Loaded") -> bool:
        """Whether two loads would give the same agenda (the same rows, policy, limits, spread
        usage and open actions)."""

        def key(loaded: Loaded) -> tuple:  # type: ignore[type-arg]
            inputs = loaded.inputs
            limits = limits_public(inputs.limits)
            return (
                inputs.on,
                inputs.policy,
                limits,
                sorted(tuple(r) for r in inputs.cases),
                sorted(tuple(r) for r in inputs.vacancies),
                inputs.declines,
                loaded.usage,
                loaded.open_actions,
            )

        return key(self) == key(other)


def load(session: Session, table: OutflowTable, on: date) -> Loaded:
    """Read what the agenda for `on` needs (the rows are plain values, not ORM objects)."""
    from app.actions.service import open_actions_for_agenda
    from app.proposals.service import spread_usage

    inputs = load_inputs(session, table, on)
    usage = spread_usage(session, table.id, on, inputs.policy.spread_window_months)
    return Loaded(inputs, usage, open_actions_for_agenda(session, table.id, on))


def compute_loaded(loaded: Loaded, top_k: int, time_budget: float) -> dict[str, Any]:
    """The full (table-view) document from loaded inputs; pure computation, no database."""
    result = run_engine(loaded.inputs, loaded.usage, top_k, time_budget)
    return full_document(loaded.inputs, result, loaded.open_actions, time_budget)


def compute(
    session: Session, table: OutflowTable, on: date, top_k: int, time_budget: float
) -> tuple[dict, Owners, MatchInputs]:
    """The full (table-view) document for `on`, with the owners needed to cut views from it.

    Loads in the request's transaction, then commits it and computes outside any transaction
    (`app.db.outside_transaction`), so a big or slow table never holds the SQLite write lock or
    a PostgreSQL transaction while the engine runs; what the caller writes afterwards (the access
    log) goes into a new, short transaction.
    """
    loaded = load(session, table, on)
    with outside_transaction(session):
        document = compute_loaded(loaded, top_k, time_budget)
    return document, owners_of(loaded.inputs), loaded.inputs


def with_open_proposals(
    session: Session, table: OutflowTable, document: dict[str, Any], on: date
) -> None:
    """Add the open proposals of the meetings before `on` to a (table-view) document, and send
    `proposal.stalled` for any newly stalled (`app.agenda.open_proposals`)."""
    document["open_proposals"] = open_proposals.open_proposals(session, table, before=on)
    open_proposals.record_stalls(session, table)


def agenda(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    on: date,
    top_k: int,
    time_budget: float,
) -> dict[str, Any]:
    """Compute the live agenda for `on` as the caller may see it, logging the cases it shows;
    `time_budget` is the solver's budget in seconds (see `run_engine`)."""
    view = view_for(context, table)
    document, owners, _ = compute(session, table, on, top_k, time_budget)
    with_open_proposals(session, table, document, on)
    restricted = restrict(document, view, context.principal.require_organisation(), owners)
    log_cases_shown(session, context, restricted, table.id)
    return restricted


CASE_STATUS_REASONS = (
    "case_on_hold",
    "case_parked",
    "case_in_open_proposal",
    "case_housed",
    "case_withdrawn",
    "case_not_ready_yet",
)
VACANCY_STATUS_REASONS = ("vacancy_in_open_proposal", "vacancy_let", "vacancy_withdrawn")
STATUS_REASONS = CASE_STATUS_REASONS + VACANCY_STATUS_REASONS
"""Why-not codes for a case or dwelling the agenda of the date does not take part at all; the
complement of `open_cases_query` and `open_vacancies_query`."""


def _open_proposal(session: Session, clause: Any) -> Any:
    from app.meetings.models import Meeting
    from app.proposals.models import OPEN_PROPOSAL, Proposal

    return session.exec(
        select(Proposal, Meeting.date)  # type: ignore[call-overload]
        .join(Meeting, Meeting.id == Proposal.meeting_id)
        .where(clause, col(Proposal.status).in_(OPEN_PROPOSAL))
        .order_by(Proposal.id)
    ).first()


def _proposal_detail(found: Any, visible_case: Any) -> dict[str, Any]:
    if found is None:  # the status says so, but no open proposal row: show what is known
        return {"proposal_id": None}
    proposal, meeting_date = found
    return {
        "proposal_id": str(proposal.id),
        "proposal_status": proposal.status,
        "meeting_date": meeting_date.isoformat(),
        "vacancy_id": str(proposal.vacancy_id),
        "case_id": (
            str(proposal.case_id)
            if visible_case(proposal.case_id, proposal.care_provider_id)
            else None
        ),
    }


def case_status_reasons(
    session: Session, case: Any, on: date, visible_case: Any
) -> list[dict[str, Any]]:
    """Why the case takes no part in the agenda of `on` (empty: it does), with the figures."""
    from app.proposals.models import Proposal

    reasons: list[dict[str, Any]] = []
    if case.status == CaseStatus.on_hold:
        reasons.append({"code": "case_on_hold", "detail": {"status_reason": case.status_reason}})
    elif case.status in (CaseStatus.proposed, CaseStatus.nominated):
        found = _open_proposal(session, Proposal.case_id == case.id)
        reasons.append(
            {"code": "case_in_open_proposal", "detail": _proposal_detail(found, visible_case)}
        )
    elif case.status == CaseStatus.housed:
        exit_date = case.exit_date.isoformat() if case.exit_date else None
        reasons.append({"code": "case_housed", "detail": {"exit_date": exit_date}})
    elif case.status == CaseStatus.withdrawn:
        reasons.append({"code": "case_withdrawn", "detail": {"status_reason": case.status_reason}})
    if case.status in (CaseStatus.registered, CaseStatus.on_hold):
        if case.parked_until is not None and case.parked_until > on:
            detail = {"parked_until": case.parked_until.isoformat()}
            reasons.append({"code": "case_parked", "detail": detail})
        if case.ready_since > on:
            detail = {"ready_since": case.ready_since.isoformat()}
            reasons.append({"code": "case_not_ready_yet", "detail": detail})
    return reasons


def vacancy_status_reasons(
    session: Session, vacancy: Any, visible_case: Any
) -> list[dict[str, Any]]:
    """Why the dwelling takes no part in the agenda (empty: it does), with the figures."""
    from app.proposals.models import Proposal

    if vacancy.status == VacancyStatus.proposed:
        found = _open_proposal(session, Proposal.vacancy_id == vacancy.id)
        detail = _proposal_detail(found, visible_case)
        return [{"code": "vacancy_in_open_proposal", "detail": detail}]
    if vacancy.status in (VacancyStatus.let, VacancyStatus.withdrawn):
        return [{"code": f"vacancy_{vacancy.status}", "detail": {}}]
    return []


WHY_NOT_ATTEMPTS = 3
"""How often why-not reads the pair and the agenda's inputs before it answers 409."""


def _pair_and_inputs(
    session: Session,
    table: OutflowTable,
    case_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    on: date,
    provider: str | None,
) -> tuple[Any, Any, Loaded]:
    """The case and vacancy rows and the agenda's inputs for `on`. 404 when either is not at
    this table, or the case is not `provider`'s (when given): the same answer, so a care
    provider learns nothing of other providers' case ids."""
    connection = session.connection()
    case = connection.execute(
        select(CASES).where(CASES.c.id == case_id, CASES.c.table_id == table.id)
    ).first()
    if case is None or (provider is not None and str(case.care_provider_id) != provider):
        raise NotFound("No such case at this table.")
    vacancy = connection.execute(
        select(VACANCIES).where(VACANCIES.c.id == vacancy_id, VACANCIES.c.table_id == table.id)
    ).first()
    if vacancy is None:
        raise NotFound("No such vacancy at this table.")
    return case, vacancy, load(session, table, on)


def _visibility(view: AgendaView, me: str, provider_of: dict[str, str]) -> Any:
    def visible_case(other: Any, provider: Any = None) -> bool:
        """May the caller see this case's id (its own care provider's, or the table view)?"""
        provider = str(provider) if provider is not None else provider_of.get(str(other))
        return view == AgendaView.table or provider == me

    return visible_case


def why_not(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    case_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    on: date,
    time_budget: float,
) -> dict[str, Any]:
    """What the agenda of `on` does with a (case, dwelling) pair, and why: the statuses that keep
    either out of it, else every rule the pair fails with its figures (the agenda's own failure
    matrix), else its score, whether the agenda proposes it and, if not, the trade-off. For the
    table and the case's own care provider (the reasons reveal case details a corporation may
    not see); a care provider sees other providers' cases without id or score."""
    view = view_for(context, table)
    if view == AgendaView.housing_corporation:
        raise Forbidden("Why-not answers reveal case details; ask the table's chair.")
    me = str(context.principal.organisation_id)
    own = me if view == AgendaView.care_provider else None
    for _ in range(WHY_NOT_ATTEMPTS):
        case, vacancy, loaded = _pair_and_inputs(session, table, case_id, vacancy_id, on, own)
        owners = owners_of(loaded.inputs)
        visible_case = _visibility(
            view, me, {str(case.id): str(case.care_provider_id)} | owners["cases"]
        )
        case_reasons = case_status_reasons(session, case, on, visible_case)
        vacancy_reasons = vacancy_status_reasons(session, vacancy, visible_case)
        # The agenda's own inputs decide; the status reasons say exactly why one is missing. They
        # are read in separate statements, so a change committed in between (PostgreSQL, read
        # committed) can make them disagree: read again.
        if (str(case.id) not in owners["cases"]) == bool(case_reasons) and (
            str(vacancy.id) not in owners["vacancies"]
        ) == bool(vacancy_reasons):
            break
    else:
        raise Conflict(
            "The case or vacancy kept changing while the answer was read; try again.",
            code="inputs_changed",
        )
    answer: dict[str, Any] = {
        "case_id": case.id,
        "vacancy_id": vacancy.id,
        "date": on,
        "feasible": False,
        "proposed": False,
        "reasons": case_reasons + vacancy_reasons,
        "score": None,
        "components": None,
        "trade_off": None,
        "optimal": True,
        "limits_year": loaded.inputs.limits.year,
        "limits_fallback": _fallback_json(on, loaded.inputs.limits.year),
    }
    if not answer["reasons"]:
        # As the agenda: computed from the loaded values, outside any transaction.
        with outside_transaction(session):
            explained = matching.explain_in_agenda(
                *engine_arguments(loaded.inputs, loaded.usage),
                loaded.inputs.declines,
                str(case.id),
                str(vacancy.id),
                time_budget=time_budget,
            )
        answer |= {
            "feasible": explained.feasible,
            "proposed": explained.proposed,
            "reasons": [{"code": r.code, "detail": r.detail} for r in explained.reasons],
            "score": explained.score,
            "components": _components(explained.components),
            "trade_off": _pair_trade_off(explained.trade_off, view, visible_case),
            "optimal": explained.optimal,
        }
    shown = {case.id} | _cases_in_why_not(answer)
    access_log.record(
        session, context, AccessAction.why_not, [(c, table.id) for c in sorted(shown)]
    )
    return answer


def _pair_trade_off(
    trade: matching.PairTradeOff | None, view: AgendaView, visible_case: Any
) -> dict[str, Any] | None:
    if trade is None:
        return None
    table_view = view == AgendaView.table
    changes = _changes(trade.changes)
    holder = trade.dwelling_proposed_to
    return {
        "code": trade.trade_off,
        # Totals over every case: the table's people housed, which others get suppressed.
        "housed": trade.housed if table_view else None,
        "housed_if_given": trade.housed_if_given if table_view else None,
        "total_score": trade.total_score if table_view else None,
        "total_score_if_given": trade.total_score_if_given if table_view else None,
        "vacancy_proposed": holder is not None,
        "vacancy_proposed_to": holder if holder is not None and visible_case(holder) else None,
        "case_proposed_vacancy_id": trade.case_proposed_dwelling,
        "changes": changes if table_view else _hide_other_cases(changes, visible_case),
    }


def _cases_in_why_not(answer: dict[str, Any]) -> set[uuid.UUID]:
    """Other cases a why-not answer names (for the access log)."""
    shown = {r["detail"].get("case_id") for r in answer["reasons"]}
    trade = answer["trade_off"]
    if trade is not None:
        shown.add(trade["vacancy_proposed_to"])
        shown |= {c["case_id"] for c in trade["changes"]}
    return {uuid.UUID(str(c)) for c in shown if c}
