# Size: a decision and everything it moves (case, dwelling, parking, notifications) under one
# lock order; split, the lock order would be spread over modules.
"""Proposals and their decisions: what a decision means for the case and the dwelling (each
moved through its own lifecycle), parking, placements and notifications.

Lock order (see app.versioning): case, proposal, vacancy. At most one open proposal per case and
per dwelling is kept by partial unique indexes; publishing checks every case and dwelling against
the version the agenda was computed from.
"""

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.aftercare import service as aftercare
from app.agenda.engine_inputs import case_profile as engine_case
from app.cases import dates
from app.cases import lifecycle as case_lifecycle
from app.cases.lifecycle import CaseEvent
from app.cases.models import Case, CaseTransition, ContractForm
from app.database import LostRace
from app.history import next_after_last
from app.ids import unlinked_uuid7s
from app.limits.service import engine_limits, limits_for
from app.matching import SpreadUsage, applicable_income_limit
from app.matching.units import to_cents
from app.organisations.models import Organisation, OrganisationKind
from app.principal import PROPOSALS_FOR_ORGANISATIONS
from app.problems import Conflict, Forbidden, NotFound, Unprocessable
from app.proposals import lifecycle
from app.proposals.models import (
    OPEN_PROPOSAL,
    REASONS,
    CaseProfile,
    Decision,
    DecisionCreate,
    DecisionReason,
    IncomeCategory,
    Proposal,
    ProposalDecision,
    ProposalPublic,
    ProposalStatus,
)
from app.sqltypes import utcnow
from app.tables.models import OutflowTable, TableMember
from app.tables.policy import TablePolicy
from app.tables.service import reader_table_ids
from app.timeutil import local_date, today, within_horizon
from app.vacancies import lifecycle as vacancy_lifecycle
from app.vacancies.lifecycle import VacancyEvent
from app.vacancies.models import Vacancy
from app.versioning import (
    check_if_match,
    document_etag,
    etag,
    flush,
    lock,
    lock_one,
    read_condition,
)


class StaleAgenda(Exception):
    """A case or dwelling of the agenda changed after the agenda was computed."""


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
    """The proposal, its table and the caller's role in it; 404 outside the caller's reach,
    403 for the operator (`refuse_operator`) when it exists."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    refuse_operator(context)
    table = session.get(OutflowTable, proposal.table_id)
    member = session.get(TableMember, (proposal.table_id, context.principal.organisation_id))
    role = role_of(context, proposal, table) if table and member else None
    if table is None or role is None:
        raise NotFound("No such proposal.")
    return proposal, table, role


def refuse_operator(context: AccessContext) -> None:
    """403 for the operator: it sees the tables and their meetings (each with its count of
    proposals), so it is refused a proposal, which names a case, rather than told there is
    none, as it is refused case files, agendas and minutes."""
    if context.principal.organisation_id is None:
        raise Forbidden(PROPOSALS_FOR_ORGANISATIONS)


def visible_clause(context: AccessContext, table: OutflowTable) -> ColumnElement[bool]:
    me = context.principal.organisation_id
    if me == table.chair_organisation_id or (
        context.principal.organisation_kind == OrganisationKind.municipality
    ):
        return col(Proposal.table_id) == table.id
    return (col(Proposal.table_id) == table.id) & (
        (col(Proposal.care_provider_id) == me) | (col(Proposal.corporation_id) == me)
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
    `limit`, which the caller shows, are in the access log. 403 for the operator."""
    refuse_operator(context)
    query = select(Proposal).where(visible_clause(context, table))
    if meeting_id is not None:
        query = query.where(Proposal.meeting_id == meeting_id)
    if status is not None:
        query = query.where(Proposal.status == status)
    if after is not None:
        query = query.where(Proposal.id > after)
    rows = list(session.exec(query.order_by(col(Proposal.id)).limit(limit + 1)))
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
    return proposal_public(session, proposal, role, context.principal.organisation_id)


