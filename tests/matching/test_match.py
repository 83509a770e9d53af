"""`match` end to end on small tables: optimal, within the caps, deterministic, JSON-ready."""

import json
import time
from collections import Counter
from dataclasses import asdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import (
    REASON_CODES,
    SpreadUsage,
    engine,
    evaluate,
    explain_pair,
    greedy_baseline,
    match,
)
from tests.matching.factories import LIMITS_2026, MEETING, make_case, make_dwelling, make_policy
from tests.matching.strategies import tables
from tests.properties import examples


def brute_force(cases, dwellings, policy, limits, meeting, usage, forced=None, declines=()):
    """(most housed, best total score) over every one-to-one assignment within the caps, from the
    scalar explanations alone; `forced` = (case id, dwelling id) must be in the assignment."""
    options = {}
    for case in cases:
        for dwelling in dwellings:
            explained = explain_pair(case, dwelling, policy, limits, meeting, usage, declines)
            if explained.feasible:
                options.setdefault(case.id, []).append((dwelling, explained.score))
    ids = sorted(options)
    best = (-1, 0.0)

    def within_caps(chosen):
        per_complex = Counter(d.complex_key for d, _ in chosen)
        per_hood = Counter(d.neighbourhood_code for d, _ in chosen)
        return all(
            usage.per_complex.get(k, 0) + n <= policy.max_per_complex
            for k, n in per_complex.items()
        ) and all(
            usage.per_neighbourhood.get(k, 0) + n <= policy.max_per_neighbourhood
            for k, n in per_hood.items()
        )

    def extend(k, chosen, pairs):
        nonlocal best
        if not within_caps(chosen):
            return
        if k == len(ids):
            if forced is None or forced in pairs:
                best = max(best, (len(chosen), round(sum(s for _, s in chosen), 4)))
            return
        extend(k + 1, chosen, pairs)
        for dwelling, score in options[ids[k]]:
            if all(dwelling.id != d.id for d, _ in chosen):
                extend(k + 1, [*chosen, (dwelling, score)], pairs | {(ids[k], dwelling.id)})

    extend(0, [], frozenset())
    return best


def comparable(result) -> dict:
    """The result without its timings, which vary between runs."""
    data = result.to_dict()
    data["stats"].pop("timings_ms")
    return data


@settings(max_examples=examples(150))
@given(tables(max_cases=5, max_dwellings=5))
def test_vectorised_rules_and_scores_agree_with_explain_pair(table):
    cases, dwellings, policy, limits, meeting, usage = table
    evaluation = evaluate(cases, dwellings, policy, limits, meeting, usage)
    for i, case in enumerate(cases):
        for j, dwelling in enumerate(dwellings):
            explained = explain_pair(case, dwelling, policy, limits, meeting, usage)
            assert evaluation.reasons(i, j) == [f.code for f in explained.reasons]
            assert evaluation.score(i, j) == explained.score
            if explained.feasible:
                assert evaluation.components(i, j) == explained.components
    for r, code in enumerate(REASON_CODES):
        failing = (evaluation.fail_mask >> r) & 1
        assert (failing.sum(axis=1) == evaluation.case_reason_counts[:, r]).all(), code
        assert (failing.sum(axis=0) == evaluation.dwelling_reason_counts[:, r]).all(), code


@settings(max_examples=examples(120))
@given(tables(feasible_heavy=True))
def test_proposal_is_optimal_and_respects_every_rule_and_cap(table):
    cases, dwellings, policy, limits, meeting, usage = table
    result = match(cases, dwellings, policy, limits, meeting, usage)
    housed, total = brute_force(cases, dwellings, policy, limits, meeting, usage)
    assert len(result.proposals) == max(housed, 0)
    assert abs(sum(p.score for p in result.proposals) - total) < 1e-3
    by_id = {c.id: c for c in cases} | {d.id: d for d in dwellings}
    for proposal in result.proposals:
        explained = explain_pair(
            by_id[proposal.case_id], by_id[proposal.dwelling_id], policy, limits, meeting, usage
        )
        assert explained.feasible
        assert explained.score == proposal.score
    assert len({p.case_id for p in result.proposals}) == len(result.proposals)
    assert len({p.dwelling_id for p in result.proposals}) == len(result.proposals)
    homes = [by_id[p.dwelling_id] for p in result.proposals]
    for key, n in Counter(d.complex_key for d in homes).items():
        assert usage.per_complex.get(key, 0) + n <= policy.max_per_complex
    for key, n in Counter(d.neighbourhood_code for d in homes).items():
        assert usage.per_neighbourhood.get(key, 0) + n <= policy.max_per_neighbourhood


