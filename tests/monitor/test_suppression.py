"""Suppression: small counts of other organisations' people are hidden, and no hidden count can be
worked out from the rest, from non-negativity or from what the viewer knows of its own data."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.monitor.suppression import (
    _in_row_space,
    _row_space_basis,
    determined,
    small_sums,
    suppress,
)
from tests.properties import examples


def table_equations(rows: int, cols: int) -> list:
    """A rows x cols table with row totals, column totals and a grand total."""
    equations = []
    for i in range(rows):
        equations.append([((i, j), 1.0) for j in range(cols)] + [((i, "T"), -1.0)])
    for j in range(cols):
        equations.append([((i, j), 1.0) for i in range(rows)] + [(("T", j), -1.0)])
    equations.append([((i, "T"), 1.0) for i in range(rows)] + [(("T", "T"), -1.0)])
    return equations


def with_totals(cells: dict, rows: int, cols: int) -> dict:
    values = dict(cells)
    for i in range(rows):
        values[(i, "T")] = sum(cells[(i, j)] for j in range(cols))
    for j in range(cols):
        values[("T", j)] = sum(cells[(i, j)] for i in range(rows))
    values[("T", "T")] = sum(cells.values())
    return values


def test_a_single_small_cell_in_a_row_gets_a_complement_in_its_row_and_column():
    cells = {(0, 0): 3, (0, 1): 10, (1, 0): 12, (1, 1): 20}
    values = with_totals(cells, 2, 2)
    hidden = suppress(values, table_equations(2, 2))
    assert (0, 0) in hidden
    assert determined(hidden, table_equations(2, 2), values) == set()
    assert len(hidden) >= 4  # a 2x2 rectangle is the least that protects one cell


def test_counts_of_five_and_zero_are_shown():
    cells = {(0, 0): 0, (0, 1): 5, (1, 0): 7, (1, 1): 9}
    values = with_totals(cells, 2, 2)
    assert suppress(values, table_equations(2, 2)) == set()


def test_an_identity_between_measures_is_respected():
    # housed = own + intermediate: hiding only `own` would be undone by the identity.
    values = {"own": 3, "intermediate": 9, "housed": 12}
    hidden = suppress(values, [[("own", 1.0), ("intermediate", 1.0), ("housed", -1.0)]])
    assert "own" in hidden and len(hidden) >= 2


def test_a_count_pinned_by_non_negativity_is_derived_though_the_equations_leave_it_free():
    # 1 0 | 1    The four inner cells hidden, the totals shown: the equations alone leave a
    # 0 0 | 0    rectangle of freedom, but the zero row total pins its cells at 0, so the 1 is
    # 1 0        known exactly.
    values = with_totals({(0, 0): 1, (0, 1): 0, (1, 0): 0, (1, 1): 0}, 2, 2)
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1)}
    equations = table_equations(2, 2)
    assert determined(hidden, equations) == set()
    assert (0, 0) in determined(hidden, equations, values)
    protected = suppress(values, equations)
    assert not {(0, 0)} & determined(protected, equations, values)


def test_the_viewer_cannot_work_out_the_other_provider_from_its_own_row():
    """The issue's case: provider A has 1 ready case, B 4. A knows its own 1; with the total 5
    shown, B's 4 would follow. So the total is hidden too, and A's own row may be shown."""
    values = {"A": 1, "B": 4, "total": 5}
    equations = [[("A", 1.0), ("B", 1.0), ("total", -1.0)]]
    hidden = suppress(values, equations, known=frozenset({"A"}), lower={"A": 1, "total": 1})
    assert hidden == {"B", "total"}
    assert determined(hidden, equations, values, {"total": 1}) == set()


def test_without_the_viewers_knowledge_the_old_answer_gave_the_other_provider_away():
    values = {"A": 1, "B": 4, "total": 5}
    equations = [[("A", 1.0), ("B", 1.0), ("total", -1.0)]]
    hidden = suppress(values, equations)
    assert hidden == {"A", "B"}  # protected against a stranger, not against A
    assert "B" in determined(hidden - {"A"}, equations, values)


def test_a_total_that_is_all_but_a_few_the_viewers_own_is_hidden():
    # A stranger may see the total 6; A, owning 3 of it, would learn the others have 3.
    values = {"total": 6}
    assert suppress(values, []) == set()
    assert suppress(values, [], lower={"total": 3}) == {"total"}
    assert suppress(values, [], lower={"total": 6}) == set()  # all its own: nobody else's


# Two months of a backlog: b2 = b1 + n2 - e2, b3 = b2 + n3 - e3 (n new ready, e exits).
CHAIN = [
    [("b2", 1.0), ("b1", -1.0), ("n2", -1.0), ("e2", 1.0)],
    [("b3", 1.0), ("b2", -1.0), ("n3", -1.0), ("e3", 1.0)],
]
CHAIN_VALUES = {"b1": 49, "n2": 2, "e2": 0, "b2": 51, "n3": 1, "e3": 0, "b3": 52}
CHAIN_OWN = {"b1": 30, "n2": 1, "b2": 31, "b3": 31}  # the viewer's own: 1 of June's 2 new


def test_a_sum_over_two_periods_follows_though_neither_of_its_cells_does():
    """With both months' new ready cases and the backlog between them hidden, no cell follows,
    but the backlogs around them give n2 + n3 = 3, of which the others' part is 3 - 1 = 2."""
    hidden = {"n2", "n3", "b2"}
    assert determined(hidden, CHAIN, CHAIN_VALUES, CHAIN_OWN) == set()
    assert small_sums(hidden, CHAIN, CHAIN_VALUES, CHAIN_OWN) == [{"n2", "n3"}]


