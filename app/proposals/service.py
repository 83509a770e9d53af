"""Proposals and their decisions: the state machine of the meeting, and what follows from it
for the case and the dwelling (statuses, parking, placements, notifications)."""

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.cases import dates
from app.cases.models import Case, CaseTransition, effective_status
from app.limits.service import engine_limits, limits_for
from app.matching import SpreadUsage, applicable_income_limit
from app.matching.units import to_cents
from app.organisations.models import Organisation, OrganisationKind
from app.problems import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from app.proposals.models import (
    OPEN_PROPOSAL,
    REASONS,
    CaseProfile,
    DecisionCreate,
    IncomeCategory,
    Proposal,
    ProposalDecision,
    ProposalPublic,
)
from app.sqltypes import utcnow
from app.tables.models import OutflowTable, TableMember
from app.tables.policy import TablePolicy
from app.timeutil import today
from app.vacancies.models import Vacancy

# decision -> (statuses it may be taken from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "nominate": (frozenset({"proposed"}), "nominated"),
    "corporation_accept": (frozenset({"nominated"}), "accepted"),
    "corporation_decline": (
        frozenset({"proposed", "nominated", "accepted", "viewing_planned"}),
        "declined_by_corporation",
    ),
    "plan_viewing": (frozenset({"accepted"}), "viewing_planned"),
    "client_decline": (
        frozenset({"proposed", "nominated", "accepted", "viewing_planned"}),
        "declined_by_client",
    ),
    "sign_tenancy": (frozenset({"accepted", "viewing_planned"}), "tenancy_signed"),
    "house": (frozenset({"tenancy_signed"}), "housed"),
    "withdraw": (OPEN_PROPOSAL, "withdrawn"),
}
# Who takes a decision besides the chair, who may record any decision during the meeting.
DECIDERS: dict[str, frozenset[str]] = {
    "nominate": frozenset(),
    "withdraw": frozenset(),
    "corporation_accept": frozenset({"corporation"}),
    "corporation_decline": frozenset({"corporation"}),
    "plan_viewing": frozenset({"corporation", "care_provider"}),
    "sign_tenancy": frozenset({"corporation"}),
    "client_decline": frozenset({"care_provider"}),
    "house": frozenset({"corporation", "care_provider"}),
}


def etag(proposal: Proposal) -> str:
    return f'"{proposal.version}"'


def role_of(context: AccessContext, proposal: Proposal, table: OutflowTable) -> str | None:
    """chair, corporation, care_provider or municipality: what the caller is to this proposal."""
    me = context.principal.organisation_id
    if me == table.chair_organisation_id:
        return "chair"
    if me == proposal.corporation_id:
        return "corporation"
    if me == proposal.care_provider_id:
        return "care_provider"
    if context.principal.organisation_kind == OrganisationKind.municipality:
        return "municipality"
    return None


def get_proposal(
    session: Session, context: AccessContext, proposal_id: uuid.UUID
) -> tuple[Proposal, OutflowTable, str]:
    """The proposal, its table and the caller's role in it; 404 outside the caller's reach."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or context.principal.organisation_id is None:
        raise NotFound("No such proposal.")
    table = session.get(OutflowTable, proposal.table_id)
    member = session.get(TableMember, (proposal.table_id, context.principal.organisation_id))
    role = role_of(context, proposal, table) if table and member else None
    if table is None or role is None:
        raise NotFound("No such proposal.")
    return proposal, table, role


def visible_clause(context: AccessContext, table: OutflowTable):  # type: ignore[no-untyped-def]
    me = context.principal.organisation_id
    if me == table.chair_organisation_id or (
        context.principal.organisation_kind == OrganisationKind.municipality
    ):
        return Proposal.table_id == table.id
    return (Proposal.table_id == table.id) & (
        (Proposal.care_provider_id == me) | (Proposal.corporation_id == me)
    )


def list_proposals(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    meeting_id: uuid.UUID | None,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Proposal]:
    """Up to `limit` + 1 proposals (the extra one tells whether a next page exists); the first
    `limit`, which the caller shows, are in the access log."""
    query = select(Proposal).where(visible_clause(context, table))
    if meeting_id is not None:
        query = query.where(Proposal.meeting_id == meeting_id)
    if status is not None:
        query = query.where(Proposal.status == status)
    if after is not None:
        query = query.where(Proposal.id > after)
    rows = list(session.exec(query.order_by(Proposal.id).limit(limit + 1)))  # type: ignore[arg-type]
    log_shown(session, context, rows[:limit], AccessAction.proposal)
    return rows


def log_shown(
    session: Session, context: AccessContext, proposals: list[Proposal], action: AccessAction
) -> None:
    """A proposal names its case (and shows its score or decisions): each one shown is an
    access to the case file."""
    cases = dict.fromkeys((p.case_id, p.table_id) for p in proposals)  # one entry per case
    access_log.record(session, context, action, cases)


def show(session: Session, context: AccessContext, proposal: Proposal, role: str) -> ProposalPublic:
    """The proposal in the caller's view, its reading logged."""
    log_shown(session, context, [proposal], AccessAction.proposal)
    return proposal_public(session, proposal, role)


