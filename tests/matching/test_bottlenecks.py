"""Bottlenecks: blocked cases, the single changes that unblock them, and idle dwellings."""

from decimal import Decimal

from app.matching import SpreadUsage, match
from tests.matching.factories import LIMITS_2026, MEETING, make_case, make_dwelling, make_policy


def run(cases, dwellings, usage=None):
    return match(cases, dwellings, make_policy(), LIMITS_2026, MEETING, usage).bottlenecks


def test_twelve_cases_blocked_only_by_beschikking_missing_read_straight_off():
    waiting = [make_case(id=f"w{i:02d}", beschikking_status="none") for i in range(12)]
    ready = [make_case(id=f"r{i}") for i in range(3)]
    homes = [make_dwelling(id=f"home-{j}", complex_key=f"c{j}") for j in range(2)]
    bottlenecks = run(waiting + ready, homes)
    top = bottlenecks.by_reason[0]
    assert (top.code, top.cases_blocked_only_by) == ("beschikking_missing", 12)
    assert top.case_ids == [c.id for c in waiting]
    group = bottlenecks.groups[0]
    assert (group.reasons, group.waive, group.count) == (["beschikking_missing"], "any", 12)


def test_case_with_a_feasible_dwelling_is_not_blocked():
    assert run([make_case()], [make_dwelling()]).blocked_cases == []


def test_unblocked_by_lists_every_reason_that_alone_opens_a_dwelling():
    case = make_case(pets=True)
    homes = [
        make_dwelling(id="no-pets", pets_allowed=False),
        make_dwelling(id="too-dear", rent_base=Decimal("713.03")),
        make_dwelling(id="both", pets_allowed=False, rent_base=Decimal("800.00")),
    ]
    blocked = run([case], homes).blocked_cases[0]
    assert blocked.unblocked_by == ["rent_above_cap", "pets_not_allowed"]
    assert blocked.min_reasons == 1
    assert blocked.excluded_counts == {"rent_above_cap": 2, "pets_not_allowed": 2}


def test_case_needing_two_changes_is_grouped_by_its_closest_reason_set():
    case = make_case(beschikking_status="none", income_stable=False)
    bottlenecks = run([case], [make_dwelling(id="a"), make_dwelling(id="b", floor=9)])
    blocked = bottlenecks.blocked_cases[0]
    assert blocked.unblocked_by == []
    assert blocked.min_reasons == 2
    assert blocked.closest_reasons == ["no_stable_income", "beschikking_missing"]
    group = bottlenecks.groups[0]
    assert (group.reasons, group.waive, group.count) == (
        ["no_stable_income", "beschikking_missing"],
        "all",
        1,
    )
    assert all(b.cases_blocked_only_by == 0 for b in bottlenecks.by_reason)
    assert {b.code: b.blocked_cases_failing for b in bottlenecks.by_reason} == {
        "no_stable_income": 1,
        "beschikking_missing": 1,
    }


def test_groups_are_sorted_by_size():
    cases = [make_case(id=f"a{i}", pets=True) for i in range(2)]
    cases += [make_case(id=f"b{i}", beschikking_status="none") for i in range(3)]
    bottlenecks = run(cases, [make_dwelling(pets_allowed=False)])
    assert [(g.reasons, g.count) for g in bottlenecks.groups] == [
        (["beschikking_missing"], 3),
        (["pets_not_allowed"], 2),
    ]


def test_a_full_complex_shows_as_a_cap_bottleneck():
    usage = SpreadUsage(per_complex={"corp-a:complex-1": 2})
    bottlenecks = run([make_case()], [make_dwelling()], usage)
    assert bottlenecks.blocked_cases[0].unblocked_by == ["complex_cap_reached"]
    assert bottlenecks.by_reason[0].code == "complex_cap_reached"
    idle = bottlenecks.dwellings_without_candidates[0]
    assert idle.excluded_counts == {"complex_cap_reached": 1}


def test_dwellings_without_candidates_report_why():
    cases = [make_case(id=f"single-{i}") for i in range(3)]
    homes = [make_dwelling(id="family-home", rooms=5), make_dwelling(id="flat")]
    idle = run(cases, homes).dwellings_without_candidates
    assert [d.dwelling_id for d in idle] == ["family-home"]
    assert idle[0].excluded_counts == {"size_mismatch": 3}
    assert idle[0].unblocked_by == ["size_mismatch"]
    assert idle[0].min_reasons == 1


def test_cases_without_any_dwelling_are_blocked_by_nothing_in_particular():
    bottlenecks = run([make_case()], [])
    blocked = bottlenecks.blocked_cases[0]
    assert (blocked.unblocked_by, blocked.min_reasons, blocked.excluded_counts) == ([], None, {})