def proposal_etag(proposal: Proposal, shown: ProposalPublic) -> str:
    """The ETag of a read of the proposal that showed `shown` (`proposal_public` in the
    caller's role): its version and a digest of what the read shows. The corporation's read
    leaves out the score, so with the version alone two representations shared one strong
    ETag, and one party's copy was a 304 to the other."""
    return document_etag(proposal, shown.model_dump(mode="json"))


def proposal_public(
    session: Session, proposal: Proposal, role: str, viewer: uuid.UUID | None
) -> ProposalPublic:
    """The proposal as `role` reads it, for the organisation `viewer`. A decision names its
    API key only to the organisation that took it, as an action's history does: the chair's
    and the care provider's keys were shown to the corporation (and each party's to the
    others), which told them which system or integration of another organisation acted."""
    decisions = session.exec(
        select(ProposalDecision)
        .where(ProposalDecision.proposal_id == proposal.id)
        .order_by(col(ProposalDecision.id))
    ).all()
    data = proposal.model_dump()
    if role == "corporation":  # the score and its parts reveal case details
        data["score"] = data["components"] = None
    data["decisions"] = [
        {
            **d.model_dump(),
            "actor_api_key_id": d.actor_api_key_id if d.actor_organisation_id == viewer else None,
        }
        for d in decisions
    ]
    return ProposalPublic.model_validate(data)


def _lock_parties(session: Session, proposal: Proposal) -> tuple[Case, Proposal, Vacancy]:
    """Lock the proposal's case, the proposal and its dwelling (in the lock order), as
    committed."""
    case = lock(session, Case, [proposal.case_id])[0]
    proposal = lock_one(session, proposal)
    vacancy = lock(session, Vacancy, [proposal.vacancy_id])[0]
    return case, proposal, vacancy


def may_decide(role: str, decision: Decision) -> bool:
    """Whether a party in `role` takes `decision` (the chair takes every one)."""
    return role == "chair" or role in lifecycle.DECIDERS[decision]


def refuse_decision(role: str, decision: Decision) -> None:
    """403 unless a party in `role` takes `decision`."""
    if not may_decide(role, decision):
        raise Forbidden(f"{decision} is not yours to decide on this proposal.")


def decide(
    session: Session,
    context: AccessContext,
    proposal: Proposal,
    table: OutflowTable,
    role: str,
    data: DecisionCreate,
    if_match: str | None,
) -> Proposal:
    """Take one decision; refuses illegal transitions (409) and a lost race (409/412).

    Of two members deciding at once the first wins; the second finds the proposal's version
    moved since it read it and gets 409 `decided_concurrently` (412 when it sent If-Match).
    """
    decision = data.decision
    refuse_decision(role, decision)
    seen = proposal.version

    def shown() -> str:  # the caller's read of the proposal as it is now (locked, below)
        return proposal_etag(
            proposal, proposal_public(session, proposal, role, context.principal.organisation_id)
        )

    checked, _ = read_condition(if_match, proposal, shown)
    case, proposal, vacancy = _lock_parties(session, proposal)
    check_if_match(checked, etag(proposal), "proposal", shown=shown)
    if proposal.version != seen:
        raise Conflict(
            "Another decision on this proposal came first; reload it.", code="decided_concurrently"
        )
    lifecycle.check(proposal, decision)
    _check_meeting_held(session, proposal, decision)
    if decision != Decision.house and (data.effective_date or data.lease_form):
        raise Unprocessable(
            "effective_date" if data.effective_date else "lease_form",
            "only for the house decision",
            "field_not_allowed",
        )
    if decision == Decision.plan_viewing:
        proposal.viewing_on = _viewing_date(proposal, data)
    elif data.viewing_date is not None:
        raise Unprocessable("viewing_date", "only for plan_viewing", "field_not_allowed")
    reasons = REASONS.get(decision)
    reason = data.reason.value if data.reason else None
    if reasons is not None and reason not in reasons:
        raise Unprocessable(
            "reason",
            f"required for {decision}, one of: {', '.join(sorted(reasons))}",
            "required" if reason is None else "invalid",
        )
    if reasons is None and reason is not None:
        raise Unprocessable("reason", f"{decision} takes no reason", "reason_not_allowed")
    if decision == Decision.house:
        proposal.housed_on = _housing_date(session, proposal, data)
        dates.check_move_in(case, proposal.housed_on)
        _check_available(vacancy, proposal.housed_on)
        proposal.lease_form = _lease_form(case, vacancy, data)
    actor = context.principal.require_organisation()
    key = context.principal.api_key_id
    from_status = proposal.status
    record = lifecycle.fire(session, proposal, decision, reason=reason, actor=actor, api_key=key)
    if decision == Decision.nominate:
        case_lifecycle.fire(session, case, CaseEvent.nominate, actor=actor, api_key=key)
    elif decision == Decision.house:
        case_lifecycle.fire(
            session, case, CaseEvent.house, actor=actor, api_key=key, exit_date=proposal.housed_on
        )
        vacancy_lifecycle.fire(session, vacancy, VacancyEvent.let)
        aftercare.start_tenancy(session, proposal)  # the follow-up after the move starts here
    elif not lifecycle.is_open(proposal.status):
        record.parked_until = _release(
            session, case, vacancy, decision, reason, table, actor=actor, api_key=key
        )
    # The database checks the move-in against the ready date too: 409 if a race broke it.
    dates.flush_dates(session, if_match, "proposal")
    log_shown(session, context, [proposal], AccessAction.decision)
    _notify(session, proposal, table, decision, from_status, reason)
    return proposal