def proposal_public(session: Session, proposal: Proposal, role: str) -> ProposalPublic:
    decisions = session.exec(
        select(ProposalDecision)
        .where(ProposalDecision.proposal_id == proposal.id)
        .order_by(ProposalDecision.id)  # type: ignore[arg-type]
    ).all()
    data = proposal.model_dump()
    if role == "corporation":  # the score and its parts reveal case details
        data["score"] = data["components"] = None
    data["decisions"] = [d.model_dump() for d in decisions]
    return ProposalPublic.model_validate(data)


def _record_case_status(
    session: Session, case: Case, new_status: str, actor: uuid.UUID, api_key: uuid.UUID | None
) -> None:
    """Move the case along with the proposal; the decision itself carries the reason."""
    before = effective_status(case.status, case.ready_since, parked_until=case.parked_until)
    case.status = new_status
    case.version += 1
    case.updated_at = utcnow()
    if new_status in ("housed", "withdrawn"):
        case.closed_at = utcnow()
    after = effective_status(case.status, case.ready_since, parked_until=case.parked_until)
    session.add(case)
    if after != before:
        session.add(
            CaseTransition(
                case_id=case.id,
                from_status=before.value,
                to_status=after.value,
                actor_organisation_id=actor,
                actor_api_key_id=api_key,
            )
        )


def _set_vacancy_status(vacancy: Vacancy, status: str, session: Session) -> None:
    if vacancy.status != status:
        vacancy.status = status
        vacancy.version += 1
        vacancy.updated_at = utcnow()
        session.add(vacancy)


