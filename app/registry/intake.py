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

import json
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Date, Executable, Text, bindparam, cast, extract, func
from sqlalchemy import select as core_select
from sqlmodel import Session

from app import matching
from app.agenda.engine_inputs import case_profile, engine_policy
from app.cases.models import Case, CaseRow
from app.limits.models import YearLimits
from app.limits.service import ENGINE_COLUMNS, engine_limits_of
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


@lru_cache(maxsize=8)
def _outside_the_contingent(on: date) -> matching.Dwelling:
    """A dwelling outside the contingent: the only thing about it `OWN_RULES` read. Kept per
    date (a few at a time: a process's saves fall on one or two)."""
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
    # The policy, the meeting date and that year's limits in one statement, built once and run
    # through Core: this runs on every case saved, where each statement and each ORM step is a
    # noticeable share of the request.
    day = today()
    row = (
        session.connection()
        .execute(_policy_meeting_and_limits(), {"table": case.table_id, "today": day})
        .first()
    )
    if row is None:
        return []
    on = row.first_meeting or day
    limits = engine_limits_of(on, row)
    if limits is None:
        return []
    policy = _engine_policy(row.policy)
    failures = matching.pair_failures(
        case_profile(case), _outside_the_contingent(on), policy, limits, on, OWN_RULES
    )
    return [
        {"code": failure.code, "message": MESSAGES[failure.code], "detail": failure.detail}
        for failure in failures
    ]


@cache
def _policy_meeting_and_limits() -> Executable:
    """The table's (`:table`) policy, as the JSON text it is stored as (`_engine_policy`), its
    first meeting on or after `:today` (`first_meeting`), and the limits `limits_for` chooses
    for that date (else `:today`): the `ENGINE_COLUMNS` of the latest year up to its year, all
    None when there is none. One statement instead of two (a round trip fewer)."""
    tables = table_of(OutflowTable)
    limits = table_of(YearLimits)
    on_today = bindparam("today", type_=Date)
    table = (
        core_select(
            cast(tables.c.policy, Text).label("policy"),
            first_meeting_from_today(tables.c.id, on_today).label("first_meeting"),
        )
        .where(tables.c.id == bindparam("table"))
        .subquery("table_")
    )
    earlier = limits.alias("earlier")
    on = func.coalesce(table.c.first_meeting, on_today)
    latest_year = (
        core_select(func.max(earlier.c.year))
        .where(earlier.c.year <= extract("year", on))
        .correlate(table)
        .scalar_subquery()
    )
    return core_select(
        table.c.policy, table.c.first_meeting, *(limits.c[name] for name in ENGINE_COLUMNS)
    ).select_from(table.outerjoin(limits, limits.c.year == latest_year))


@lru_cache(maxsize=64)
def _engine_policy(stored: str) -> matching.Policy:
    """The engine's policy of a table's stored policy (its JSON text), converted once per
    distinct text: a table's policy rarely changes, while decoding, validating and converting
    it on every case saved cost a tenth of the warnings' time. `matching.Policy` is frozen, so
    the requests can share it; an invalid stored policy raises as before, and is not kept."""
    return engine_policy(TablePolicy.model_validate(json.loads(stored)))