@settings(max_examples=examples(80))
@given(tables(feasible_heavy=True), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_same_result(table, rng):
    cases, dwellings, policy, limits, meeting, usage = table
    first = match(cases, dwellings, policy, limits, meeting, usage)
    again = match(cases, dwellings, policy, limits, meeting, usage)
    shuffled_cases, shuffled_dwellings = list(cases), list(dwellings)
    rng.shuffle(shuffled_cases)
    rng.shuffle(shuffled_dwellings)
    shuffled = match(shuffled_cases, shuffled_dwellings, policy, limits, meeting, usage)
    assert comparable(first) == comparable(again) == comparable(shuffled)


@settings(max_examples=examples(80))
@given(tables(feasible_heavy=True))
def test_passed_over_cases_are_exactly_those_whose_getting_it_houses_fewer(table):
    """Housed cases in `passed_over` score higher on the proposed dwelling and getting it houses
    fewer; unhoused ones are there because their best alternative changes a lower-scoring
    proposal (checked against `left_unhoused`, itself checked by brute force below)."""
    cases, dwellings, policy, limits, meeting, usage = table
    result = match(cases, dwellings, policy, limits, meeting, usage)
    housed = len(result.proposals)
    received = {p.case_id: p.dwelling_id for p in result.proposals}
    unhoused = {entry.case_id: entry for entry in result.left_unhoused}
    for proposal in result.proposals:
        listed = {entry.case_id: entry for entry in proposal.passed_over}
        dwelling = next(d for d in dwellings if d.id == proposal.dwelling_id)
        for case in cases:
            if case.id not in received:
                alternative = unhoused.get(case.id)
                shown = alternative.score if alternative is not None else 0.0
                changed = [
                    d.score
                    for d in (alternative.displaced if alternative is not None else [])
                    if (d.case_id, d.dwelling_id) == (proposal.case_id, proposal.dwelling_id)
                ]
                # The engine compares micro-points; scores equal to the 4 decimals shown may
                # differ below them, so such a near-tie may be listed or not.
                lower = any(score < shown for score in changed)
                tied = any(score == shown for score in changed)
                assert (case.id in listed) == lower or tied
                if case.id in listed:
                    assert alternative is not None
                    entry = listed[case.id]
                    assert entry.received_dwelling_id is None
                    assert entry.alternative_dwelling_id == alternative.dwelling_id
                    assert entry.score == alternative.score
                    assert entry.housed_if_given == alternative.housed_if_given
                    assert entry.trade_off == alternative.trade_off
                continue
            explained = explain_pair(case, dwelling, policy, limits, meeting, usage)
            if explained.feasible and explained.score == proposal.score:
                continue  # a near-tie, as above
            if not explained.feasible or explained.score < proposal.score:
                assert case.id not in listed
                continue
            forced = (case.id, dwelling.id)
            with_pair, _ = brute_force(cases, dwellings, policy, limits, meeting, usage, forced)
            if with_pair < housed:
                entry = listed[case.id]
                assert entry.housed_if_given == with_pair
                assert entry.score == explained.score
                assert entry.received_dwelling_id == received.get(case.id)
                assert entry.trade_off == "fewer_housed"
                assert entry.alternative_dwelling_id == dwelling.id
            else:
                assert case.id not in listed
    assert result.passed_over_complete


@settings(max_examples=80, deadline=None)
@given(tables(feasible_heavy=True))
def test_every_unhoused_case_with_a_fitting_dwelling_is_named_with_its_best_alternative(table):
    cases, dwellings, policy, limits, meeting, usage = table
    result = match(cases, dwellings, policy, limits, meeting, usage)
    housed, total = len(result.proposals), round(sum(p.score for p in result.proposals), 4)
    received = {p.case_id: p.dwelling_id for p in result.proposals}
    by_id = {d.id: d for d in dwellings}
    listed = {entry.case_id: entry for entry in result.left_unhoused}
    for case in cases:
        fitting = [
            d for d in dwellings if explain_pair(case, d, policy, limits, meeting, usage).feasible
        ]
        if case.id in received or not fitting:
            assert case.id not in listed
            continue
        best = max(
            brute_force(cases, dwellings, policy, limits, meeting, usage, (case.id, d.id))
            for d in fitting
        )
        entry = listed[case.id]
        assert entry.housed_if_given == best[0]
        assert abs(entry.total_score_if_given - best[1]) < 1e-3
        # Totals of scores shown to 4 decimals that agree to 1e-3 may still differ in the
        # micro-points the engine compares (40.8625 against 40.8623 once), so such a near-tie
        # may be either.
        expected = (
            {"fewer_housed"}
            if best[0] < housed
            else {"equal_alternative", "lower_total_score"}
            if abs(best[1] - total) < 1e-3
            else {"lower_total_score"}
        )
        assert entry.trade_off in expected
        # The alternative it describes is real: the proposal with the displaced pairs moved and
        # this case on its dwelling keeps every rule and cap, and houses and scores as it says.
        alternative = {c: d for c, d in received.items()}
        for change in entry.displaced:
            assert alternative.pop(change.case_id) == change.dwelling_id
            if change.moves_to_dwelling_id is not None:
                alternative[change.case_id] = change.moves_to_dwelling_id
        # ... and the cases it houses besides that the proposal leaves unhoused (`also_housed`:
        # a displaced case can free a cap's room for another; a rare draw, seen once in a suite).
        for other in entry.also_housed:
            assert other.case_id not in alternative and other.case_id != case.id
            alternative[other.case_id] = other.dwelling_id
        alternative[case.id] = entry.dwelling_id
        assert len(set(alternative.values())) == len(alternative) == entry.housed_if_given
        score = 0.0
        for case_id, dwelling_id in alternative.items():
            pair = explain_pair(
                next(c for c in cases if c.id == case_id),
                by_id[dwelling_id],
                policy,
                limits,
                meeting,
                usage,
            )
            assert pair.feasible
            score += pair.score
        assert abs(score - entry.total_score_if_given) < 1e-3
        homes = [by_id[d] for d in alternative.values()]
        for key, n in Counter(d.complex_key for d in homes).items():
            assert usage.per_complex.get(key, 0) + n <= policy.max_per_complex
        for key, n in Counter(d.neighbourhood_code for d in homes).items():
            assert usage.per_neighbourhood.get(key, 0) + n <= policy.max_per_neighbourhood
    assert result.passed_over_complete


def test_a_higher_priority_case_is_passed_over_to_house_one_more():
    flexible = make_case(id="a-long-wait", ready_since=MEETING.replace(year=2023))
    only_option = make_case(id="b-short-wait", ready_since=MEETING.replace(year=2025), max_floor=0)
    ground_floor = make_dwelling(id="d1", complex_key="c1")
    upstairs = make_dwelling(id="d2", complex_key="c2", floor=3)
    result = match(
        [flexible, only_option], [ground_floor, upstairs], make_policy(), LIMITS_2026, MEETING
    )
    pairs = {(p.case_id, p.dwelling_id) for p in result.proposals}
    assert pairs == {("a-long-wait", "d2"), ("b-short-wait", "d1")}
    given_d1 = next(p for p in result.proposals if p.dwelling_id == "d1")
    assert [
        (o.case_id, o.received_dwelling_id, o.housed_if_given, o.trade_off)
        for o in given_d1.passed_over
    ] == [("a-long-wait", "d2", 1, "fewer_housed")]
    assert result.left_unhoused == []
    assert (
        greedy_baseline(
            [flexible, only_option], [ground_floor, upstairs], make_policy(), LIMITS_2026, MEETING
        )
        == 1
    )


def test_complex_cap_counts_existing_usage_and_proposals():
    cases = [make_case(id=f"case-{i}") for i in range(3)]
    homes = [make_dwelling(id=f"home-{j}", complex_key="corp-a:big") for j in range(3)]
    usage = SpreadUsage(per_complex={"corp-a:big": 1})
    result = match(cases, homes, make_policy(max_per_complex=2), LIMITS_2026, MEETING, usage)
    assert len(result.proposals) == 1


def test_proposals_are_sorted_by_score_then_ids():
    cases = [
        make_case(id=f"case-{i}", ready_since=MEETING.replace(year=2024 + i % 2)) for i in range(4)
    ]
    homes = [
        make_dwelling(id=f"home-{j}", complex_key=f"c{j}", neighbourhood_code=f"BU003401{j:02d}")
        for j in range(4)
    ]
    result = match(cases, homes, make_policy(), LIMITS_2026, MEETING)
    keys = [(-p.score, p.case_id, p.dwelling_id) for p in result.proposals]
    assert keys == sorted(keys)
    assert len(result.proposals) == 4


def test_candidates_are_ranked_best_first_and_truncated_to_top_k():
    homes = [
        make_dwelling(id=f"home-{j}", rent_base=Decimal(f"{600 + 10 * (j % 3)}.00"))
        for j in range(5)
    ] + [make_dwelling(id="home-pets", pets_allowed=False)]
    case = make_case(id="case-1", pets=True)
    result = match([case], homes, make_policy(), LIMITS_2026, MEETING, top_k=3)
    ranked = result.candidates_by_case["case-1"]
    assert ranked.feasible_count == 5
    assert [c.dwelling_id for c in ranked.candidates] == ["home-0", "home-3", "home-1"]
    assert ranked.excluded_counts == {"pets_not_allowed": 1}
    assert result.candidates_by_dwelling["home-pets"].excluded_counts == {"pets_not_allowed": 1}
    assert result.candidates_by_dwelling["home-0"].candidates[0].case_id == "case-1"


def test_ranked_candidates_carry_components_that_add_up_to_their_score():
    cases = [make_case(id=f"case-{i}", urgency=i == 0) for i in range(3)]
    homes = [make_dwelling(id=f"home-{j}", complex_key=f"c{j}") for j in range(3)]
    result = match(cases, homes, make_policy(), LIMITS_2026, MEETING)
    ranked = [*result.candidates_by_case.values(), *result.candidates_by_dwelling.values()]
    for entry in ranked:
        for candidate in entry.candidates:
            names = [c.name for c in candidate.components]
            assert names[0] == "waiting_time"
            assert abs(sum(c.points for c in candidate.components) - candidate.score) < 1e-3
    urgent = result.candidates_by_dwelling["home-0"].candidates[0]
    assert urgent.case_id == "case-0"
    assert next(c for c in urgent.components if c.name == "urgency").points == 5.0


def test_a_dwelling_failing_several_rules_counts_under_each():
    case = make_case(pets=True, wheelchair=True)
    home = make_dwelling(pets_allowed=False)
    result = match([case], [home], make_policy(), LIMITS_2026, MEETING)
    assert result.candidates_by_case["case-1"].excluded_counts == {
        "not_wheelchair_accessible": 1,
        "pets_not_allowed": 1,
    }


def test_result_is_json_serialisable():
    cases = [make_case(id=f"case-{i}") for i in range(3)] + [
        make_case(id="blocked", beschikking_status="none")
    ]
    homes = [make_dwelling(id=f"home-{j}", complex_key=f"c{j}") for j in range(2)]
    result = match(cases, homes, make_policy(), LIMITS_2026, MEETING)
    text = json.dumps(result.to_dict())
    assert json.loads(text)["stats"]["people_housed"] == 2
    assert json.dumps(asdict(result)) == text


def test_stats_report_sizes_and_solver():
    cases = [make_case(id=f"case-{i}", adults=1 + i % 2) for i in range(3)]
    homes = [make_dwelling(id=f"home-{j}", complex_key=f"c{j}") for j in range(3)]
    result = match(cases, homes, make_policy(), LIMITS_2026, MEETING)
    stats = result.stats
    assert (stats.cases, stats.dwellings, stats.feasible_pairs) == (3, 3, 9)
    assert stats.people_housed == 3
    assert stats.persons_housed == 4
    assert stats.solver == "assignment"
    assert set(stats.timings_ms) >= {"evaluate", "solve", "passed_over", "total"}


def test_empty_table_gives_an_empty_result():
    result = match([], [], make_policy(), LIMITS_2026, MEETING)
    assert result.proposals == []
    assert result.stats.solver == "none"


def test_a_longer_waiting_case_left_unhoused_so_that_two_others_are_housed_is_named():
    """The issue's trade-off: housing the longest-waiting case on the one dwelling that fits it
    would fill both a complex and a neighbourhood that two others need."""
    n1, n2 = "BU00340101", "BU00340102"
    longest = make_case(id="a-longest", ready_since=MEETING.replace(year=2023), wheelchair=True)
    second = make_case(id="b-second", ready_since=MEETING.replace(year=2025), excluded_areas=(n1,))
    third = make_case(id="c-third", ready_since=MEETING.replace(year=2025), pets=True)
    homes = [
        make_dwelling(
            id="d0",
            complex_key="corp-a:X",
            neighbourhood_code=n1,
            wheelchair_accessible=True,
            pets_allowed=False,
        ),
        make_dwelling(id="d1", complex_key="corp-a:X", neighbourhood_code=n2, pets_allowed=False),
        make_dwelling(id="d2", complex_key="corp-a:Y", neighbourhood_code=n1),
    ]
    policy = make_policy(max_per_complex=1, max_per_neighbourhood=1)
    result = match([longest, second, third], homes, policy, LIMITS_2026, MEETING)
    assert {(p.case_id, p.dwelling_id) for p in result.proposals} == {
        ("b-second", "d1"),
        ("c-third", "d2"),
    }
    [left] = result.left_unhoused
    assert (left.case_id, left.dwelling_id, left.housed_if_given, left.trade_off) == (
        "a-longest",
        "d0",
        1,
        "fewer_housed",
    )
    assert {(d.case_id, d.moves_to_dwelling_id) for d in left.displaced} == {
        ("b-second", None),
        ("c-third", None),
    }
    for proposal in result.proposals:
        [entry] = proposal.passed_over
        assert (entry.case_id, entry.alternative_dwelling_id, entry.housed_if_given) == (
            "a-longest",
            "d0",
            1,
        )
        assert entry.score > proposal.score


def test_without_a_budget_the_checks_run_to_the_end():
    assert engine._checks_deadline(None) is None
    assert engine.passed_over_deadline(None) is None


def test_under_a_budget_the_checks_get_their_fixed_share_within_the_budget():
    far = time.monotonic() + 600
    before = time.monotonic()
    share = engine._checks_deadline(far)
    after = time.monotonic()
    assert share is not None
    assert before + engine.CHECKS_TIME_SECONDS <= share <= after + engine.CHECKS_TIME_SECONDS
    near = time.monotonic() + 0.5
    assert engine._checks_deadline(near) == near


def test_the_passed_over_check_leaves_the_left_unhoused_check_the_rest_of_the_share():
    checks_end = time.monotonic() + 10.0
    before = time.monotonic()
    passed_over_end = engine.passed_over_deadline(checks_end)
    after = time.monotonic()
    half = engine.PASSED_OVER_SHARE * 10.0
    assert passed_over_end is not None
    assert before + half - 0.01 <= passed_over_end <= after + half
    already_over = engine.passed_over_deadline(time.monotonic() - 1.0)
    assert already_over is not None and already_over <= time.monotonic()
