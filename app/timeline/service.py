"""Timelines: everything that happened to a case or a dwelling, in order, from the records the
workflow keeps (status transitions, proposals, decisions, actions)."""

import json
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.actions.models import Action, ActionChange, ActionTransition
from app.aftercare.models import AftercareAgreement, Checkpoint, Tenancy
from app.cases.models import Case, CaseTransition
from app.proposals.models import Proposal, ProposalDecision, ProposalStatus
from app.tables.service import reader_table_ids
from app.vacancies.models import Vacancy


def _entry(at: datetime, kind: str, actor: uuid.UUID | None, **fields: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, "actor_organisation_id": actor, **fields}


def _proposal_entries(session: Session, proposals: list[Proposal]) -> list[dict[str, Any]]:
    entries = []
    by_id = {p.id: p for p in proposals}
    for proposal in proposals:
        entries.append(
            _entry(
                proposal.created_at,
                "proposed",
                None,
                proposal_id=proposal.id,
                meeting_id=proposal.meeting_id,
                case_id=proposal.case_id,
                vacancy_id=proposal.vacancy_id,
                to_status=ProposalStatus.proposed,
            )
        )
    if by_id:
        decisions = session.exec(
            select(ProposalDecision).where(col(ProposalDecision.proposal_id).in_(list(by_id)))
        ).all()
        for d in decisions:
            proposal = by_id[d.proposal_id]
            entries.append(
                _entry(
                    d.at,
                    "decision",
                    d.actor_organisation_id,
                    proposal_id=d.proposal_id,
                    meeting_id=proposal.meeting_id,
                    case_id=proposal.case_id,
                    vacancy_id=proposal.vacancy_id,
                    decision=d.decision,
                    automatic=d.automatic,
                    from_status=d.from_status,
                    to_status=d.to_status,
                    reason=d.reason,
                )
            )
    return entries


