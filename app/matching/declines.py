"""Earlier declines as engine input: pairs that are never proposed again, and cases that a
corporation's decline keeps away from all of that corporation's dwellings for a while.

The agenda service reads the decisions from the database; this module only indexes them for the
rules (`declined_earlier`, `declined_by_corporation_earlier` in `rules.py`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from app.matching.types import EarlierDecline, Policy

DECLINE_DECISIONS = frozenset({"client_decline", "corporation_decline", "withdraw"})


@dataclass(frozen=True, slots=True)
class WidenedDecline:
    """A corporation decline the policy widens to all of the corporation's dwellings.

    `until` is the first meeting date on which it no longer applies (decision date + the
    policy's days for its reason), as `parked_until` is for a parked case.
    """

    decline: EarlierDecline
    until: date


@dataclass(frozen=True, slots=True)
class DeclineIndex:
    """`pairs`: (case id, dwelling id) -> (its latest decline, how many declines the pair had).
    `widened`: (case id, corporation id) -> the widened decline in force on the meeting date
    that lasts longest."""

    pairs: Mapping[tuple[str, str], tuple[EarlierDecline, int]]
    widened: Mapping[tuple[str, str], WidenedDecline]


NO_DECLINES = DeclineIndex({}, {})


def scope_days(decline: EarlierDecline, policy: Policy) -> int:
    """Days a decline keeps the case from all of the corporation's dwellings (0: this pair only).
    Only corporation declines widen; the policy lists the reasons that do."""
    if decline.decision != "corporation_decline" or decline.reason is None:
        return 0
    return int(policy.corporation_decline_scope_days.get(decline.reason, 0))


def decline_index(
    declines: Iterable[EarlierDecline], policy: Policy, meeting_date: date
) -> DeclineIndex:
    """Index the declines for one meeting date; raises ValueError for an unknown decision."""
    pairs: dict[tuple[str, str], tuple[EarlierDecline, int]] = {}
    widened: dict[tuple[str, str], WidenedDecline] = {}
    ordered = sorted(
        declines, key=lambda d: (d.decided_on, d.proposal_id or "", d.dwelling_id, d.case_id)
    )
    for decline in ordered:
        if decline.decision not in DECLINE_DECISIONS:
            raise ValueError(f"not a decline: {decline.decision!r}")
        key = (decline.case_id, decline.dwelling_id)
        pairs[key] = (decline, pairs[key][1] + 1 if key in pairs else 1)
        days = scope_days(decline, policy)
        if days <= 0:
            continue
        until = decline.decided_on + timedelta(days=days)
        scope = (decline.case_id, decline.corporation_id)
        if meeting_date < until and (scope not in widened or until >= widened[scope].until):
            widened[scope] = WidenedDecline(decline, until)
    return DeclineIndex(pairs, widened)