def test_no_sum_of_hidden_cells_holding_a_few_others_follows_across_periods():
    hidden = suppress(CHAIN_VALUES, CHAIN, lower=CHAIN_OWN)
    assert {"n2", "n3"} <= hidden
    assert small_sums(hidden, CHAIN, CHAIN_VALUES, CHAIN_OWN) == []
    assert all(
        CHAIN_VALUES[c] == CHAIN_OWN.get(c, 0)
        for c in determined(hidden, CHAIN, CHAIN_VALUES, CHAIN_OWN)
    )


def test_two_small_cells_whose_sum_a_total_gives_are_not_protected_by_each_other():
    """2 and 2 beside 30 under a shown total: hiding just the two small ones leaves their sum,
    4 people, readable from the total; the large one is hidden too."""
    values = {"a": 2, "b": 2, "c": 30, "total": 34}
    equations = [[("a", 1.0), ("b", 1.0), ("c", 1.0), ("total", -1.0)]]
    assert small_sums({"a", "b"}, equations, values) == [{"a", "b"}]
    hidden = suppress(values, equations)
    assert hidden >= {"a", "b"} and hidden & {"c", "total"}
    assert small_sums(hidden, equations, values) == []


def test_a_sum_counts_the_viewers_own_people_also_where_it_does_not_know_their_cell():
    """A corporation housed 2 of the 3 people in the histogram, their buckets unknown to it.
    Against what it knows bucket by bucket the hidden buckets hold 3 others; against its own
    people wherever they are, 1: the sum is found, so the search errs on the side of hiding."""
    values = {"h1": 2, "h2": 1, "housed": 3}
    equations = [[("h1", 1.0), ("h2", 1.0), ("housed", -1.0)]]
    assert small_sums({"h1", "h2"}, equations, values, {"housed": 2}) == [{"h1", "h2"}]
    own = {"housed": 2, "h1": 2}
    assert small_sums({"h1", "h2"}, equations, values, own) == [{"h2"}]
    hidden = suppress(values, equations, lower={"housed": 2}, own=own)
    assert small_sums(hidden, equations, values, own) == []


def test_a_cell_never_shown_takes_part_in_the_equations_but_is_not_protected():
    """The backlog before the first period: never shown, so the reader solves for it; a start of
    3 others that follows from the shown cells is no reason to hide more."""
    values = {"start": 3, "new": 10, "exits": 0, "backlog": 13}
    equations = [[("backlog", 1.0), ("start", -1.0), ("new", -1.0), ("exits", 1.0)]]
    unshown = frozenset({"start"})
    assert suppress(values, equations, unshown=unshown) == set()
    values["new"] = 2  # now the 2 new ones are primary, and 2 + start = 5 - exits
    hidden = suppress(values | {"backlog": 5}, equations, unshown=unshown)
    assert "new" in hidden and "start" not in hidden


# --- brute force: every non-negative integer table the reader cannot rule out ----------------