def decide(
    session: Session,
    context: AccessContext,
    proposal: Proposal,
    table: OutflowTable,
    role: str,
    data: DecisionCreate,
    if_match: str | None,
) -> Proposal:
    """Take one decision; refuses illegal transitions (409) and a lost race (409/412)."""
    decision = data.decision.value
    allowed_from, to_status = TRANSITIONS[decision]
    if role != "chair" and role not in DECIDERS[decision]:
        raise Forbidden(f"{decision} is not yours to decide on this proposal.")
    check_if_match_proposal(if_match, proposal)
    if proposal.status not in allowed_from:
        raise Conflict(
            f"Cannot {decision} a proposal that is {proposal.status}.",
            code="illegal_transition",
            current_status=proposal.status,
        )
    if decision != "house" and (data.effective_date or data.lease_form):
        raise Unprocessable(
            "effective_date" if data.effective_date else "lease_form",
            "only for the house decision",
            "field_not_allowed",
        )
    reasons = REASONS.get(decision)
    reason = data.reason.value if data.reason else None
    if reasons is not None and reason not in reasons:
        raise Unprocessable(
            "reason", f"required for {decision}, one of: {', '.join(sorted(reasons))}"
        )
    if reasons is None and reason is not None:
        raise Unprocessable("reason", f"{decision} takes no reason", "reason_not_allowed")
    # Optimistic lock: of two members deciding at once, the second finds the version moved.
    claimed = session.exec(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.version == proposal.version)  # type: ignore[arg-type]
        .values(version=proposal.version + 1)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "Another decision on this proposal came first; reload it.", code="decided_concurrently"
        )
    session.refresh(proposal)
    from_status = proposal.status
    proposal.status = to_status
    proposal.status_reason = reason
    proposal.updated_at = utcnow()
    case = session.get(Case, proposal.case_id)
    vacancy = session.get(Vacancy, proposal.vacancy_id)
    assert case is not None and vacancy is not None
    actor = context.principal.require_organisation()
    key = context.principal.api_key_id
    parked_until = None
    if to_status not in OPEN_PROPOSAL:
        proposal.closed_at = utcnow()
    if decision == "nominate":
        _record_case_status(session, case, "nominated", actor, key)
    elif decision == "house":
        proposal.housed_on = _housing_date(session, proposal, data)
        dates.check_move_in(case, proposal.housed_on)
        proposal.lease_form = _lease_form(case, vacancy, data)
        case.exit_date = proposal.housed_on
        _record_case_status(session, case, "housed", actor, key)
        dates.flush_dates(session)  # a racing edit of ready_since surfaces here as a 409
        _set_vacancy_status(vacancy, "let", session)
        _supersede_others(session, proposal, actor, key)
    elif to_status not in OPEN_PROPOSAL:
        parked_until = _release(
            session, proposal, case, vacancy, decision, reason, table, actor, key
        )
    session.add(proposal)
    session.add(
        ProposalDecision(
            proposal_id=proposal.id,
            decision=decision,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            parked_until=parked_until,
            actor_organisation_id=actor,
            actor_api_key_id=key,
        )
    )
    session.flush()
    log_shown(session, context, [proposal], AccessAction.decision)
    _notify(session, proposal, table, decision, from_status, reason)
    return proposal


def _housing_date(session: Session, proposal: Proposal, data: DecisionCreate) -> date:
    from app.meetings.models import Meeting

    meeting = session.get(Meeting, proposal.meeting_id)
    moved_in = data.effective_date or today()
    if moved_in > today():
        raise Unprocessable("effective_date", "lies in the future", "date_in_future")
    if meeting is not None and moved_in < meeting.date:
        raise Unprocessable(
            "effective_date", f"before the meeting of {meeting.date}", "date_before_meeting"
        )
    return moved_in


def _lease_form(case: Case, vacancy: Vacancy, data: DecisionCreate) -> str:
    """The lease the client got: as stated, or the only one case and dwelling allow."""
    allowed = set(vacancy.contract_forms)
    if case.contract_form != "either":
        allowed &= {case.contract_form}
    if data.lease_form is not None:
        if data.lease_form.value not in allowed:
            raise Unprocessable(
                "lease_form", f"case and dwelling allow {sorted(allowed)}", "lease_form_mismatch"
            )
        return data.lease_form.value
    if len(allowed) != 1:
        raise Unprocessable(
            "lease_form",
            "required: case and dwelling allow both lease forms",
            "lease_form_required",
        )
    return allowed.pop()


def check_if_match_proposal(if_match: str | None, proposal: Proposal) -> None:
    if if_match is None:
        return
    candidates = {c.strip().removeprefix("W/") for c in if_match.split(",")}
    if "*" not in candidates and etag(proposal) not in candidates:
        raise PreconditionFailed(
            f"The proposal changed (current ETag {etag(proposal)}); reload it and decide again."
        )


def _release(
    session: Session,
    proposal: Proposal,
    case: Case,
    vacancy: Vacancy,
    decision: str,
    reason: str | None,
    table: OutflowTable,
    actor: uuid.UUID,
    key: uuid.UUID | None,
) -> date | None:
    """A proposal ends without housing: the case is open again (perhaps parked), the dwelling
    on offer again unless the corporation says it is no longer available."""
    parked_until = None
    if decision in ("client_decline", "corporation_decline") and reason:
        days = TablePolicy.model_validate(table.policy).decline_parking_days.get(reason, 0)
        if days > 0:
            parked_until = today() + timedelta(days=days)
    if case.status in ("proposed", "nominated"):
        case.parked_until = parked_until or case.parked_until
        _record_case_status(session, case, "registered", actor, key)
    if vacancy.status == "proposed":
        gone = decision == "corporation_decline" and reason == "dwelling_unavailable"
        _set_vacancy_status(vacancy, "withdrawn" if gone else "available", session)
    return parked_until


