# Size: one disclosure argument read in order (primary cells, the exact test for single cells, the
# search for small sums, the choice of complements); its docstring holds the proofs each step uses.
"""Cell suppression for figures shown to organisations that may not see the cases.

What the reader knows. A restricted viewer (a care provider or a corporation) holds more than the
answer in front of it:
- the visible cells, and the equations between cells the answer publishes (row and column
  totals, identities such as housed = own lease + intermediate lease, the backlog flow
  equation): each `sum(coefficient * cell) == 0`;
- that every count is a non-negative integer;
- its own data. Of every cell it knows its own part (`lower[c]`: its own cases or dwellings
  counted in the cell), so the cell is at least that; some cells it knows whole (`known`: its
  own row), so their values are fixed.
What must not follow is the rest of a cell: `value - lower`, the other organisations' people.

Primary suppression hides every cell that is not known and whose rest is 1 to 4. (For a viewer
without own data in the cell that is every count of 1 to 4.) A rest of 0 reveals nobody, and a
known cell reveals nothing the viewer does not have; both may be shown.

Complementary suppression then hides more cells until no hidden cell with a rest above 0 can be
derived. "Derived" is meant exactly, over the reals: x_j is derived when every real solution x
of the published equations that agrees with the visible and known cells and keeps every hidden
cell at or above its own part has the same x_j.

The test, `determined`. Let H be the hidden cells, A_H the equations restricted to them (visible
and known cells are constants), x* the true values and Z the hidden cells at their bound
(x*_h = lower_h). Solutions form a convex set containing x*, so x_j can differ from x*_j in some
solution exactly when some direction d in the cone C = {A_H d = 0, d_Z >= 0} has d_j != 0 (x* + εd
is a solution for small ε > 0, as cells outside Z have room).
1. Which cells of Z can move: one linear programme, maximise sum(t_k) over d in C with
   0 <= t_k <= d_k and t_k <= 1. C is closed under addition and positive scaling and its
   Z-coordinates are >= 0, so directions add up without cancelling on Z: the optimum has t_k = 1
   exactly for the k some direction raises (Z_free) and t_k = 0 for the others (Z_fixed, pinned
   at their bound in every solution).
2. An optimal d* has d*_k > 0 on Z_free, so for any d in L = {A_H d = 0, d_{Z_fixed} = 0} also
   d* + εd lies in C for small ε: C spans L. A cell outside Z_fixed can therefore move exactly
   when e_j is not in the row space of L's equations. With Q an orthonormal basis of that row
   space (a rank-revealing QR decomposition with column pivoting), e_j lies in it exactly when
   row j of Q has norm 1.
Z_fixed cells sit at their own part: their rest is 0, deriving them reveals nobody.

Integers. The argument is over the reals. When the equations form a totally unimodular matrix
(every two-way table with margins, whichever cells are fixed), the polytope of solutions has
integral vertices, so a cell that can move over the reals takes at least two integer values; the
tests check this by brute force on small tables. The monitor's full system (the flow equation
and the identities between measures) is not totally unimodular in general: there the guarantee
is the real one above.

Sums. Cells one at a time are not all a reader can work out: a sum of hidden cells can be fixed
though none of its cells is. Two backlogs shown months apart, with the exits between them shown,
give the new ready cases of the months between, each month hidden; a provider that knows 2 of
them its own learns that the others had 1. The flow equation links every period to the next, so
such a sum can span any periods of the answer. A sum of hidden cells is a count of people too, so
it gets the primary rule: no set S of hidden cells whose sum follows from what is shown may have a
rest of 1 to PRIMARY_MAX. Rests are never negative, so such an S holds at most PRIMARY_MAX cells
with a rest, each a primary cell, besides any number of cells with rest 0.

The test, `small_sums`, is deliberately a little stronger than "the sum follows". It treats every
hidden cell with rest 0 as if the reader knew it (so its column drops out, with any coefficient),
and asks whether the indicator vector 1_T of a set T of at most PRIMARY_MAX primary cells with
rests adding up to at most PRIMARY_MAX lies in the row space of the equations over the remaining
hidden cells. Every sum the exact definition finds is found (the reader's bound on a sum comes
from a combination y of the equations that leaves, on the hidden cells, 1_S plus terms on cells
at their bound; all of those have rest 0), and a few more: a combination such as x_T - x_z
with x_z at its bound gives the reader only a lower bound on x_T, and is hidden all the same.
Cells with a rest above PRIMARY_MAX keep their columns (a sum holding one has a rest above
PRIMARY_MAX). With P orthonormal rows spanning that row space (the QR decomposition below),
1_T lies in it exactly when the projection (I - P^T P) 1_T vanishes. The search is exhaustive:
T of one cell, two, three (at most one with rest 2) and four (all with rest 1), found by meeting
in the middle on two fixed random projections of those vectors (the right halves are sorted,
each left half looks up those that cancel it), every candidate then checked on the whole vector.
It takes about (number of primary cells)^2 steps and has no time limit, so an answer never
depends on the machine's load.

Choosing the complements: first, cheaply, no equation may keep exactly one hidden cell with a
rest (it would give it away); then, while the exact test finds derivable cells, hide for each a
visible cell sharing an equation with it, the smallest first (it costs the reader least); then,
while `small_sums` finds sums, hide for each the smallest visible cell with a rest (a cell with
rest 0 would not break the sum) that shares an equation with one of its cells, or failing that,
with a hidden cell linked to it through equations. When no visible cell is left that could break
a derivation, a derived cell whose rest is above PRIMARY_MAX is shown instead (its value follows
anyway: showing it tells the reader nothing, and a cell another table decided, which it cannot
hide, often pins one); only a derived small cell or small sum leaves hiding every cell.
"Smallest" is by rest, the other organisations' people in the cell, never by the whole count:
where the viewer knows its own part of every cell (a care provider), every choice then follows
from the others' counts and the table's shape alone, so a viewer that adds, moves or closes its
own cases between two answers finds the same cells hidden in both.
Chosen by the whole count, a provider that registered a few cases in October saw the
backlogs of February and September hidden, and those of June and October shown, where the
answer before showed them the other way round; together the two answers gave a quarter's
other exits, four of another provider's clients, that each answer hid.

Showing what follows anyway: complements are chosen by their rest, so one holding nobody else's
people (rest 0) is often hidden first, and may then follow from the cells shown beside it. At
the end every hidden cell that `determined` finds (non-negativity included) and that holds none
of the other organisations' people is shown again, unless another table decided it
(`fixed_hidden`) or the answer never shows it (`unshown`). Its value is the same in every
solution of what is shown, so showing it leaves the solutions, and every cell and sum protected
above, as they were; hidden, it only invited the reader to work it out (a corporation's page
showed "Gehuisvest" hidden beside "eigen huurcontract 1, tussenhuur 1" of its own two housings,
and a total row hidden beside the months it adds up).

The equations protected are those the caller passes; for the monitor's flows
(`app.monitor.flow_equations.year_system`) they are every relation the answers publish: each
group row and the total row (group sums, also of the backlog before the year), each quarter and
the year as sums of their months (a backlog as its last month's), housed = own lease +
intermediate lease, other exits = returned + withdrawn, the backlog flow equation month by month,
and the waiting-time histogram adding up to the year's housed. The rule they protect: the spec's
"shared figures suppress cells under 5 for organisations that may not see the cases"
(docs/domain.md, *Monitoring*), read as README *Privacy* states it: nothing hidden follows
from what is shown.

Pure: no database, no HTTP.
"""

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.linalg import qr
from scipy.optimize import linprog
from scipy.sparse import coo_array, hstack, identity
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # ships no type information

