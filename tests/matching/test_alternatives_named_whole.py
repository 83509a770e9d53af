"""A left-unhoused case's best alternative, as the agenda and why-not show it, names every case
whose outcome it changes: the table must be able to read the alternative off the agenda."""

from datetime import date, timedelta

from app.matching import EarlierDecline, explain_in_agenda, match
from tests.matching.factories import LIMITS_2026, MEETING, make_case, make_dwelling, make_policy

EAST, WEST = "BU00340101", "BU00340102"


def table():
    """Two complexes (x, y) each over both neighbourhoods, every cap 1. case-2 and case-3 are
    proposed; case-1 (waiting longest) fits only home-2 and is left unhoused. Its best alternative
    houses it on home-2 and case-0 on home-3, unhousing case-2 and case-3: still 2 housed."""
    cases = [
        make_case(id="case-0", ready_since=date(2025, 3, 2), preferred_areas=(WEST,)),
        make_case(id="case-1", ready_since=date(2022, 3, 3), preferred_areas=(WEST,)),
        make_case(id="case-2", ready_since=date(2022, 3, 3)),
        make_case(id="case-3", ready_since=date(2024, 3, 2)),
    ]
    homes = [
        make_dwelling(id="home-0", neighbourhood_code=EAST, complex_key="corp-a:y"),
        make_dwelling(id="home-1", neighbourhood_code=WEST, complex_key="corp-a:x"),
        make_dwelling(id="home-2", neighbourhood_code=WEST, complex_key="corp-a:y"),
        make_dwelling(id="home-3", neighbourhood_code=EAST, complex_key="corp-a:x"),
    ]
    fits = {
        ("case-0", "home-2"),
        ("case-0", "home-3"),
        ("case-1", "home-2"),
        ("case-2", "home-0"),
        ("case-2", "home-1"),
        ("case-2", "home-2"),
        ("case-3", "home-0"),
    }
    # The pairs that do not fit are earlier client declines.
    declines = [
        EarlierDecline(
            c.id, d.id, d.corporation_id, "client_decline", "other", MEETING - timedelta(7)
        )
        for c in cases
        for d in homes
        if (c.id, d.id) not in fits
    ]
    policy = make_policy(max_per_complex=1, max_per_neighbourhood=1)
    return cases, homes, policy, LIMITS_2026, MEETING, None, declines


def housed_after(proposals, case_id, dwelling_id, changes, also_housed):
    """The alternative as the agenda lets the table read it: the proposals with their changes
    applied, the cases housed besides on theirs and the case on its dwelling."""
    pairs = {p.case_id: p.dwelling_id for p in proposals}
    for change in changes:
        if change.moves_to_dwelling_id is None:
            del pairs[change.case_id]
        else:
            pairs[change.case_id] = change.moves_to_dwelling_id
    for other in also_housed:
        assert other.case_id not in pairs
        pairs[other.case_id] = other.dwelling_id
    pairs[case_id] = dwelling_id
    return pairs


def test_a_left_unhoused_alternative_names_every_case_it_houses():
    cases, homes, policy, limits, meeting, usage, declines = table()
    result = match(cases, homes, policy, limits, meeting, usage, declines=declines)
    assert [(p.case_id, p.dwelling_id) for p in result.proposals] == [
        ("case-2", "home-1"),
        ("case-3", "home-0"),
    ]
    entry = next(e for e in result.left_unhoused if e.case_id == "case-1")
    assert (entry.dwelling_id, entry.housed_if_given) == ("home-2", 2)
    why_not = explain_in_agenda(
        cases, homes, policy, limits, meeting, usage, declines, "case-1", "home-2"
    )
    assert why_not.trade_off is not None
    assert why_not.trade_off.changes == entry.displaced
    assert why_not.trade_off.also_housed == entry.also_housed
    assert [(o.case_id, o.dwelling_id) for o in entry.also_housed] == [("case-0", "home-3")]
    alternative = housed_after(
        result.proposals, "case-1", "home-2", entry.displaced, entry.also_housed
    )
    assert len(alternative) == entry.housed_if_given
