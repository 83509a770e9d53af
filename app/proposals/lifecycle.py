"""The proposal lifecycle: the decisions of the meeting. Every status change of a proposal goes
through `fire`, which records the decision (actor, time, reason) beside it.

proposed -> nominated -> accepted -> (viewing_planned) -> tenancy_signed -> housed; declines by
corporation or client and the chair's withdrawal end an open proposal. `superseded` is what
earlier versions wrote on a second open proposal of a case or dwelling (and what the `lifecycle`
migration writes on any still open): the database now allows only one, so nothing leads there
any more.
"""

import uuid

from sqlalchemy import select
from sqlmodel import Session, col

from app.ids import after_last, uuid7_after
from app.lifecycle import StateMachine
from app.proposals.models import (
    OPEN_PROPOSAL,
    Decision,
    Proposal,
    ProposalDecision,
    ProposalStatus,
)
from app.sqltypes import utcnow

_ = ProposalStatus
DECLINABLE = (_.proposed, _.nominated, _.accepted, _.viewing_planned)

MACHINE: StateMachine[ProposalStatus, Decision] = StateMachine(
    "proposal",
    ProposalStatus,
    Decision,
    {
        Decision.nominate: {_.proposed: _.nominated},
        Decision.corporation_accept: {_.nominated: _.accepted},
        Decision.corporation_decline: {s: _.declined_by_corporation for s in DECLINABLE},
        Decision.plan_viewing: {_.accepted: _.viewing_planned},
        Decision.client_decline: {s: _.declined_by_client for s in DECLINABLE},
        Decision.sign_tenancy: {_.accepted: _.tenancy_signed, _.viewing_planned: _.tenancy_signed},
        Decision.house: {_.tenancy_signed: _.housed},
        Decision.withdraw: {s: _.withdrawn for s in OPEN_PROPOSAL},
    },
)

# Who takes a decision besides the chair, who may record any decision during the meeting.
DECIDERS: dict[Decision, frozenset[str]] = {
    Decision.nominate: frozenset(),
    Decision.withdraw: frozenset(),
    Decision.corporation_accept: frozenset({"corporation"}),
    Decision.corporation_decline: frozenset({"corporation"}),
    Decision.plan_viewing: frozenset({"corporation", "care_provider"}),
    Decision.sign_tenancy: frozenset({"corporation"}),
    Decision.client_decline: frozenset({"care_provider"}),
    Decision.house: frozenset({"corporation", "care_provider"}),
}


# Whose move takes an open proposal forward (the chair may always step in): the chair
# nominates, the corporation accepts, arranges the viewing and signs the lease, and the care
# provider reports the move-in of its client.
TURN: dict[ProposalStatus, str] = {
    _.proposed: "chair",
    _.nominated: "corporation",
    _.accepted: "corporation",
    _.viewing_planned: "corporation",
    _.tenancy_signed: "care_provider",
}


def is_open(status: ProposalStatus) -> bool:
    return status in OPEN_PROPOSAL


def decisions_open_to(status: ProposalStatus, role: str) -> list[Decision]:
    """The decisions a member in `role` (chair, corporation, care_provider, municipality) may
    take on a proposal in `status`, in the order of the lifecycle."""
    return [
        d
        for d in Decision
        if MACHINE.allows(status, d) and (role == "chair" or role in DECIDERS[d])
    ]


def check(proposal: Proposal, decision: Decision) -> ProposalStatus:
    """The status `decision` leads to; 409 `illegal_transition` when the status refuses it."""
    return MACHINE.target(proposal.status, decision)


def fire(
    session: Session,
    proposal: Proposal,
    decision: Decision,
    *,
    reason: str | None,
    actor: uuid.UUID,
    api_key: uuid.UUID | None,
    automatic: bool = False,
) -> ProposalDecision:
    """Take `decision` on the proposal (409 when its status refuses it) and record it; returns
    the record, whose `parked_until` the caller sets when the decline parks the case.
    `automatic`: the service closes the proposal itself (not a decline the agenda remembers)."""
    from_status = proposal.status
    proposal.status = MACHINE.target(from_status, decision)
    proposal.status_reason = reason
    if not is_open(proposal.status):
        proposal.closed_at = utcnow()
    # After the proposal's last decision, in id and in time, also one another server took just
    # before (the caller holds the proposal's row lock): in the same millisecond its id's random
    # bits, and on a clock behind this server's its moment, would list it after this one.
    with session.no_autoflush:  # the caller flushes (dates.flush_dates maps its 409s)
        last = session.execute(
            select(col(ProposalDecision.id), col(ProposalDecision.at))
            .where(col(ProposalDecision.proposal_id) == proposal.id)
            .order_by(col(ProposalDecision.id).desc())
            .limit(1)
        ).first()
    record = ProposalDecision(
        id=uuid7_after(None if last is None else last.id),
        at=after_last(utcnow(), None if last is None else last.at),
        proposal_id=proposal.id,
        decision=decision,
        from_status=from_status,
        to_status=proposal.status,
        reason=reason,
        automatic=automatic,
        actor_organisation_id=actor,
        actor_api_key_id=api_key,
    )
    session.add(proposal)
    session.add(record)
    return record