def alternatives(rows, cols, values, hidden, known, lower, cell):
    """Whether `cell` takes another value than its true one in some non-negative integer table
    that agrees with the shown and known cells and keeps every cell at or above the viewer's
    own part. A plain search over the hidden inner cells (the totals follow from them)."""
    inner = [(i, j) for i in range(rows) for j in range(cols)]
    free = [c for c in inner if c in hidden]
    free.sort(key=lambda c: c != cell)  # the cell in question first
    cap = values[("T", "T")] + 2  # a move of one person never needs more
    margins = [((i, "T"), [(i, j) for j in range(cols)]) for i in range(rows)]
    margins += [(("T", j), [(i, j) for i in range(rows)]) for j in range(cols)]
    margins += [(("T", "T"), inner)]
    fixed = [(total, parts) for total, parts in margins if total not in hidden]

    def feasible(assigned):
        for total, parts in fixed:
            known_sum = sum(
                assigned.get(p, values[p]) for p in parts if p not in free or p in assigned
            )
            open_parts = [p for p in parts if p in free and p not in assigned]
            if known_sum > values[total]:
                return False
            if not open_parts and known_sum != values[total]:
                return False
        return True

    def search(k, assigned):
        if k == len(free):
            return True
        c = free[k]
        if c == cell:
            choices = [v for v in range(lower.get(c, 0), cap + 1) if v != values[c]]
        else:
            choices = range(lower.get(c, 0), cap + 1)
        for v in choices:
            assigned[c] = v
            if feasible(assigned) and search(k + 1, assigned):
                return True
            del assigned[c]
        return False

    return search(0, {})


viewers = st.sampled_from(["stranger", "owns the first row", "owns part of every cell"])


@settings(max_examples=examples(150), derandomize=True)
@given(
    st.integers(2, 3),
    st.integers(2, 3),
    st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6]), min_size=9, max_size=9),
    st.lists(st.integers(0, 6), min_size=9, max_size=9),
    viewers,
)
def test_no_hidden_count_of_others_can_be_worked_out_on_random_small_tables(
    rows, cols, numbers, shares, viewer
):
    cells = {(i, j): numbers[i * cols + j] for i in range(rows) for j in range(cols)}
    values = with_totals(cells, rows, cols)
    known: frozenset = frozenset()
    own = dict.fromkeys(cells, 0)
    if viewer == "owns the first row":
        known = frozenset([*((0, j) for j in range(cols)), (0, "T")])
        own |= {(0, j): cells[(0, j)] for j in range(cols)}
    elif viewer == "owns part of every cell":
        own = {c: min(v, shares[k]) for k, (c, v) in enumerate(cells.items())}
    lower = with_totals(own, rows, cols)
    equations = table_equations(rows, cols)

    hidden = suppress(values, equations, known=known, lower=lower)

    assert not hidden & known
    small_rest = {c for c, v in values.items() if c not in known and 0 < v - lower[c] <= 4}
    assert small_rest <= hidden
    for cell in sorted(hidden, key=repr):
        if values[cell] == lower[cell]:
            continue  # nobody else's people in it: nothing to protect
        if cell[0] == "T" or cell[1] == "T":
            continue  # a hidden total moves with its inner cells, checked below
        assert alternatives(rows, cols, values, hidden, known, lower, cell), (cells, own, cell)
    # The exact test agrees with the search on this totally unimodular system.
    exposed = determined(hidden, equations, values, lower)
    assert all(values[c] == lower[c] for c in exposed)


def test_the_check_catches_protection_that_is_blind_to_the_viewer():
    """Provider A (first row: 1 and 6) and B (4 and 6): hiding the four inner cells protects B
    from a stranger, but A knows its own row, so the column total 5 gives B's 4 away."""
    cells = {(0, 0): 1, (0, 1): 6, (1, 0): 4, (1, 1): 6}
    values = with_totals(cells, 2, 2)
    known = frozenset({(0, 0), (0, 1), (0, "T")})
    lower = with_totals({(0, 0): 1, (0, 1): 6, (1, 0): 0, (1, 1): 0}, 2, 2)
    blind = suppress(values, table_equations(2, 2)) - known
    assert not alternatives(2, 2, values, blind, known, lower, (1, 0))
    aware = suppress(values, table_equations(2, 2), known=known, lower=lower)
    assert alternatives(2, 2, values, aware, known, lower, (1, 0))


