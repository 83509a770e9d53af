"""The bridge between the database and the matching engine: loads a table's open cases and
vacancies for a meeting date, runs the engine, and cuts the result down to the caller's view.

The only place where `app.matching` meets the database.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from app import matching
from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.agenda.models import AgendaView
from app.cases.models import Case, CaseStatus
from app.db import outside_transaction
from app.limits.models import YearLimits as YearLimitsRow
from app.limits.models import YearLimitsPublic
from app.limits.service import get_limits
from app.organisations.models import OrganisationKind
from app.problems import Forbidden, NotFound, Unprocessable
from app.settings import get_settings
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


def engine_policy(policy: TablePolicy) -> matching.Policy:
    rooms = {int(size): (low, high) for size, (low, high) in policy.rooms_by_household_size.items()}
    return matching.Policy(
        rooms_by_household_size=rooms,
        horizon_days=policy.horizon_days,
        require_stable_income=policy.require_stable_income,
        beschikking_required=policy.beschikking_required.value,
        min_registration_months=policy.min_registration_months,
        max_per_complex=policy.max_per_complex,
        max_per_neighbourhood=policy.max_per_neighbourhood,
        spread_window_months=policy.spread_window_months,
        weights=matching.ScoreWeights(**policy.score_weights.model_dump()),
    )


def engine_limits(row: YearLimitsRow) -> matching.YearLimits:
    return matching.YearLimits(
        year=row.year,
        low_cap=row.low_cap,
        high_cap=row.high_cap,
        liberalisation_limit=row.liberalisation_limit,
        income_limit_single=row.income_limit_single,
        income_limit_multi=row.income_limit_multi,
        income_limit_single_pension=row.income_limit_single_pension,
        income_limit_multi_pension=row.income_limit_multi_pension,
        pension_age=row.pension_age,
        service_costs_count=row.service_costs_count,
        service_costs_max=row.service_costs_max,
    )


def case_profile(row: Any) -> matching.CaseProfile:
    return matching.CaseProfile(
        id=str(row.id),
        ready_since=row.ready_since,
        birth_year=row.birth_year,
        adults=row.household_adults,
        children=row.household_children,
        annual_taxable=row.income_annual_taxable,
        income_stable=row.income_stable,
        budget_management=row.income_budget_management,
        registration_date=row.registration_date,
        beschikking_status=row.beschikking_status,
        beschikking_valid_until=row.beschikking_valid_until,
        support_intensity=row.support_intensity,
        needs_complex_manager=row.support_needs_complex_manager,
        urgency=row.urgency,
        rent_arrears_corporation_ids=frozenset(row.debts_rent_arrears_corporation_ids),
        wheelchair=row.needs_wheelchair,
        step_free=row.needs_step_free,
        max_floor=row.needs_max_floor,
        pets=row.needs_pets,
        preferred_areas=tuple(row.areas_preferred),
        excluded_areas=tuple(row.areas_excluded),
        contract_form=row.contract_form,
    )


def dwelling(row: Any) -> matching.Dwelling:
    # Complex references are the corporation's own; a dwelling without one is its own complex.
    complex_key = f"{row.corporation_id}:{row.complex_ref or f'#{row.id}'}"
    return matching.Dwelling(
        id=str(row.id),
        corporation_id=str(row.corporation_id),
        municipality_code=row.address_municipality_code,
        neighbourhood_code=row.address_neighbourhood_code,
        complex_key=complex_key,
        rooms=row.rooms,
        floor=row.floor,
        has_lift=row.has_lift,
        wheelchair_accessible=row.wheelchair_accessible,
        rent_base=row.rent_base,
        eligible_service_costs=row.rent_eligible_service_costs,
        available_from=row.available_from,
        contingent=row.contingent,
        complex_manager=row.complex_manager,
        pets_allowed=row.pets_allowed,
        min_age=row.min_age,
        contract_forms=frozenset(row.contract_forms),
    )


@dataclass(frozen=True, slots=True)
class MatchInputs:
    """What one agenda is computed from (and, once published, what it froze)."""

    table: OutflowTable
    on: date
    policy: TablePolicy
    limits: YearLimitsRow
    cases: list[Any]
    vacancies: list[Any]


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
    limits = get_limits(session, on.year)
    if limits is None:
        raise Unprocessable(
            "date",
            f"no legal limits for {on.year}; the operator adds them with PUT /v1/limits/{on.year}",
            "no_limits_for_year",
            "query",
        )
    connection = session.connection()
    return MatchInputs(
        table=table,
        on=on,
        policy=TablePolicy.model_validate(table.policy),
        limits=limits,
        cases=list(connection.execute(open_cases_query(table.id, on))),
        vacancies=list(connection.execute(open_vacancies_query(table.id, on))),
    )


def run_engine(
    inputs: MatchInputs, usage: matching.SpreadUsage, top_k: int
) -> matching.MatchResult:
    """The matching engine on loaded inputs (no database access: safe outside a transaction)."""
    return matching.match(
        [case_profile(r) for r in inputs.cases],
        [dwelling(r) for r in inputs.vacancies],
        engine_policy(inputs.policy),
        engine_limits(inputs.limits),
        inputs.on,
        usage,
        top_k=top_k,
        time_budget=get_settings().solver_time_budget_seconds,
    )


def _optimality(optimality: matching.Optimality) -> dict[str, Any] | None:
    if optimality.proven:
        return None
    return {
        "reason": optimality.reason,
        "time_budget_seconds": get_settings().solver_time_budget_seconds,
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
) -> dict[str, Any]:
    """The whole agenda as the table sees it (JSON-ready dicts); views are cut from it."""
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
        "limits": YearLimitsPublic.model_validate(inputs.limits, from_attributes=True).model_dump(
            mode="json"
        ),
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
            "optimality": _optimality(result.optimality),
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


def owners_of(inputs: MatchInputs) -> Owners:
    return {
        "cases": {str(r.id): str(r.care_provider_id) for r in inputs.cases},
        "vacancies": {str(r.id): str(r.corporation_id) for r in inputs.vacancies},
    }


def restrict(
    document: dict[str, Any], view: AgendaView, organisation_id: uuid.UUID, owners: Owners
) -> dict[str, Any]:
    """Cut the table's document down to what `view` may see (a new dict; the input is kept).

    care_provider: its own cases only. housing_corporation: its own dwellings only, and no case
    details (score components, reasons, bottlenecks).
    """
    me = str(organisation_id)
    doc = dict(document, view=view.value)
    optimality = document["summary"].get("optimality")
    if optimality is not None and view != AgendaView.table:
        doc["summary"] = {
            **document["summary"],
            "optimality": {**optimality, "score_bound": None},
        }
    if view == AgendaView.table:
        doc["longest_waiting"] = document["longest_waiting"][:LONGEST_WAITING]
        return doc

    def own_case(case_id: Any) -> bool:
        return view == AgendaView.care_provider and owners["cases"].get(str(case_id)) == me

    def own_vacancy(vacancy_id: Any) -> bool:
        return (
            view == AgendaView.housing_corporation
            and owners["vacancies"].get(str(vacancy_id)) == me
        )

    if view == AgendaView.care_provider:
        doc["proposals"] = [
            {**p, "passed_over": [o for o in p["passed_over"] if own_case(o["case_id"])]}
            for p in document["proposals"]
            if own_case(p["case_id"])
        ]
        doc["candidates_by_case"] = [
            e for e in document["candidates_by_case"] if own_case(e["case_id"])
        ]
        doc["candidates_by_vacancy"] = []
        doc["bottlenecks"] = _restrict_bottlenecks(document["bottlenecks"], own_case)
        doc["longest_waiting"] = [w for w in document["longest_waiting"] if own_case(w["case_id"])][
            :LONGEST_WAITING
        ]
        doc["vacancies_without_candidates"] = []
        doc["open_actions"] = [
            a
            for a in document["open_actions"]
            if a["owner_organisation_id"] == me or (a["case_id"] and own_case(a["case_id"]))
        ]
    else:
        doc["proposals"] = [
            {**p, "components": None, "passed_over": None}
            for p in document["proposals"]
            if own_vacancy(p["vacancy_id"])
        ]
        doc["candidates_by_case"] = []
        doc["candidates_by_vacancy"] = [
            {
                **e,
                "excluded_counts": None,
                "candidates": [{**c, "components": None} for c in e["candidates"]],
            }
            for e in document["candidates_by_vacancy"]
            if own_vacancy(e["vacancy_id"])
        ]
        doc["bottlenecks"] = None
        doc["longest_waiting"] = []
        doc["vacancies_without_candidates"] = [
            {**v, "excluded_counts": None}
            for v in document["vacancies_without_candidates"]
            if own_vacancy(v["vacancy_id"])
        ]
        doc["open_actions"] = [
            {**a, "case_id": None}
            for a in document["open_actions"]
            if a["owner_organisation_id"] == me
        ]
    mentioned = {p["vacancy_id"] for p in doc["proposals"]}
    mentioned |= {c["vacancy_id"] for e in doc["candidates_by_case"] for c in e["candidates"]}
    mentioned |= {e["vacancy_id"] for e in doc["candidates_by_vacancy"]}
    mentioned |= {v["vacancy_id"] for v in doc["vacancies_without_candidates"]}
    doc["vacancies"] = [v for v in document["vacancies"] if v["id"] in mentioned]
    return doc


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
    shown |= {str(o["case_id"]) for p in document["proposals"] for o in p["passed_over"] or []}
    shown |= {str(e["case_id"]) for e in document["candidates_by_case"]}
    shown |= {str(c["case_id"]) for e in document["candidates_by_vacancy"] for c in e["candidates"]}
    if document["bottlenecks"]:
        shown |= {str(b["case_id"]) for b in document["bottlenecks"]["blocked_cases"]}
    shown |= {str(w["case_id"]) for w in document["longest_waiting"]}
    shown |= {str(a["case_id"]) for a in document["open_actions"] if a.get("case_id")}
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
            limits = YearLimitsPublic.model_validate(inputs.limits, from_attributes=True)
            return (
                inputs.on,
                inputs.policy,
                limits,
                sorted(tuple(r) for r in inputs.cases),
                sorted(tuple(r) for r in inputs.vacancies),
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


def compute_loaded(loaded: Loaded, top_k: int) -> dict[str, Any]:
    """The full (table-view) document from loaded inputs; pure computation, no database."""
    result = run_engine(loaded.inputs, loaded.usage, top_k)
    return full_document(loaded.inputs, result, loaded.open_actions)


def compute(
    session: Session, table: OutflowTable, on: date, top_k: int
) -> tuple[dict, Owners, MatchInputs]:
    """The full (table-view) document for `on`, with the owners needed to cut views from it.

    Loads in the request's transaction, then commits it and computes outside any transaction
    (`app.db.outside_transaction`), so a big or slow table never holds the SQLite write lock or
    a PostgreSQL transaction while the engine runs; what the caller writes afterwards (the access
    log) goes into a new, short transaction.
    """
    loaded = load(session, table, on)
    with outside_transaction(session):
        document = compute_loaded(loaded, top_k)
    return document, owners_of(loaded.inputs), loaded.inputs


def agenda(
    session: Session, context: AccessContext, table: OutflowTable, on: date, top_k: int
) -> dict[str, Any]:
    """Compute the live agenda for `on` as the caller may see it, logging the cases it shows."""
    view = view_for(context, table)
    document, owners, _ = compute(session, table, on, top_k)
    restricted = restrict(document, view, context.principal.require_organisation(), owners)
    log_cases_shown(session, context, restricted, table.id)
    return restricted


def why_not(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    case_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    on: date,
) -> dict[str, Any]:
    """Every rule a (case, dwelling) pair fails, with the figures; for the table and the case's
    own care provider (the reasons reveal case details a corporation may not see)."""
    view = view_for(context, table)
    if view == AgendaView.housing_corporation:
        raise Forbidden("Why-not answers reveal case details; ask the table's chair.")
    connection = session.connection()
    case = connection.execute(
        select(CASES).where(CASES.c.id == case_id, CASES.c.table_id == table.id)
    ).first()
    if case is None or (
        view == AgendaView.care_provider
        and case.care_provider_id != context.principal.organisation_id
    ):
        raise NotFound("No such case at this table.")
    vacancy = connection.execute(
        select(VACANCIES).where(VACANCIES.c.id == vacancy_id, VACANCIES.c.table_id == table.id)
    ).first()
    if vacancy is None:
        raise NotFound("No such vacancy at this table.")
    limits = get_limits(session, on.year)
    if limits is None:
        raise Unprocessable("date", f"no legal limits for {on.year}", "no_limits_for_year", "query")
    explanation = matching.explain_pair(
        case_profile(case),
        dwelling(vacancy),
        engine_policy(TablePolicy.model_validate(table.policy)),
        engine_limits(limits),
        on,
        matching.SpreadUsage(),
    )
    access_log.record(session, context, AccessAction.why_not, [(case.id, case.table_id)])
    return {
        "case_id": case.id,
        "vacancy_id": vacancy.id,
        "date": on,
        "feasible": explanation.feasible,
        "reasons": [{"code": r.code, "detail": r.detail} for r in explanation.reasons],
        "score": explanation.score,
        "components": _components(explanation.components),
    }
