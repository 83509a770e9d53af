"""`explain_in_agenda`: one pair explained exactly as `match` treats it, trade-off included."""

from dataclasses import replace

import pytest
from hypothesis import given, settings

from app.matching import SpreadUsage, evaluate, explain_in_agenda, match
from tests.matching.factories import LIMITS_2026, MEETING, make_case, make_dwelling, make_policy
from tests.matching.strategies import tables
from tests.matching.test_declines import declined_tables
from tests.matching.test_match import brute_force


@settings(max_examples=60, deadline=None)
@given(declined_tables())
def test_why_not_answers_what_the_agenda_does_with_every_pair(table):
    cases, dwellings, policy, limits, meeting, usage, declines = table
    result = match(
        cases, dwellings, policy, limits, meeting, usage, top_k=len(dwellings), declines=declines
    )
    evaluation = evaluate(cases, dwellings, policy, limits, meeting, usage, declines)
    proposed = {(p.case_id, p.dwelling_id): p for p in result.proposals}
    housed = len(result.proposals)
    total = round(sum(p.score for p in result.proposals), 4)
    for i, case in enumerate(cases):
        listed = {c.dwelling_id: c for c in result.candidates_by_case[case.id].candidates}
        for j, dwelling in enumerate(dwellings):
            answer = explain_in_agenda(
                cases, dwellings, policy, limits, meeting, usage, declines, case.id, dwelling.id
            )
            assert answer.feasible == (dwelling.id in listed)
            assert [r.code for r in answer.reasons] == evaluation.reasons(i, j)
            assert answer.proposed == ((case.id, dwelling.id) in proposed)
            if not answer.feasible:
                assert answer.trade_off is None and answer.score is None
                continue
            assert answer.score == listed[dwelling.id].score
            if answer.proposed:
                assert answer.trade_off is None
                continue
            trade = answer.trade_off
            pair = (case.id, dwelling.id)
            best = brute_force(cases, dwellings, policy, limits, meeting, usage, pair, declines)
            assert trade.housed == housed
            assert trade.housed_if_given == best[0]
            assert abs(trade.total_score_if_given - best[1]) < 1e-3
            assert trade.trade_off == (
                "fewer_housed"
                if best[0] < housed
                else "equal_alternative"
                if abs(best[1] - total) < 1e-3
                else "lower_total_score"
            )
            holder = next(
                (p.case_id for p in result.proposals if p.dwelling_id == dwelling.id), None
            )
            home = next((p.dwelling_id for p in result.proposals if p.case_id == case.id), None)
            assert (trade.dwelling_proposed_to, trade.case_proposed_dwelling) == (holder, home)
            changed = {(c.case_id, c.dwelling_id) for c in trade.changes}
            assert changed <= set(proposed)
            if holder is not None:
                assert (holder, dwelling.id) in changed
            if home is not None:
                assert (case.id, home) in changed


def test_why_not_names_the_cases_that_received_the_contested_dwelling():
    # a flexible long-waiting case takes the second dwelling so that the case with one option
    # gets the first: asking why the long waiter is not on the first names that trade-off
    flexible = make_case(id="a-long-wait", ready_since=MEETING.replace(year=2023))
    only_option = make_case(id="b-short-wait", ready_since=MEETING.replace(year=2025), max_floor=0)
    ground_floor = make_dwelling(id="d1", complex_key="c1")
    upstairs = make_dwelling(id="d2", complex_key="c2", floor=3)
    answer = explain_in_agenda(
        [flexible, only_option],
        [ground_floor, upstairs],
        make_policy(),
        LIMITS_2026,
        MEETING,
        None,
        (),
        "a-long-wait",
        "d1",
    )
    assert answer.feasible and not answer.proposed
    trade = answer.trade_off
    assert (trade.housed, trade.housed_if_given, trade.trade_off) == (2, 1, "fewer_housed")
    assert (trade.dwelling_proposed_to, trade.case_proposed_dwelling) == ("b-short-wait", "d2")
    assert {(c.case_id, c.dwelling_id, c.moves_to_dwelling_id) for c in trade.changes} == {
        ("a-long-wait", "d2", "d1"),
        ("b-short-wait", "d1", None),
    }