def _supersede_others(
    session: Session, housed: Proposal, actor: uuid.UUID, key: uuid.UUID | None
) -> None:
    """A housed case closes its other open proposals, and its dwelling's."""
    others = session.exec(
        select(Proposal).where(
            Proposal.id != housed.id,
            Proposal.status.in_(OPEN_PROPOSAL),  # type: ignore[attr-defined]
            or_(Proposal.case_id == housed.case_id, Proposal.vacancy_id == housed.vacancy_id),
        )
    ).all()
    for other in others:
        _close_by_system(session, other, "superseded", None, actor, key)


def _close_by_system(
    session: Session,
    proposal: Proposal,
    status: str,
    reason: str | None,
    actor: uuid.UUID,
    key: uuid.UUID | None,
) -> None:
    from_status = proposal.status
    proposal.status = status
    proposal.status_reason = reason
    proposal.closed_at = utcnow()
    proposal.updated_at = utcnow()
    proposal.version += 1
    session.add(proposal)
    session.add(
        ProposalDecision(
            proposal_id=proposal.id,
            decision="withdraw",
            from_status=from_status,
            to_status=status,
            reason=reason,
            automatic=True,
            actor_organisation_id=actor,
            actor_api_key_id=key,
        )
    )
    case = session.get(Case, proposal.case_id)
    vacancy = session.get(Vacancy, proposal.vacancy_id)
    if case is not None and case.status in ("proposed", "nominated"):
        _record_case_status(session, case, "registered", actor, key)
    if vacancy is not None and vacancy.status == "proposed":
        _set_vacancy_status(vacancy, "available", session)


def close_for_case(session: Session, case: Case, context: AccessContext) -> None:
    """The care provider put the case on hold or withdrew it: its open proposals end."""
    for proposal in _open_for(session, Proposal.case_id == case.id):
        _close_by_system(
            session,
            proposal,
            "withdrawn",
            "case_changed",
            context.principal.require_organisation(),
            context.principal.api_key_id,
        )


def close_for_vacancy(session: Session, vacancy: Vacancy, context: AccessContext) -> None:
    """The corporation withdrew the dwelling: its open proposals end and the cases are free."""
    for proposal in _open_for(session, Proposal.vacancy_id == vacancy.id):
        _close_by_system(
            session,
            proposal,
            "withdrawn",
            "dwelling_changed",
            context.principal.require_organisation(),
            context.principal.api_key_id,
        )


def _open_for(session: Session, clause) -> list[Proposal]:  # type: ignore[no-untyped-def]
    return list(
        session.exec(
            select(Proposal).where(clause, Proposal.status.in_(OPEN_PROPOSAL))  # type: ignore[attr-defined]
        )
    )