def test_no_small_cell_can_be_pinned_on_any_2x2_table_of_small_counts():
    """Exhaustive over 2x2 tables with counts 0, 1, 3, 6, for a stranger and for a viewer who
    owns the first row."""
    equations = table_equations(2, 2)
    inner = [(0, 0), (0, 1), (1, 0), (1, 1)]
    checked = 0
    for numbers, owns_row in itertools.product(itertools.product([0, 1, 3, 6], repeat=4), (0, 1)):
        cells = dict(zip(inner, numbers, strict=True))
        values = with_totals(cells, 2, 2)
        own = {c: (v if owns_row and c[0] == 0 else 0) for c, v in cells.items()}
        lower = with_totals(own, 2, 2)
        known = frozenset({(0, 0), (0, 1), (0, "T")}) if owns_row else frozenset()
        hidden = suppress(values, equations, known=known, lower=lower)
        for cell in inner:
            if cell in hidden and 0 < values[cell] - lower[cell] <= 4:
                assert alternatives(2, 2, values, hidden, known, lower, cell), (cells, cell)
                checked += 1
    assert checked > 100


@settings(max_examples=examples(300), derandomize=True)
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.lists(st.sampled_from([0, 0, 0, 0, 1, 1, -1, 2]), min_size=81, max_size=81),
)
def test_taking_out_the_rows_with_one_cell_first_changes_no_answer(rows, cols, entries):
    # Sparse equations with small coefficients, as the monitor's are: the same cells follow
    # with the rows of one cell taken out first as with the whole matrix decomposed.
    matrix = np.array(entries[: rows * cols], dtype=float).reshape(rows, cols)
    whole = _row_space_basis(matrix)
    expected = np.einsum("ij,ij->i", whole, whole) > 1 - 1e-9
    assert _in_row_space(matrix).tolist() == expected.tolist()


# --- a hidden cell never follows from what is shown, not even one of the viewer's own ---------


def test_housings_all_in_the_viewers_dwellings_are_not_hidden_beside_their_leases():
    """The tester's case: a corporation's December holds only its own two housings (one own
    lease, one intermediate lease), October and November a few of other corporations'. Months
    are rows, the lease forms columns, housed the row total and the year the column totals.
    December's housed was hidden (a complement holding nobody else's people, so chosen first)
    beside "eigen huurcontract 1, tussenhuur 1": it followed all the same."""
    cells = {(0, 0): 2, (0, 1): 1, (1, 0): 3, (1, 1): 5, (2, 0): 1, (2, 1): 1}
    own = {c: (v if c[0] == 2 else 0) for c, v in cells.items()}
    values, lower = with_totals(cells, 3, 2), with_totals(own, 3, 2)
    equations = table_equations(3, 2)

    hidden = suppress(values, equations, lower=lower)

    assert {(0, 0), (0, 1), (1, 0)} <= hidden  # other corporations' few stay protected
    assert (2, "T") not in hidden
    assert determined(hidden, equations, values, lower) == set()


@settings(max_examples=examples(150), derandomize=True)
@given(
    st.integers(2, 4),
    st.lists(st.sampled_from([0, 0, 0, 1, 2, 3, 5, 6]), min_size=8, max_size=8),
    st.lists(st.integers(0, 6), min_size=8, max_size=8),
    st.sampled_from(["stranger", "owns part of every cell"]),
)
def test_no_hidden_cell_follows_from_the_shown_ones_on_random_lease_tables(
    months, numbers, shares, viewer
):
    """Months by lease form, with housed (the row totals) and the year (the column totals):
    whatever is hidden, its own part of the viewer's or not, cannot be read off the shown
    cells, the identities and non-negativity. A cell that follows is shown."""
    cells = {(i, j): numbers[i * 2 + j] for i in range(months) for j in range(2)}
    own = dict.fromkeys(cells, 0)
    if viewer == "owns part of every cell":
        own = {c: min(v, shares[k]) for k, (c, v) in enumerate(cells.items())}
    values, lower = with_totals(cells, months, 2), with_totals(own, months, 2)
    equations = table_equations(months, 2)

    hidden = suppress(values, equations, lower=lower)

    assert {c for c, v in values.items() if 0 < v - lower[c] <= 4} <= hidden
    assert determined(hidden, equations, values, lower) == set(), (cells, own, hidden)