def meeting_held(session: Session, proposal: Proposal) -> bool:
    """Whether the proposal's meeting has taken place (its day is today or past)."""
    from app.meetings.models import Meeting

    meeting = session.get(Meeting, proposal.meeting_id)
    return meeting is None or meeting.date <= today()


def _check_meeting_held(session: Session, proposal: Proposal, decision: Decision) -> None:
    """The parties decide on a proposal at its meeting or after: before the meeting's day only
    the chair's `withdraw` is taken (a published agenda's mistake is taken back before the
    table sits). 409 `meeting_not_held` otherwise."""
    if decision != Decision.withdraw and not meeting_held(session, proposal):
        raise Conflict(
            "The proposal's meeting has not taken place yet; decisions on it are recorded "
            "from the meeting's day.",
            code="meeting_not_held",
        )


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


def _check_available(vacancy: Vacancy, moved_in: date) -> None:
    """400 `date_before_available_from` when the move-in precedes the day the dwelling can be
    let: an agenda proposes dwellings that come free up to the policy's `horizon_days` after
    its meeting, so the client moves in on that day at the earliest. The dwelling is locked
    (`_lock_parties`), so a push moving its `available_from` waits for this decision."""
    if moved_in < vacancy.available_from:
        raise Unprocessable(
            "effective_date",
            f"before the dwelling is available on {vacancy.available_from}",
            "date_before_available_from",
        )


def made_on(proposal: Proposal) -> date:
    """The day the proposal was made, in Amsterdam: the first day a viewing may be planned on."""
    return local_date(proposal.created_at)


def _viewing_date(proposal: Proposal, data: DecisionCreate) -> date:
    """The planned viewing's day: required, not before the proposal was made (`made_on`) and not
    more than a year ahead (`within_horizon`)."""
    if data.viewing_date is None:
        raise Unprocessable("viewing_date", "required for plan_viewing", "required")
    made = made_on(proposal)
    if data.viewing_date < made:
        raise Unprocessable(
            "viewing_date", f"before the proposal was made ({made})", "date_before_proposal"
        )
    return within_horizon("viewing_date", data.viewing_date)


