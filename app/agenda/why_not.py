"""Why the agenda of a date does or does not propose a (case, dwelling) pair: the statuses that
keep either out of it, else the rules the pair fails, its score and the trade-off.
"""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from sqlmodel import select as select_models  # typed for models; `select` for the Core tables

from app import matching
from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.agenda.document import _also_housed, _changes, _components, _fallback_json
from app.agenda.inputs import CASES, VACANCIES, Loaded, engine_arguments, load, owners_of
from app.agenda.models import AgendaView
from app.agenda.views import _hide_other_cases, view_for
from app.cases.models import CaseStatus
from app.database import outside_transaction
from app.problems import BUSY_RETRY_AFTER, Conflict, Forbidden, NotFound
from app.tables.models import OutflowTable
from app.vacancies.models import VacancyStatus

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
        select_models(Proposal, col(Meeting.date))
        .join(Meeting, col(Meeting.id) == col(Proposal.meeting_id))
        .where(clause, col(Proposal.status).in_(OPEN_PROPOSAL))
        .order_by(col(Proposal.id))
    ).first()


def _proposal_detail(found: Any, visible_case: Any) -> dict[str, Any]:
    if found is None:  # the status says so, but no open proposal row: show what is known
        return {"proposal_id": None}
    proposal, meeting_date = found
    # Of another's case the viewer learns that the dwelling is taken, not the proposal: its id
    # and status follow that client (accepted, a viewing planned), and the proposal is a 404.
    shown = visible_case(proposal.case_id, proposal.care_provider_id)
    return {
        "proposal_id": str(proposal.id) if shown else None,
        "proposal_status": proposal.status if shown else None,
        "meeting_date": meeting_date.isoformat(),
        "vacancy_id": str(proposal.vacancy_id),
        "case_id": str(proposal.case_id) if shown else None,
    }


def case_status_reasons(
    session: Session, case: Any, on: date, visible_case: Any
) -> list[dict[str, Any]]:
    """Why the case takes no part in the agenda of `on` (empty: it does), with the figures."""
    from app.proposals.models import CASE_IN_PROPOSAL, Proposal

    reasons: list[dict[str, Any]] = []
    if case.status == CaseStatus.on_hold:
        reasons.append({"code": "case_on_hold", "detail": {"status_reason": case.status_reason}})
    elif case.status in CASE_IN_PROPOSAL:
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


SPREAD_CAPS = ("complex_cap_reached", "neighbourhood_cap_reached")


def _reason(code: str, detail: dict[str, Any], view: AgendaView) -> dict[str, Any]:
    """A failed rule as the viewer sees it: a care provider gets a spread cap's `usage` null.
    It counts the placements in one building or neighbourhood over the window, other providers'
    clients included, a count of people as small as the cap (the monitor hides coarser
    placement counts); the code and the cap still say why the pair is out."""
    if view == AgendaView.care_provider and code in SPREAD_CAPS:
        detail = detail | {"usage": None}
    return {"code": code, "detail": detail}


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
            headers={"Retry-After": str(BUSY_RETRY_AFTER)},  # a lost race: worth repeating
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
            "reasons": [_reason(r.code, r.detail, view) for r in explained.reasons],
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
    changes, also_housed = _changes(trade.changes), _also_housed(trade.also_housed)
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
        "also_housed": also_housed if table_view else _hide_other_cases(also_housed, visible_case),
    }


def _cases_in_why_not(answer: dict[str, Any]) -> set[uuid.UUID]:
    """Other cases a why-not answer names (for the access log)."""
    shown = {r["detail"].get("case_id") for r in answer["reasons"]}
    trade = answer["trade_off"]
    if trade is not None:
        shown.add(trade["vacancy_proposed_to"])
        shown |= {c["case_id"] for c in (*trade["changes"], *trade["also_housed"])}
    return {uuid.UUID(str(c)) for c in shown if c}
