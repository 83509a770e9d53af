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

Choosing the complements: first, cheaply, no equation may keep exactly one hidden cell with a
rest (it would give it away); then, while the exact test finds derivable cells, hide for each a
visible cell sharing an equation with it, the smallest first (it costs the reader least).

Pure: no database, no HTTP.
"""

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.linalg import qr
from scipy.optimize import linprog
from scipy.sparse import coo_array, hstack, identity
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # ships no type information

PRIMARY_MAX = 4
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


def _in_row_space(matrix: np.ndarray) -> np.ndarray:
    """Per column j: whether the unit vector e_j lies in the row space of `matrix`."""
    if matrix.shape[0] == 0:
        return np.zeros(matrix.shape[1], dtype=bool)
    q, r, _ = qr(matrix.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.sum(diagonal > 1e-9 * max(1.0, diagonal.max(initial=0.0))))
    if rank == 0:
        return np.zeros(matrix.shape[1], dtype=bool)
    norms: np.ndarray = np.einsum("ij,ij->i", q[:, :rank], q[:, :rank])
    return norms > 1 - 1e-9


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
    if pinned:
        fixed = np.zeros((len(pinned), len(order)))
        for row, k in enumerate(sorted(pinned)):
            fixed[row, k] = 1.0
        matrix = np.vstack([matrix, fixed])
    follows = _in_row_space(matrix)
    return {order[k] for k in range(len(order)) if follows[k] or k in pinned}


def suppress(
    values: Values,
    equations: Sequence[Equation],
    *,
    known: frozenset[Hashable] = frozenset(),
    lower: Bounds | None = None,
) -> set[Hashable]:
    """The cells to hide from a viewer who knows `known` whole and its own part `lower` of every
    cell: the primary ones, plus complements until no hidden cell with a rest can be derived.

    `values`: cell -> count (None: not a count, never hidden). Returns a subset of the cells
    with a count, never a known one.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _suppress(values, equations, known, lower or {})


def _suppress(
    values: Values, equations: Sequence[Equation], known: frozenset[Hashable], lower: Bounds
) -> set[Hashable]:
    hidden = primary(values, known, lower)
    hideable = {c for c, v in values.items() if v is not None and c not in known}
    by_cell: dict[Hashable, list[int]] = {}
    for number, equation in enumerate(equations):
        for cell, _ in equation:
            by_cell.setdefault(cell, []).append(number)

    def with_rest(cells: set[Hashable]) -> set[Hashable]:
        return {c for c in cells if values[c] != lower.get(c, 0)}

    def exposed() -> set[Hashable]:
        found = with_rest(determined(hidden, equations))  # cheap first: the equations alone
        return found or with_rest(determined(hidden, equations, values, lower))

    while True:
        _close_single_hidden(hidden, hideable, values, lower, equations)
        cells = exposed()
        if not cells:
            return hidden
        added = _complements(cells, hidden, hideable, values, equations, by_cell)
        if not added:  # nothing visible is left next to a hidden cell
            return hidden | hideable
        hidden |= added


def _complements(
    cells: set[Hashable],
    hidden: set[Hashable],
    hideable: set[Hashable],
    values: Values,
    equations: Sequence[Equation],
    by_cell: dict[Hashable, list[int]],
) -> set[Hashable]:
    """Complements for a round: one next to each derivable cell that no complement of this round
    touches yet (one hidden neighbour often frees several), so that the exact test, the costly
    part, runs a few times rather than once per cell. A cell pinned through cells further away
    (no visible neighbour) gets one next to some other hidden cell."""
    added: set[Hashable] = set()
    touched: set[int] = set()
    for cell in sorted(cells, key=repr):
        if touched & set(by_cell.get(cell, [])):
            continue
        complement = _complement(cell, hidden | added, hideable, values, equations, by_cell)
        if complement is not None:
            added.add(complement)
            touched |= set(by_cell.get(complement, []))
    if added:
        return added
    for cell in sorted(hidden - cells, key=repr):
        complement = _complement(cell, hidden, hideable, values, equations, by_cell)
        if complement is not None:
            return {complement}
    return set()


def _close_single_hidden(
    hidden: set[Hashable],
    hideable: set[Hashable],
    values: Values,
    lower: Bounds,
    equations: Sequence[Equation],
) -> None:
    """While an equation has exactly one hidden cell with a rest, hide the visible cell that
    closes the most such equations at once (then the smallest)."""
    while True:
        singles = []
        for equation in equations:
            inside = [cell for cell, _ in equation if cell in hidden]
            if len(inside) == 1 and values[inside[0]] != lower.get(inside[0], 0):
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
        hidden.add(min(reach, key=lambda c: (-reach[c], values[c], repr(c))))


def _complement(
    cell: Hashable,
    hidden: set[Hashable],
    hideable: set[Hashable],
    values: Values,
    equations: Sequence[Equation],
    by_cell: dict[Hashable, list[int]],
) -> Hashable | None:
    """The visible cell to hide next to `cell`: the smallest count sharing an equation with it
    (hiding a small cell costs the reader least), ties broken by name for determinism."""
    candidates = {
        other
        for number in by_cell.get(cell, [])
        for other, _ in equations[number]
        if other not in hidden and other in hideable
    }
    if not candidates:
        return None
    return min(candidates, key=lambda c: (values[c], repr(c)))