def _notify(
    session: Session,
    proposal: Proposal,
    table: OutflowTable,
    decision: str,
    from_status: str,
    reason: str | None,
) -> None:
    from app.webhooks.service import emit

    concerned = {proposal.care_provider_id, proposal.corporation_id, table.chair_organisation_id}
    emit(
        session,
        event_type="proposal.decided",
        organisation_ids=concerned,
        data={
            "proposal_id": str(proposal.id),
            "meeting_id": str(proposal.meeting_id),
            "table_id": str(table.id),
            "case_id": str(proposal.case_id),
            "vacancy_id": str(proposal.vacancy_id),
            "decision": decision,
            "from_status": from_status,
            "to_status": proposal.status,
            "reason": reason,
        },
    )
    if proposal.status == "housed":
        # The municipalities read every proposal of the table; other care providers and
        # corporations see nothing of this one in the API, so they are not told either (a
        # stream of housings would also give them the exact counts the monitor suppresses).
        municipalities = session.exec(
            select(TableMember.organisation_id)
            .join(Organisation, Organisation.id == TableMember.organisation_id)  # type: ignore[arg-type]
            .where(
                TableMember.table_id == table.id,
                Organisation.kind == OrganisationKind.municipality.value,
            )
        ).all()
        emit(
            session,
            event_type="case.housed",
            organisation_ids=concerned | set(municipalities),
            data={
                "case_id": str(proposal.case_id),
                "vacancy_id": str(proposal.vacancy_id),
                "proposal_id": str(proposal.id),
                "table_id": str(table.id),
                "housed_on": proposal.housed_on.isoformat() if proposal.housed_on else None,
            },
        )


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def spread_usage(
    session: Session, table_id: uuid.UUID, on: date, window_months: int
) -> SpreadUsage:
    """Open proposals plus placements of the last `window_months`, per complex and neighbourhood."""
    since = _months_before(on, window_months)
    rows = session.exec(
        select(Proposal.complex_key, Proposal.neighbourhood_code).where(
            Proposal.table_id == table_id,
            or_(
                Proposal.status.in_(OPEN_PROPOSAL),  # type: ignore[attr-defined]
                (Proposal.status == "housed") & (Proposal.housed_on >= since),  # type: ignore[operator]
            ),
        )
    ).all()
    return SpreadUsage(
        per_complex=dict(Counter(r[0] for r in rows)),
        per_neighbourhood=dict(Counter(r[1] for r in rows)),
    )


def case_profile(
    session: Session, context: AccessContext, proposal: Proposal, role: str
) -> CaseProfile:
    """The minimal profile of a proposed case (logged: it is an access to the case file)."""
    from app.agenda.service import case_profile as engine_case

    case = session.get(Case, proposal.case_id)
    assert case is not None
    on = proposal.housed_on or today()
    limits = limits_for(session, on)
    household = case.household_adults + case.household_children
    # The same function the rules use decides the passend-toewijzen limit (pension age included).
    limit = applicable_income_limit(engine_case(case), engine_limits(limits), on)
    daeb = limits.daeb_income_limit_single if household == 1 else limits.daeb_income_limit_multi
    if to_cents(case.income_annual_taxable) <= limit.limit_cents:
        category = IncomeCategory.within_passend_toewijzen_limit
    elif case.income_annual_taxable > daeb:
        category = IncomeCategory.above_daeb_limit
    else:
        category = IncomeCategory.within_daeb_limit
    access_log.record(session, context, AccessAction.profile, [(case.id, case.table_id)])
    return CaseProfile(
        proposal_id=proposal.id,
        case_id=case.id,
        household_size=household,
        support_intensity=case.support_intensity,
        needs_complex_manager=case.support_needs_complex_manager,
        income_category=category,
        contract_form=case.contract_form,
    )


def create_from_agenda(
    session: Session,
    meeting_id: uuid.UUID,
    table: OutflowTable,
    document: dict[str, Any],
    context: AccessContext,
) -> list[Proposal]:
    """Turn the agenda's proposals into proposals of the meeting; cases and dwellings follow."""
    actor = context.principal.require_organisation()
    created = []
    for item in document["proposals"]:
        case = session.get(Case, uuid.UUID(item["case_id"]))
        vacancy = session.get(Vacancy, uuid.UUID(item["vacancy_id"]))
        assert case is not None and vacancy is not None
        proposal = Proposal(
            meeting_id=meeting_id,
            table_id=table.id,
            case_id=case.id,
            vacancy_id=vacancy.id,
            care_provider_id=case.care_provider_id,
            corporation_id=vacancy.corporation_id,
            complex_key=f"{vacancy.corporation_id}:{vacancy.complex_ref or f'#{vacancy.id}'}",
            neighbourhood_code=vacancy.address_neighbourhood_code,
            contingent=vacancy.contingent,
            score=item["score"],
            components=item["components"],
        )
        session.add(proposal)
        _record_case_status(session, case, "proposed", actor, context.principal.api_key_id)
        _set_vacancy_status(vacancy, "proposed", session)
        created.append(proposal)
    session.flush()
    return created