def _lease_form(case: Case, vacancy: Vacancy, data: DecisionCreate) -> str:
    """The lease the client got: as stated, or the only one case and dwelling allow."""
    allowed = set(vacancy.contract_forms)
    if case.contract_form != ContractForm.either:
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


def _release(
    session: Session,
    case: Case,
    vacancy: Vacancy,
    decision: Decision,
    reason: str | None,
    table: OutflowTable,
    *,
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
) -> date | None:
    """A proposal ends without housing: the case is open again (perhaps parked), the dwelling
    on offer again unless the corporation says it is no longer available. Returns the date
    the case is parked until, if the decline parks it."""
    parked_until = None
    if decision in (Decision.client_decline, Decision.corporation_decline) and reason:
        days = TablePolicy.model_validate(table.policy).decline_parking_days.get(reason, 0)
        if days > 0:
            parked_until = today() + timedelta(days=days)
    case_lifecycle.fire(
        session, case, CaseEvent.release, actor=actor, api_key=api_key, parked_until=parked_until
    )
    gone = (
        decision == Decision.corporation_decline and reason == DecisionReason.dwelling_unavailable
    )
    event = VacancyEvent.release_unavailable if gone else VacancyEvent.release
    vacancy_lifecycle.fire(session, vacancy, event)
    return parked_until


def close_by_system(
    session: Session,
    proposal: Proposal,
    case: Case,
    vacancy: Vacancy,
    reason: DecisionReason,
    context: AccessContext,
) -> None:
    """The case or the dwelling left the table's reach: its open proposal is withdrawn (an
    `automatic` closure, not a decline of the pair) and the other party is free again. The
    parties are told, as of any other decision: a corporation that signed the lease learns that
    the case was withdrawn, a care provider that its client's dwelling was."""
    actor = context.principal.require_organisation()
    key = context.principal.api_key_id
    from_status = proposal.status
    lifecycle.fire(
        session,
        proposal,
        Decision.withdraw,
        reason=reason,
        actor=actor,
        api_key=key,
        automatic=True,
    )
    case_lifecycle.fire(session, case, CaseEvent.release, actor=actor, api_key=key)
    vacancy_lifecycle.fire(session, vacancy, VacancyEvent.release)
    table = session.get(OutflowTable, proposal.table_id)
    assert table is not None
    _notify(session, proposal, table, Decision.withdraw, from_status, reason)


def close_for_case(session: Session, case: Case, context: AccessContext) -> None:
    """The care provider put the case on hold or withdrew it: its open proposal ends.

    The caller holds the case's lock, so no proposal of the case opens or closes meanwhile.
    """
    proposals = lock(session, Proposal, _open_ids(session, col(Proposal.case_id) == case.id))
    vacancies = {v.id: v for v in lock(session, Vacancy, [p.vacancy_id for p in proposals])}
    for proposal in proposals:
        vacancy = vacancies[proposal.vacancy_id]
        close_by_system(session, proposal, case, vacancy, DecisionReason.case_changed, context)


def close_for_vacancy(session: Session, vacancy: Vacancy, context: AccessContext) -> Vacancy:
    """The corporation withdraws the dwelling: its open proposal ends and the case is free.

    Locks the proposal's case, the proposal and then the dwelling (the lock order); returns
    the dwelling as committed. `LostRace` (the request runs again) when a proposal for it
    opened between the two looks.
    """
    seen = session.exec(
        select(Proposal.id, Proposal.case_id).where(
            Proposal.vacancy_id == vacancy.id,
            col(Proposal.status).in_(OPEN_PROPOSAL),
        )
    ).all()
    open_ids = [proposal_id for proposal_id, _ in seen]
    cases = {c.id: c for c in lock(session, Case, [case_id for _, case_id in seen])}
    proposals = lock(session, Proposal, open_ids)
    vacancy = lock_one(session, vacancy)
    if set(_open_ids(session, col(Proposal.vacancy_id) == vacancy.id)) - set(open_ids):
        # A publish proposed it between the two looks: the request runs again (`app.transient`)
        # and then locks that proposal's case too, as for a proposal made earlier.
        raise LostRace("the dwelling was proposed while it was withdrawn")
    for proposal in proposals:
        if lifecycle.is_open(proposal.status):
            case = cases[proposal.case_id]
            close_by_system(
                session, proposal, case, vacancy, DecisionReason.dwelling_changed, context
            )
    return vacancy