def _sorted(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {
        "status_changed": 0,
        "proposed": 1,
        "decision": 2,
        "action_created": 3,
        "action_due_date_changed": 4,
        "action_closed": 4,
        "action_reopened": 4,
        "tenancy_started": 5,
        "aftercare_agreed": 6,
        "checkpoint_recorded": 7,
        "lease_transferred": 8,
        "tenancy_ended": 9,
    }
    # Last, the entry itself: two of one kind at one instant (a publication's proposals share
    # their moment) came in the order the database returned them, which may differ per read.
    return sorted(
        entries,
        key=lambda e: (
            e["at"],
            order.get(e["kind"], 9),
            json.dumps(e, sort_keys=True, default=str),
        ),
    )


def case_timeline(session: Session, context: AccessContext, case: Case) -> list[dict[str, Any]]:
    """The case's status changes, proposals, decisions and actions. Its care provider reads them
    all; a table reads the proposals and actions of a table it reads: a case moved to another
    table (its proposals closed) keeps its earlier table's proposals, meetings, dwellings and
    decisions, which are that table's business, as a moved dwelling's timeline does."""
    case_id = case.id
    entries = [
        _entry(
            t.at,
            "status_changed",
            t.actor_organisation_id,
            case_id=case_id,
            from_status=t.from_status,
            to_status=t.to_status,
            reason=t.reason,
        )
        for t in session.exec(select(CaseTransition).where(CaseTransition.case_id == case_id))
    ]
    proposals_of_case = select(Proposal).where(Proposal.case_id == case_id)
    actions_of_case = select(Action).where(Action.case_id == case_id)
    if context.principal.organisation_id != case.care_provider_id:
        readable = reader_table_ids(context.principal)
        proposals_of_case = proposals_of_case.where(col(Proposal.table_id).in_(readable))
        actions_of_case = actions_of_case.where(col(Action.table_id).in_(readable))
    entries += _proposal_entries(session, list(session.exec(proposals_of_case)))
    entries += action_entries(session, list(session.exec(actions_of_case)))
    entries += aftercare_entries(session, case_id)
    return _sorted(entries)


ACTION_ENTRY_KINDS = {
    ActionChange.created: "action_created",
    ActionChange.complete: "action_closed",
    ActionChange.cancel: "action_closed",
    ActionChange.case_moved: "action_closed",
    ActionChange.reopen: "action_reopened",
    ActionChange.move_due_date: "action_due_date_changed",
}


def action_entries(session: Session, actions: list[Action]) -> list[dict[str, Any]]:
    """The actions' histories (`ActionTransition`): each hand-out with the due date it was
    given, every closing (done, cancelled, or cancelled as its case moved on: `automatic`),
    reopening and due-date change, with its actor."""
    by_id = {a.id: a for a in actions}
    if not by_id:
        return []
    transitions = session.exec(
        select(ActionTransition).where(col(ActionTransition.action_id).in_(list(by_id)))
    )
    entries = []
    for t in transitions:
        action = by_id[t.action_id]
        fields: dict[str, Any] = {
            "action_id": action.id,
            "case_id": action.case_id,
            "action_kind": action.kind,
            "from_status": t.from_status,
            "to_status": t.to_status,
            "due_date": t.to_due_date,
            "from_due_date": t.from_due_date,
        }
        if t.change == ActionChange.created:
            fields |= {
                "meeting_id": action.meeting_id,
                "owner_organisation_id": action.owner_organisation_id,
                "from_status": None,
            }
        if t.change == ActionChange.case_moved:
            fields["automatic"] = True
        entries.append(
            _entry(t.at, ACTION_ENTRY_KINDS[t.change], t.actor_organisation_id, **fields)
        )
    return entries


def aftercare_entries(session: Session, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """After the move: the tenancy's start, the aftercare agreement (that it was made, not its
    content), each checkpoint with its signals, the omklap and the end."""
    tenancy = session.get(Tenancy, case_id)
    if tenancy is None:
        return []
    entries = [
        _entry(
            tenancy.created_at,
            "tenancy_started",
            tenancy.corporation_id,
            case_id=case_id,
            proposal_id=tenancy.proposal_id,
            lease_form=tenancy.lease_form,
            effective_date=tenancy.moved_in,
            planned_on=tenancy.transfer_planned_on,
        )
    ]
    agreement = session.get(AftercareAgreement, case_id)
    if agreement is not None:
        entries.append(
            _entry(
                agreement.created_at, "aftercare_agreed", tenancy.care_provider_id, case_id=case_id
            )
        )
    for checkpoint in session.exec(select(Checkpoint).where(Checkpoint.case_id == case_id)):
        entries.append(
            _entry(
                checkpoint.created_at,
                "checkpoint_recorded",
                checkpoint.recorded_by_organisation_id,
                case_id=case_id,
                months=checkpoint.months,
                effective_date=checkpoint.recorded_on,
                signals=list(checkpoint.signals),
            )
        )
    if tenancy.transferred_at is not None:
        entries.append(
            _entry(
                tenancy.transferred_at,
                "lease_transferred",
                tenancy.corporation_id,
                case_id=case_id,
                effective_date=tenancy.transferred_on,
            )
        )
    if tenancy.ended_at is not None:
        entries.append(
            _entry(
                tenancy.ended_at,
                "tenancy_ended",
                None,
                case_id=case_id,
                effective_date=tenancy.ended_on,
                reason=tenancy.end_reason,
            )
        )
    return entries


def vacancy_timeline(
    session: Session, context: AccessContext, vacancy: Vacancy
) -> list[dict[str, Any]]:
    """The dwelling's proposals and decisions; each case they name is logged as an access.

    The corporation reads them all; a table reads those made at a table it reads. A dwelling
    moved to a municipality of another table keeps its earlier table's (closed) proposals,
    whose cases the new table's members may not see."""
    query = select(Proposal).where(Proposal.vacancy_id == vacancy.id)
    if context.principal.organisation_id != vacancy.corporation_id:
        query = query.where(col(Proposal.table_id).in_(reader_table_ids(context.principal)))
    proposals = list(session.exec(query))
    cases = sorted({(p.case_id, p.table_id) for p in proposals})
    access_log.record(session, context, AccessAction.timeline, cases)
    return _sorted(_proposal_entries(session, proposals))