PRIMARY_MAX = 4
# The sum search meets in the middle on tuples of at most two cells: sets of up to four.
assert PRIMARY_MAX <= 4
SUM_SEED = 20261201  # fixed projections: the same answer every time
MOST_SUMS = 64  # sums one search returns (one round of complements breaks them all)
_MATCH = 1e-7  # projections closer than this are checked on the whole vector
_ZERO = 1e-9  # squared norm of a vector that vanishes (the QR's own error is about 1e-14)
Equation = Sequence[tuple[Hashable, float]]  # sum(coefficient * cell) == 0
# Keys are cell ids of any hashable type; Mapping is invariant in its key, so a caller's
# dict[tuple[str, str], int] would not be a Mapping[Hashable, int].
Values = Mapping[Any, int | None]
Bounds = Mapping[Any, int]


def primary(
    values: Values, known: frozenset[Hashable] = frozenset(), lower: Bounds | None = None
) -> set[Hashable]:
    """The cells whose rest (value minus the viewer's own part) is 1 to PRIMARY_MAX."""
    lower = lower or {}
    return {
        c
        for c, value in values.items()
        if value is not None and c not in known and 0 < value - lower.get(c, 0) <= PRIMARY_MAX
    }


def _restricted(hidden: list[Hashable], equations: Sequence[Equation]) -> np.ndarray:
    """The equations as rows over the hidden cells (the others are constants)."""
    index = {cell: k for k, cell in enumerate(hidden)}
    rows = []
    for equation in equations:
        row = np.zeros(len(hidden))
        touched = False
        for cell, coefficient in equation:
            if cell in index:
                row[index[cell]] += coefficient
                touched = True
        if touched:
            rows.append(row)
    return np.array(rows).reshape(len(rows), len(hidden))


