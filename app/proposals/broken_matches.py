"""Open proposals that a later change of their case or dwelling made break a hard rule.

A proposal pairs a case and a dwelling that passed every hard rule when the agenda was computed.
The corporation may push the dwelling again (a higher rent, another type or size, no lift any
more) and the care provider may edit the case (a wheelchair needed, a larger household): the
pair can then fail a rule, and the table, the corporation and the care provider must not go on
with a match the rules forbid. Such a proposal is withdrawn by the service (`automatic`, reason
`dwelling_changed` or `case_changed`, notified as every decision), as when the dwelling is
withdrawn or the case put on hold; the pair is not remembered as declined, so once the data is
right again the next agenda may propose it again.

The rules are judged as the proposal's agenda judged them: on its meeting's date, with the
policy the published agenda recorded and the legal limits of that date. Left out are the rules
that say which dwellings an agenda looks at rather than whether the pair is allowed
(`not_available_in_horizon`: a dwelling that comes free a little later stays proposed), the
spread caps (the proposal itself is counted in them) and earlier declines. A proposal whose
tenancy is signed is left as it is: the allocation is done, and a later push (the yearly rent
rise) does not undo a lease.
"""

import uuid
from collections.abc import Collection

from sqlmodel import Session, col, select

from app import matching
from app.access_log.service import AccessContext
from app.agenda.engine_inputs import case_profile, dwelling, engine_policy
from app.cases.models import Case
from app.database import LostRace
from app.limits.service import engine_limits, limits_for
from app.proposals.models import OPEN_PROPOSAL, DecisionReason, Proposal, ProposalStatus
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.vacancies.models import Vacancy
from app.versioning import lock

KEPT_BY_A_MATCH = tuple(
    code
    for code in matching.REASON_CODES
    if code
    not in (
        "not_available_in_horizon",
        "declined_earlier",
        "declined_by_corporation_earlier",
        *matching.CAP_REASONS,
    )
)
"""The hard rules an open proposal must keep passing while its case or dwelling changes."""

UNDECIDED = OPEN_PROPOSAL - {ProposalStatus.tenancy_signed}
"""The open proposals a broken rule withdraws: every one before the lease is signed."""


def failed_rules(session: Session, proposal: Proposal, case: Case, vacancy: Vacancy) -> list[str]:
    """The codes of the `KEPT_BY_A_MATCH` rules the pair fails now, judged as its agenda did."""
    from app.meetings.models import Meeting

    meeting = session.get(Meeting, proposal.meeting_id)
    assert meeting is not None  # a foreign key
    # The published agenda's document records its policy (a later change of the table's
    # policy is no change of the pair); a snapshot's fields since dropped are left out.
    frozen = (meeting.snapshot or {}).get("document", {}).get("policy")
    if frozen is None:
        table = session.get(OutflowTable, proposal.table_id)
        assert table is not None
        frozen = table.policy
    frozen = {k: v for k, v in frozen.items() if k in TablePolicy.model_fields}
    policy = engine_policy(TablePolicy.model_validate(frozen))
    limits = engine_limits(limits_for(session, meeting.date))
    failures = matching.pair_failures(
        case_profile(case), dwelling(vacancy), policy, limits, meeting.date, KEPT_BY_A_MATCH
    )
    return [failure.code for failure in failures]


def withdraw_for_dwellings(
    session: Session,
    context: AccessContext,
    vacancy_ids: Collection[uuid.UUID],
    locked_case_ids: Collection[uuid.UUID],
) -> None:
    """After a push changed these dwellings (locked by the push, written): withdraw each
    undecided proposal of theirs that now fails a rule. `locked_case_ids` are the cases the
    push locked first; a proposal of another case was made
    between the two looks (a publish), and the request runs again (`LostRace`)."""
    from app.proposals.service import close_by_system

    proposals = list(
        session.exec(
            select(Proposal).where(
                col(Proposal.vacancy_id).in_(list(vacancy_ids)),
                col(Proposal.status).in_(UNDECIDED),
            )
        )
    )
    if not proposals:
        return
    if {p.case_id for p in proposals} - set(locked_case_ids):
        raise LostRace("a dwelling was proposed while it was pushed")
    cases = {c.id: c for c in lock(session, Case, [p.case_id for p in proposals])}
    proposals = lock(session, Proposal, [p.id for p in proposals])
    # Read again after the push's UPDATE (core, not through these objects).
    vacancies = {v.id: v for v in lock(session, Vacancy, [p.vacancy_id for p in proposals])}
    for proposal in proposals:
        case, vacancy = cases[proposal.case_id], vacancies[proposal.vacancy_id]
        if proposal.status in UNDECIDED and failed_rules(session, proposal, case, vacancy):
            close_by_system(
                session, proposal, case, vacancy, DecisionReason.dwelling_changed, context
            )


def withdraw_for_case(session: Session, context: AccessContext, case: Case) -> None:
    """After an edit of the case (locked by the edit, changed): withdraw its undecided
    proposal when the pair now fails a rule."""
    from app.proposals.service import close_by_system

    ids = session.exec(
        select(Proposal.id).where(Proposal.case_id == case.id, col(Proposal.status).in_(UNDECIDED))
    ).all()
    for proposal in lock(session, Proposal, ids):
        vacancy = lock(session, Vacancy, [proposal.vacancy_id])[0]
        if proposal.status in UNDECIDED and failed_rules(session, proposal, case, vacancy):
            close_by_system(session, proposal, case, vacancy, DecisionReason.case_changed, context)