def test_why_not_names_the_cap_usage_that_blocked_the_pair():
    usage = SpreadUsage(per_neighbourhood={"BU00340101": 5})
    answer = explain_in_agenda(
        [make_case()],
        [make_dwelling()],
        make_policy(),
        LIMITS_2026,
        MEETING,
        usage,
        (),
        "case-1",
        "dwelling-1",
    )
    [reason] = answer.reasons
    assert reason.code == "neighbourhood_cap_reached"
    assert reason.detail == {
        "neighbourhood": "BU00340101",
        "usage": 5,
        "cap": 5,
        "window_months": 24,
    }


def test_why_not_for_a_case_outside_the_inputs_is_refused():
    with pytest.raises(ValueError):
        explain_in_agenda(
            [make_case()],
            [make_dwelling()],
            make_policy(),
            LIMITS_2026,
            MEETING,
            None,
            (),
            "case-2",
            "dwelling-1",
        )


def test_an_equally_good_alternative_is_named_as_such():
    twins = [make_case(id="case-a"), make_case(id="case-b")]
    home = make_dwelling()
    answers = [
        explain_in_agenda(
            twins, [home], make_policy(), LIMITS_2026, MEETING, None, (), c.id, home.id
        )
        for c in twins
    ]
    assert sorted(a.proposed for a in answers) == [False, True]
    [other] = [a for a in answers if not a.proposed]
    assert other.trade_off.trade_off == "equal_alternative"
    assert replace(other.trade_off, changes=[]).housed_if_given == 1


def _changes(displaced):
    return [(d.case_id, d.dwelling_id, d.score, d.moves_to_dwelling_id) for d in displaced]


@settings(max_examples=150, deadline=None)
@given(tables(feasible_heavy=True))
def test_why_not_names_the_agendas_best_alternative_of_an_unhoused_case(table):
    result = match(*table)
    for entry in result.left_unhoused:
        trade = explain_in_agenda(*table, (), entry.case_id, entry.dwelling_id).trade_off
        assert (trade.housed_if_given, trade.total_score_if_given, trade.trade_off) == (
            entry.housed_if_given,
            entry.total_score_if_given,
            entry.trade_off,
        )
        assert _changes(trade.changes) == _changes(entry.displaced)


def test_why_not_on_an_unhoused_case_names_the_agendas_alternative_among_equal_ones():
    # twins x and y hold both dwellings; the short waiter fits only the ground floor. Giving it
    # the ground floor drops one twin either way: dropping x, or moving x upstairs and dropping
    # y, are worth the same. Why-not used to re-solve on its own and name the second, while the
    # agenda's left_unhoused entry names the first.
    twins = [make_case(id="case-x"), make_case(id="case-y")]
    short_waiter = make_case(id="case-z", ready_since=MEETING.replace(month=1), max_floor=0)
    dwellings = [
        make_dwelling(id="d1", complex_key="c1"),
        make_dwelling(id="d2", complex_key="c2", floor=3),
    ]
    cases = [*twins, short_waiter]
    policy = make_policy()
    [entry] = match(cases, dwellings, policy, LIMITS_2026, MEETING).left_unhoused
    assert (entry.case_id, entry.dwelling_id) == ("case-z", "d1")
    trade = explain_in_agenda(
        cases, dwellings, policy, LIMITS_2026, MEETING, None, (), "case-z", "d1"
    ).trade_off
    assert [(d.case_id, d.moves_to_dwelling_id) for d in entry.displaced] == [("case-x", None)]
    assert _changes(trade.changes) == _changes(entry.displaced)
    assert (trade.housed_if_given, trade.total_score_if_given) == (
        entry.housed_if_given,
        entry.total_score_if_given,
    )


@settings(max_examples=100, deadline=None)
@given(tables(feasible_heavy=True))
def test_why_not_gives_a_passed_over_case_the_count_the_agenda_gives_it(table):
    result = match(*table)
    for proposal in result.proposals:
        for over in proposal.passed_over:
            trade = explain_in_agenda(
                *table, (), over.case_id, over.alternative_dwelling_id
            ).trade_off
            assert (trade.housed_if_given, trade.trade_off) == (
                over.housed_if_given,
                over.trade_off,
            )
            if over.received_dwelling_id is None:  # from the case's left_unhoused entry
                changed = {(c.case_id, c.dwelling_id) for c in trade.changes}
                assert (proposal.case_id, proposal.dwelling_id) in changed