def _row_space_basis(matrix: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the row space of `matrix` (m x n), as the columns of an
    n x rank array (a rank-revealing QR decomposition with column pivoting)."""
    if matrix.shape[0] == 0:
        return np.zeros((matrix.shape[1], 0))
    q, r, _ = qr(matrix.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.sum(diagonal > 1e-9 * max(1.0, diagonal.max(initial=0.0))))
    basis: np.ndarray = q[:, :rank]
    return basis


def _in_row_space(matrix: np.ndarray) -> np.ndarray:
    """Per column j: whether the unit vector e_j lies in the row space of `matrix`.

    Rows with a single nonzero go first, exactly: such a row is a multiple of e_j, so j is in,
    and for every other column i, e_i lies in the row space exactly when it lies in that of
    the other rows without column j (e_j matches any value there, as for a pinned cell in
    `determined`). Repeated, this takes the cells that follow one by one out of the pivoted QR
    decomposition, the costly part: a monitor table's largest matrices (761 x 755 at eight
    providers) shrink to 663 x 668."""
    follows = np.zeros(matrix.shape[1], dtype=bool)
    rows = np.ones(matrix.shape[0], dtype=bool)
    nonzero = matrix != 0
    while True:
        live = nonzero[rows][:, ~follows]
        single = live.sum(axis=1) == 1
        if not single.any():
            break
        columns = np.flatnonzero(~follows)[live[single].argmax(axis=1)]
        follows[columns] = True
        rows[np.flatnonzero(rows)[single]] = False
    rest = np.flatnonzero(~follows)
    if len(rest):
        basis = _row_space_basis(matrix[np.ix_(rows, rest)])
        norms: np.ndarray = np.einsum("ij,ij->i", basis, basis)
        follows[rest] = norms > 1 - 1e-9
    return follows


def _pinned_at_bound(matrix: np.ndarray, at_bound: list[int]) -> set[int]:
    """Step 1 of the module's test: the cells of Z (columns `at_bound`) no direction raises."""
    n, z = matrix.shape[1], len(at_bound)
    # Variables: d (n, free except d_Z >= 0), then t (z, in [0, 1]); maximise sum(t).
    cost = np.concatenate([np.zeros(n), -np.ones(z)])
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * n + [(0.0, 1.0)] * z
    for k in at_bound:
        bounds[k] = (0.0, None)
    pick = coo_array((-np.ones(z), (np.arange(z), np.array(at_bound))), shape=(z, n))
    upper = hstack([pick, identity(z)], format="csr")  # t_k - d_k <= 0
    equal = hstack([coo_array(matrix), coo_array((matrix.shape[0], z))], format="csr")
    result = linprog(
        cost,
        A_ub=upper,
        b_ub=np.zeros(z),
        A_eq=equal if matrix.shape[0] else None,
        b_eq=np.zeros(matrix.shape[0]) if matrix.shape[0] else None,
        bounds=bounds,
        method="highs",
    )
    if result.status != 0:  # cannot happen (d = 0, t = 0 is feasible and sum(t) <= z); be safe
        return set(at_bound)
    raised = result.x[n:] > 0.5
    return {k for k, moves in zip(at_bound, raised, strict=True) if not moves}


