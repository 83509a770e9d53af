"""Feedback on intake: the table-policy rules a case fails on its own, whatever the dwelling.

A case is accepted with only its required fields, but under the table's policy it may never be
matched: no stable income (`require_stable_income`), a beschikking below `beschikking_required`,
or a registration shorter than `min_registration_months` (for every dwelling outside the
contingent, unless urgency is granted). Saving a case answers these as warnings, not errors.

They come from the matching engine's own rule loop (`matching.pair_failures`, the loop of
`explain_pair`, the agenda and why-not), on the date the registry lists judge a case by (the
table's next meeting, see `app.registry.standing.next_meeting_date`), so a warning and the
agenda's why-not cannot disagree. The dwelling the case is checked against is one outside the
contingent; the loop runs only the rules that read the case alone (`OWN_RULES`), so what the
dwelling is like does not matter.
"""

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Date, Executable, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from app import matching
from app.agenda.engine_inputs import case_profile, engine_policy
from app.cases.models import Case, CaseRow
from app.limits.service import engine_limits_on
from app.registry.standing import first_meeting_from_today
from app.sqltypes import table_of
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
    # The policy and the meeting date in one statement (`next_meeting_date`'s own subquery),
    # built once and run through Core: this runs on every case saved, where each statement and
    # each ORM step is a noticeable share of the request.
    day = today()
    row = (
        session.connection()
        .execute(_policy_and_first_meeting(), {"table": case.table_id, "today": day})
        .first()
    )
    if row is None:
        return []
    table_policy, first_meeting = row
    on = first_meeting or day
    limits = engine_limits_on(session, on)
    if limits is None:
        return []
    policy = engine_policy(TablePolicy.model_validate(table_policy))
    failures = matching.pair_failures(
        case_profile(case), _outside_the_contingent(on), policy, limits, on, OWN_RULES
    )
    return [
        {"code": failure.code, "message": MESSAGES[failure.code], "detail": failure.detail}
        for failure in failures
    ]


@cache
def _policy_and_first_meeting() -> Executable:
    """The table's (`:table`) policy and its first meeting on or after `:today`."""
    tables = table_of(OutflowTable)
    first = first_meeting_from_today(tables.c.id, bindparam("today", type_=Date))
    return core_select(tables.c.policy, first).where(tables.c.id == bindparam("table"))
