"""Feedback on intake: the table-policy rules a case fails on its own, whatever the dwelling.

A case is accepted with only its required fields, but under the table's policy it may never be
matched: no stable income (`require_stable_income`), a beschikking below `beschikking_required`,
or a registration shorter than `min_registration_months` (for every dwelling outside the
contingent, unless urgency is granted). Saving a case answers these as warnings, not errors.

They come from the matching engine's own rule loop (`matching.explain_pair`, the loop the agenda
and why-not use), on the date the registry lists judge a case by (the table's next meeting, see
`app.registry.standing.next_meeting_date`), so a warning and the agenda's why-not cannot
disagree. The dwelling the case is checked against is one outside the contingent; of its
failures only the rules that read the case alone (`OWN_RULES`) are kept, so what the dwelling is
like does not matter.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from app import matching
from app.agenda.engine_inputs import case_profile, engine_policy
from app.cases.models import Case, CaseRow
from app.limits.service import engine_limits, limits_for
from app.problems import Unprocessable
from app.registry.standing import first_meeting_from_today
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.timeutil import today

OWN_RULES = ("no_stable_income", "beschikking_missing", "registration_too_short")
"""The hard rules whose outcome depends on the case and the table's policy alone (domain.md:
`registration_too_short` only for dwellings outside the contingent)."""

MESSAGES = {
    "no_stable_income": "The table's policy requires a stable income or budget management "
    "(income.stable or income.budget_management); this case is matched to no dwelling.",
    "beschikking_missing": "The table's policy requires a beschikking of at least the status "
    "in detail.required; this case is matched to no dwelling.",
    "registration_too_short": "Registered as a house seeker for fewer months than the table's "
    "policy requires and no urgency: this case is matched only to contingent dwellings.",
}


def _outside_the_contingent(on: date) -> matching.Dwelling:
    """A dwelling outside the contingent: the only thing about it `OWN_RULES` read."""
    return matching.Dwelling(
        id="intake",
        corporation_id="intake",
        municipality_code="GM0000",
        neighbourhood_code="BU00000000",
        complex_key="intake",
        rooms=1,
        floor=0,
        has_lift=False,
        wheelchair_accessible=False,
        rent_base=Decimal(0),
        eligible_service_costs=Decimal(0),
        available_from=on,
        contingent=False,
        complex_manager=False,
        pets_allowed=True,
        min_age=None,
        contract_forms=frozenset({"own_lease", "intermediate_lease"}),
    )


def own_rule_failures(session: Session, case: Case | CaseRow) -> list[dict[str, Any]]:
    """The `OWN_RULES` the case fails on its table's next meeting date, in the engine's order:
    `[{"code", "message", "detail"}]` with the engine's figures as `detail` (e.g.
    `months_registered` and `required_months`). Empty when it fails none, and when no legal
    limits are known for that date (the engine cannot evaluate a case then; the agenda refuses
    that date too)."""
    # The policy and the meeting date in one statement (`next_meeting_date`'s own subquery):
    # this runs on every case saved, where each statement is a noticeable share of the request.
    row = session.exec(
        select(col(OutflowTable.policy), first_meeting_from_today(OutflowTable.id)).where(
            OutflowTable.id == case.table_id
        )
    ).first()
    if row is None:
        return []
    table_policy, first_meeting = row
    on = first_meeting or today()
    try:
        limits = engine_limits(limits_for(session, on))
    except Unprocessable:
        return []
    policy = engine_policy(TablePolicy.model_validate(table_policy))
    explanation = matching.explain_pair(
        case_profile(case), _outside_the_contingent(on), policy, limits, on
    )
    return [
        {"code": failure.code, "message": MESSAGES[failure.code], "detail": failure.detail}
        for failure in explanation.reasons
        if failure.code in OWN_RULES
    ]