def determined(
    hidden: set[Hashable],
    equations: Sequence[Equation],
    values: Values | None = None,
    lower: Bounds | None = None,
) -> set[Hashable]:
    """The hidden cells whose value follows from the visible ones (see the module docstring).

    Without `values` only the equations count (the linear test); with them also that no hidden
    cell goes below its bound (`lower`, default 0).
    """
    if not hidden:
        return set()
    order = sorted(hidden, key=repr)
    matrix = _restricted(order, equations)
    pinned: set[int] = set()
    if values is not None:
        lower = lower or {}
        at_bound = [k for k, c in enumerate(order) if values[c] == lower.get(c, 0)]
        if at_bound:
            pinned = _pinned_at_bound(matrix, at_bound)
    # A pinned cell is a constant to the reader, so its column goes, as a visible cell's does:
    # for any other cell j, e_j lies in the row space of the equations plus the unit rows of
    # the pinned cells exactly when it lies in the row space of the equations without those
    # columns (the unit rows match any value there). The same answer as appending the unit
    # rows, from a smaller decomposition.
    free = [k for k in range(len(order)) if k not in pinned]
    follows = _in_row_space(matrix[:, free]) if free else np.zeros(0, dtype=bool)
    return {order[k] for k in pinned} | {order[k] for k, f in zip(free, follows, strict=True) if f}


def small_sums(
    hidden: set[Hashable],
    equations: Sequence[Equation],
    values: Values,
    lower: Bounds | None = None,
    unshown: frozenset[Hashable] = frozenset(),
    most: int = MOST_SUMS,
) -> list[set[Hashable]]:
    """Sets of hidden cells whose sum the reader may work out and whose rest adds up to 1 to
    PRIMARY_MAX ("Sums" in the module docstring): the smallest such sets first, at most `most`,
    no two sharing a cell; [] when there is none.

    `unshown`: hidden cells the answer never shows (the backlog before its first period); they
    take part in the equations and are never summed.
    """
    lower = lower or {}
    rest = {c: (values[c] or 0) - lower.get(c, 0) for c in hidden}
    columns = sorted((c for c in hidden if rest[c] > 0), key=repr)
    targets = [k for k, c in enumerate(columns) if rest[c] <= PRIMARY_MAX and c not in unshown]
    if not targets:
        return []
    basis = _row_space_basis(_restricted(columns, equations))
    rows = basis[targets]
    shadow = np.random.default_rng(SUM_SEED).standard_normal((len(columns), 2))
    # The projections of (I - P^T P) e_j; a set cancels exactly when its vectors add up to 0.
    shades = (shadow - basis @ (basis.T @ shadow))[targets]
    rests = np.array([rest[columns[k]] for k in targets])

    def cancels(members: tuple[int, ...]) -> bool:
        total = rows[list(members)].sum(axis=0)
        return len(members) - float(total @ total) < _ZERO

    for size in range(1, PRIMARY_MAX + 1):
        found = _cancelling(size, shades, rests, cancels, most)
        if found:
            return [{columns[targets[k]] for k in members} for members in found]
    return []


def _tuples(size: int, rests: np.ndarray, most_rest: int) -> np.ndarray:
    """Every increasing tuple of `size` (0 to 2) indexes whose rests add up to at most
    `most_rest`, as rows of a (count x size) array."""
    if size == 0:
        return np.zeros((1, 0), dtype=np.intp)
    if size == 1:
        return np.flatnonzero(rests <= most_rest)[:, np.newaxis]
    first, second = np.triu_indices(len(rests), k=1)
    keep = rests[first] + rests[second] <= most_rest
    return np.stack([first[keep], second[keep]], axis=1)


def _cancelling(
    size: int,
    shades: np.ndarray,
    rests: np.ndarray,
    cancels: Callable[[tuple[int, ...]], bool],
    most: int,
) -> list[tuple[int, ...]]:
    """Disjoint sets of `size` target indexes whose rests add up to at most PRIMARY_MAX and
    whose vectors cancel, at most `most`. Meets in the middle: a left half of size // 2 looks up,
    in the sorted first projection of the right halves, those that cancel it; both projections
    must cancel before the whole vectors are checked."""
    half = size // 2
    left = _tuples(half, rests, PRIMARY_MAX - (size - half))
    right = _tuples(size - half, rests, PRIMARY_MAX - half)
    if len(left) == 0 or len(right) == 0:
        return []
    left_shade = shades[left].sum(axis=1)
    right_shade = shades[right].sum(axis=1)
    order = np.argsort(right_shade[:, 0], kind="stable")
    keys = right_shade[order, 0]
    low = np.searchsorted(keys, -left_shade[:, 0] - _MATCH, "left")
    high = np.searchsorted(keys, -left_shade[:, 0] + _MATCH, "right")
    found: list[tuple[int, ...]] = []
    used: set[int] = set()
    for i in np.flatnonzero(high > low):
        for j in order[low[i] : high[i]]:
            members = (*left[i], *right[j])
            if (
                (half and left[i][-1] >= right[j][0])  # each set once, in increasing order
                or abs(left_shade[i, 1] + right_shade[j, 1]) > _MATCH
                or rests[list(members)].sum() > PRIMARY_MAX
                or used & set(members)
                or not cancels(members)
            ):
                continue
            found.append(tuple(int(k) for k in members))
            used |= set(members)
            if len(found) == most:
                return found
    return found


