"""Open proposals that a later change of their case or dwelling made break a hard rule.

A proposal pairs a case and a dwelling that passed every hard rule when the agenda was computed.
The corporation may push the dwelling again (a higher rent, another type or size, no lift any
more) and the care provider may edit the case (a wheelchair needed, a larger household): the
pair can then fail a rule, and the table, the corporation and the care provider must not go on
with a match the rules forbid. Such a proposal is withdrawn by the service (`automatic`, reason
`dwelling_changed` or `case_changed`, notified as every decision), as when the dwelling is
withdrawn or the case put on hold; the pair is not remembered as declined, so once the data is
right again the next agenda may propose it again.

The rules are judged as why-not judges the pair on its meeting's date (`GET /why-not?date=`,
the agenda of that date): the table's policy and that date's legal limits. Only a rule the
change itself broke counts: one the pair fails after the change and did not fail just before
it, judged the same way. So a change of the policy or of the limits since the publish withdraws
nothing by itself, nor does a later edit that leaves the pair as it was (a chair who asked more
rooms after the publish, a year's limits added or corrected); and a rule the policy no longer
has (rooms it now allows) withdraws nothing either: why-not, asked afterwards, names the rule
that ended the proposal. Left out are the rules that say which dwellings an agenda looks at
rather than whether the pair is allowed (`not_available_in_horizon`: a dwelling that comes free
a little later stays proposed), the spread caps (the proposal itself is counted in them) and
earlier declines. A proposal whose tenancy is signed is left as it is: the allocation is done,
and a later push (the yearly rent rise) does not undo a lease.
"""

import uuid
from collections.abc import Collection, Mapping
from types import SimpleNamespace
from typing import Any

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


def broken_rules(
    session: Session,
    proposal: Proposal,
    before: tuple[matching.CaseProfile, matching.Dwelling],
    after: tuple[matching.CaseProfile, matching.Dwelling],
) -> list[str]:
    """The codes of the `KEPT_BY_A_MATCH` rules the pair fails `after` a change and did not
    fail `before` it (each a (case, dwelling) in the engine's types), judged as why-not judges
    the pair on its meeting's date: the table's policy, that date's limits."""
    from app.meetings.models import Meeting

    meeting = session.get(Meeting, proposal.meeting_id)
    table = session.get(OutflowTable, proposal.table_id)
    assert meeting is not None and table is not None  # foreign keys
    policy = engine_policy(TablePolicy.model_validate(table.policy))
    limits = engine_limits(limits_for(session, meeting.date))

    def failing(case: matching.CaseProfile, dwelling: matching.Dwelling) -> list[str]:
        failures = matching.pair_failures(
            case, dwelling, policy, limits, meeting.date, KEPT_BY_A_MATCH
        )
        return [failure.code for failure in failures]

    failed_before = set(failing(*before))
    return [code for code in failing(*after) if code not in failed_before]


def withdraw_for_dwellings(
    session: Session,
    context: AccessContext,
    before: Mapping[uuid.UUID, Any],
    locked_case_ids: Collection[uuid.UUID],
) -> None:
    """After a push changed these dwellings (locked by the push, written; `before` holds each
    one's columns as they were, by id): withdraw each undecided proposal of theirs that the
    push made break a rule. `locked_case_ids` are the cases the push locked first; a proposal
    of another case was made between the two looks (a publish), and the request runs again
    (`LostRace`)."""
    from app.proposals.service import close_by_system

    proposals = list(
        session.exec(
            select(Proposal).where(
                col(Proposal.vacancy_id).in_(list(before)),
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
        profile = case_profile(case)
        was = dwelling(
            SimpleNamespace(**before[vacancy.id]._mapping, corporation_id=vacancy.corporation_id)
        )
        if proposal.status in UNDECIDED and broken_rules(
            session, proposal, (profile, was), (profile, dwelling(vacancy))
        ):
            close_by_system(
                session, proposal, case, vacancy, DecisionReason.dwelling_changed, context
            )


def withdraw_for_case(
    session: Session, context: AccessContext, case: Case, before: matching.CaseProfile
) -> None:
    """After an edit of the case (locked by the edit, changed; `before` is the case as it was
    before the edit): withdraw its undecided proposal when the edit made the pair break a
    rule."""
    from app.proposals.service import close_by_system

    ids = session.exec(
        select(Proposal.id).where(Proposal.case_id == case.id, col(Proposal.status).in_(UNDECIDED))
    ).all()
    for proposal in lock(session, Proposal, ids):
        vacancy = lock(session, Vacancy, [proposal.vacancy_id])[0]
        home = dwelling(vacancy)
        if proposal.status in UNDECIDED and broken_rules(
            session, proposal, (before, home), (case_profile(case), home)
        ):
            close_by_system(session, proposal, case, vacancy, DecisionReason.case_changed, context)