def _open_ids(session: Session, clause: ColumnElement[bool]) -> list[uuid.UUID]:
    return list(
        session.exec(select(Proposal.id).where(clause, col(Proposal.status).in_(OPEN_PROPOSAL)))
    )


def _notify(
    session: Session,
    proposal: Proposal,
    table: OutflowTable,
    decision: Decision,
    from_status: ProposalStatus,
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
    if proposal.status == ProposalStatus.housed:
        # The municipalities read every proposal of the table; other care providers and
        # corporations see nothing of this one in the API, so they are not told either (a
        # stream of housings would also give them the exact counts the monitor suppresses).
        municipalities = session.exec(
            select(TableMember.organisation_id)
            .join(Organisation, col(Organisation.id) == col(TableMember.organisation_id))
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
                col(Proposal.status).in_(OPEN_PROPOSAL),
                (col(Proposal.status) == ProposalStatus.housed)
                & (col(Proposal.housed_on) >= since),
            ),
        )
    ).all()
    return SpreadUsage(
        per_complex=dict(Counter(r[0] for r in rows)),
        per_neighbourhood=dict(Counter(r[1] for r in rows)),
    )


def profile_visible(
    session: Session, context: AccessContext, proposal: Proposal, role: str
) -> bool:
    """Whether `role` may read the case profile of the proposal now: the corporation only while
    the proposal is open (it needs the profile to decide; once closed, the case is none of its
    business), the case's care provider always, and the table (chair, municipalities) while it
    reads the whole file: while the case is at a table it reads. The profile is read live, and
    a case whose proposal closed may move to another table (`case_in_proposal`), whose file the
    old table no longer reads."""
    if role == "corporation":
        return lifecycle.is_open(proposal.status)
    if role == "care_provider":
        return True
    case = session.get(Case, proposal.case_id)
    assert case is not None
    if case.table_id == proposal.table_id:
        return True
    now_at = select(OutflowTable.id).where(
        OutflowTable.id == case.table_id,
        col(OutflowTable.id).in_(reader_table_ids(context.principal)),
    )
    return session.exec(now_at).first() is not None


def refuse_profile(session: Session, context: AccessContext, proposal: Proposal, role: str) -> None:
    """403 when `profile_visible` says no: `proposal_closed` for the corporation once the
    proposal is closed, `case_moved` for a table the case has left."""
    if not profile_visible(session, context, proposal, role):
        if role == "corporation":
            raise Forbidden(
                "The corporation reads the case profile only while the proposal is open.",
                code="proposal_closed",
            )
        raise Forbidden(
            "The case has moved to another table since this proposal; its file, the profile "
            "included, is that table's to read.",
            code="case_moved",
        )