def suppress(
    values: Values,
    equations: Sequence[Equation],
    *,
    known: frozenset[Hashable] = frozenset(),
    lower: Bounds | None = None,
    own: Bounds | None = None,
    unshown: frozenset[Hashable] = frozenset(),
    fixed_hidden: frozenset[Hashable] = frozenset(),
) -> set[Hashable]:
    """The cells to hide from a viewer who knows `known` whole and its own part `lower` of every
    cell: the primary ones, plus complements until no hidden cell with a rest can be derived, nor
    a sum of hidden cells whose rest is 1 to PRIMARY_MAX.

    `values`: cell -> count (None: not a count, never hidden). `own`: the viewer's own part of
    every cell, also where it knows it only in total (a corporation knows how many of its
    housings the waiting-time histogram holds, not in which bucket); default `lower`. The search
    for sums counts the rest against it: a sum whose rest the viewer would know only if it knew
    more is hidden all the same, which covers every sum it can work out whole. `unshown`: cells
    of `values` the answer never shows (the backlog before its first period), which the reader
    must solve for; they take part in the equations and are never protected themselves.
    `fixed_hidden`: cells another answer already hides (the same cell in a table protected
    before); they start hidden and are protected like the primary ones. A cell another answer
    shows is passed in `known`: a constant the reader has.
    Returns a subset of the other cells with a count, never a known one.
    """
    lower = lower or {}
    with threadpool_limits(limits=1, user_api="blas"):
        hidden = _suppress(
            values, equations, known, lower, own or lower, unshown - known, fixed_hidden - known
        )
    return hidden - unshown


def _suppress(
    values: Values,
    equations: Sequence[Equation],
    known: frozenset[Hashable],
    lower: Bounds,
    own: Bounds,
    unshown: frozenset[Hashable],
    fixed_hidden: frozenset[Hashable],
) -> set[Hashable]:
    hidden = (primary(values, known, lower) - unshown) | unshown | (fixed_hidden - unshown)
    hideable = {c for c, v in values.items() if v is not None and c not in known | unshown}
    by_cell: dict[Hashable, list[int]] = {}
    for number, equation in enumerate(equations):
        for cell, _ in equation:
            by_cell.setdefault(cell, []).append(number)

    def has_rest(cell: Hashable) -> bool:
        return values[cell] != lower.get(cell, 0)

    # Complements are chosen by the other organisations' people they hold, never by the whole
    # count: the viewer's own part is the one thing it can change between two answers (a case
    # added, moved or closed), and a choice that followed it showed the same others' counts
    # once one way and once another, which together gave away what each answer hid.
    others = {c: (v or 0) - own.get(c, 0) for c, v in values.items()}

    def exposed() -> set[Hashable]:
        """Hidden cells with a rest that follow one by one, cheaply from the equations first."""
        found = {c for c in determined(hidden, equations) if has_rest(c)}
        found = found or {c for c in determined(hidden, equations, values, lower) if has_rest(c)}
        return found - unshown

    while True:
        _close_single_hidden(hidden, hideable, values, others, lower, equations, unshown)
        groups = [{c} for c in sorted(exposed(), key=repr)]
        useful: Callable[[Hashable], bool] = lambda _: True  # noqa: E731
        sums = not groups
        if sums:
            groups = small_sums(hidden, equations, values, own, unshown)
            if not groups:
                shown = _follows_without_rest(hidden, equations, values, lower, fixed_hidden)
                return hidden - shown
            useful = lambda c: values[c] != own.get(c, 0)  # noqa: E731  # rest 0 breaks no sum
        added = _complements(groups, hidden, hideable, others, equations, by_cell, useful)
        if not added:  # nothing visible is left that could help
            # A cell that follows whatever is hidden, and whose rest is above PRIMARY_MAX (a
            # complement, or pinned by cells another table decided), reveals nothing by being
            # shown: its value is public already. Show it rather than hide everything.
            harmless = {
                c
                for group in groups
                for c in group
                if c not in fixed_hidden and (values[c] or 0) - lower.get(c, 0) > PRIMARY_MAX
            }
            if not harmless or sums:
                return hidden | hideable
            hidden -= harmless
            hideable -= harmless
            continue
        hidden |= added


