"""The bottleneck history shows a restricted viewer no count it could work out from the others.

Each published meeting's counts are frozen with its agenda. Where every blocked case is blocked
by one reason alone, the reasons' counts add up to the blocked cases, so a reason hidden on its
own (1 to 4 other providers' cases) could be worked out as the blocked total less the reasons
shown; another count is hidden with it.
"""

import uuid

from app.monitor.access import Viewer
from app.monitor.bottlenecks import _hidden
from app.organisations.models import OrganisationKind

ME, OTHER = uuid.uuid4(), uuid.uuid4()
VIEWER = Viewer(ME, OrganisationKind.care_provider)


def meeting(reasons: dict[str, list[str]], blocked: list[str], ready: list[str]):
    """The cells (cases in each count) and counts of one meeting, as the history reads them."""
    owners = {case: str(ME if case.startswith("m") else OTHER) for case in ready}
    cells = {("ready_cases",): ready, ("blocked_cases",): blocked}
    cells |= {("only", code): cases for code, cases in reasons.items()}
    return owners, cells, {cell: len(cases) for cell, cases in cells.items()}


def test_a_reason_hidden_alone_cannot_be_worked_out_from_the_blocked_total():
    ready = [f"m{k}" for k in range(8)] + [f"o{k}" for k in range(12)]
    # 'income' holds two other providers' cases (hidden); every blocked case has one reason.
    reasons = {
        "income": ["o0", "o1"],
        "registration": ["m0", "m1", "m2", "o2", "o3", "o4", "o5", "o6"],
    }
    blocked = [case for cases in reasons.values() for case in cases]
    owners, cells, counts = meeting(reasons, blocked, ready)
    hidden = _hidden(VIEWER, owners, cells, counts)
    assert ("only", "income") in hidden
    # Blocked total and the other reason both shown would give income = 10 - 8.
    assert ("blocked_cases",) in hidden or ("only", "registration") in hidden


def test_counts_of_a_viewers_own_cases_or_of_five_others_are_shown():
    ready = [f"m{k}" for k in range(3)] + [f"o{k}" for k in range(10)]
    reasons = {"income": ["m0", "m1"], "registration": ["o0", "o1", "o2", "o3", "o4"]}
    blocked = [case for cases in reasons.values() for case in cases] + ["o5"]  # o5: two reasons
    owners, cells, counts = meeting(reasons, blocked, ready)
    assert _hidden(VIEWER, owners, cells, counts) == set()