def case_profile(
    session: Session, context: AccessContext, proposal: Proposal, role: str
) -> CaseProfile:
    """The minimal profile of a proposed case (logged: it is an access to the case file).

    403 when `profile_visible` says no: `proposal_closed` for the corporation once the
    proposal is closed, `case_moved` for a table the case has left; 404 `case_anonymised` once
    retention removed the details it is made of."""
    refuse_profile(session, context, proposal, role)
    case = session.get(Case, proposal.case_id)
    assert case is not None
    if case.anonymised_at is not None:
        raise NotFound(
            "The case file is anonymised (retention): the details its profile is made of "
            "were removed.",
            code="case_anonymised",
        )
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
    meeting: Any,
    table: OutflowTable,
    document: dict[str, Any],
    versions: dict[str, int],
    context: AccessContext,
) -> list[Proposal]:
    """Turn the agenda's proposals into proposals of the meeting; cases and dwellings follow.

    `versions` maps the id of every case and dwelling the agenda was computed from to the
    version it read. Each proposed case and dwelling is locked and must still be at that
    version and free to propose, else StaleAgenda (the caller computes again). A second open
    proposal for a case or dwelling that slipped past is refused by the database: 409.
    """
    actor = context.principal.require_organisation()
    key = context.principal.api_key_id
    pairs = [(uuid.UUID(i["case_id"]), uuid.UUID(i["vacancy_id"])) for i in document["proposals"]]
    cases = {c.id: c for c in lock(session, Case, [c for c, _ in pairs])}
    vacancies = {v.id: v for v in lock(session, Vacancy, [v for _, v in pairs])}
    for case_id, vacancy_id in pairs:
        case, vacancy = cases.get(case_id), vacancies.get(vacancy_id)
        if (
            case is None
            or vacancy is None
            or case.version != versions.get(str(case_id))
            or vacancy.version != versions.get(str(vacancy_id))
            or not case_lifecycle.allows(case, CaseEvent.propose, on=meeting.date)
            or not vacancy_lifecycle.allows(vacancy, VacancyEvent.propose)
        ):
            raise StaleAgenda(f"case {case_id} or dwelling {vacancy_id} changed")
    created = []
    # Made in dwelling order with one timestamp, not in the agenda's order (best score first):
    # a proposal's id (time-ordered), its creation time and the order of the writes would
    # otherwise tell a corporation or care provider how the table ranked its proposals. The
    # ids are of that moment with random bits each (`unlinked_uuid7s`, in no order): ids made
    # one after another count on from the last, so the distance between two of a viewer's
    # own counted the proposals made between them. The cases' status changes take theirs in
    # the same call: a call each counted on from the last call's ids, in dwelling order.
    # That moment and those ids come after each proposed case's last status change, read
    # holding its lock as every status change does (`next_after_last`; the ids of a window
    # follow every id this process made, those it drew past each case's last among them): one
    # made on a server whose clock is ahead listed after this publication's, the case
    # proposed before it was ready. The same for the last decision on each proposed dwelling
    # (held as well), which a dwelling's timeline listed after the proposal it made room for.
    made_at = utcnow()
    for case_id in cases:
        subject = col(CaseTransition.case_id) == case_id
        made_at = next_after_last(session, CaseTransition, subject, made_at).at
    for vacancy_id in vacancies:
        of_dwelling = select(Proposal.id).where(col(Proposal.vacancy_id) == vacancy_id)
        subject = col(ProposalDecision.proposal_id).in_(of_dwelling)
        made_at = next_after_last(session, ProposalDecision, subject, made_at).at
    items = sorted(zip(document["proposals"], pairs, strict=True), key=lambda item: str(item[1][1]))
    ids = unlinked_uuid7s(2 * len(items), made_at)
    changes = ids[len(items) :]
    for n, (item, (case_id, vacancy_id)) in enumerate(items):
        proposal_id = ids[n]
        case, vacancy = cases[case_id], vacancies[vacancy_id]
        proposal = Proposal(
            id=proposal_id,
            meeting_id=meeting.id,
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
            created_at=made_at,
            updated_at=made_at,
        )
        session.add(proposal)
        # One moment for every row written here: stamped as written (in dwelling order, or
        # by id at the flush), the gaps between a viewer's own cases or dwellings counted
        # the other proposals written between them.
        case_lifecycle.fire(
            session,
            case,
            CaseEvent.propose,
            actor=actor,
            api_key=key,
            on=meeting.date,
            at=(made_at, changes[n]),
        )
        vacancy_lifecycle.fire(session, vacancy, VacancyEvent.propose, at=made_at)
        created.append(proposal)
    try:
        flush(session)
    except IntegrityError as exc:
        raise Conflict(
            "A case or dwelling of this agenda is in an open proposal already.",
            code="open_proposal_exists",
        ) from exc
    return created