def _follows_without_rest(
    hidden: set[Hashable],
    equations: Sequence[Equation],
    values: Values,
    lower: Bounds,
    fixed_hidden: frozenset[Hashable],
) -> set[Hashable]:
    """The hidden cells to show after all: those that follow from what is shown (`determined`,
    non-negativity included) and hold none of the other organisations' people, except cells
    another table decided. Complements are chosen by their rest, so a cell with rest 0 is often
    hidden first, and then the equations it is in (housed = own lease + intermediate lease, a
    total over its rows, a quarter over its months) gave it back: a page hid "Gehuisvest" beside
    "eigen huurcontract 1, tussenhuur 1". Showing such a cell tells the reader nothing:
    its value is the same in every solution of what is shown, so the solutions stay the same,
    and so does every cell and sum the tests above protect."""
    follows = determined(hidden, equations, values, lower)
    return {c for c in follows if c not in fixed_hidden and values[c] == lower.get(c, 0)}


def _complements(
    groups: list[set[Hashable]],
    hidden: set[Hashable],
    hideable: set[Hashable],
    others: Bounds,
    equations: Sequence[Equation],
    by_cell: dict[Hashable, list[int]],
    useful: Callable[[Hashable], bool],
) -> set[Hashable]:
    """Complements for a round: one next to each group (a derivable cell, or the cells of a sum
    the reader may work out) that no complement of this round touches yet (one hidden neighbour
    often frees several), so that the exact tests, the costly part, run a few times rather than
    once per group. A group without a visible neighbour gets one next to the hidden cells linked
    to it through equations, the nearest first."""
    added: set[Hashable] = set()
    touched: set[int] = set()
    for group in groups:
        if touched & {number for cell in group for number in by_cell.get(cell, [])}:
            continue
        complement = _complement(
            group, hidden | added, hideable, others, equations, by_cell, useful
        )
        if complement is not None:
            added.add(complement)
            touched |= set(by_cell.get(complement, []))
    return added


def _close_single_hidden(
    hidden: set[Hashable],
    hideable: set[Hashable],
    values: Values,
    others: Bounds,
    lower: Bounds,
    equations: Sequence[Equation],
    unshown: frozenset[Hashable],
) -> None:
    """While an equation has exactly one hidden cell, and that one has a rest and is shown
    elsewhere, hide the visible cell that closes the most such equations at once (then the one
    with the fewest `others`)."""
    while True:
        singles = []
        for equation in equations:
            inside = [cell for cell, _ in equation if cell in hidden]
            if (
                len(inside) == 1
                and inside[0] not in unshown
                and values[inside[0]] != lower.get(inside[0], 0)
            ):
                singles.append(equation)
        if not singles:
            return
        reach: dict[Hashable, int] = {}
        for equation in singles:
            for cell, _ in equation:
                if cell not in hidden and cell in hideable:
                    reach[cell] = reach.get(cell, 0) + 1
        if not reach:
            return
        hidden.add(min(reach, key=lambda c: (-reach[c], others[c], repr(c))))


def _complement(
    group: set[Hashable],
    hidden: set[Hashable],
    hideable: set[Hashable],
    others: Bounds,
    equations: Sequence[Equation],
    by_cell: dict[Hashable, list[int]],
    useful: Callable[[Hashable], bool],
) -> Hashable | None:
    """The visible cell to hide next to `group`: of the `useful` cells sharing an equation with
    one of its cells, the one holding the fewest other organisations' people (`others`; hiding a
    small cell costs the reader least), ties broken by name for determinism. Without one there,
    the search widens to the hidden cells linked to the group, one equation further each step."""
    reached, frontier = set(group), set(group)
    while frontier:
        neighbours = {
            other
            for cell in frontier
            for number in by_cell.get(cell, [])
            for other, _ in equations[number]
        }
        candidates = {c for c in neighbours - hidden if c in hideable and useful(c)}
        if candidates:
            return min(candidates, key=lambda c: (others[c], repr(c)))
        frontier = (neighbours & hidden) - reached
        reached |= frontier
    return None
