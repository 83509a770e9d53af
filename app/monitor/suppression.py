"""Cell suppression for figures shown to organisations that may not see the cases.

Primary suppression hides every count from 1 to 4 (a zero reveals nobody). Complementary
suppression then hides more cells until no hidden cell can be worked out from what is shown:
the published totals and identities are linear equations, and a hidden cell is derivable
exactly when its value is the same in every solution, i.e. when its unit vector lies in the row
space of the equations restricted to the hidden cells. We test that with a QR decomposition
and, while some hidden cell is still determined, hide another cell sharing an equation with it.
Pure: no database, no HTTP.
"""

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from scipy.linalg import qr

PRIMARY_MAX = 4
Equation = Sequence[tuple[Hashable, float]]  # sum(coefficient * cell) == 0


def primary(values: Mapping[Hashable, int | None]) -> set[Hashable]:
    return {c for c, value in values.items() if value is not None and 0 < value <= PRIMARY_MAX}


def determined(hidden: set[Hashable], equations: Sequence[Equation]) -> set[Hashable]:
    """The hidden cells whose value follows from the visible ones through the equations.

    x_j is determined exactly when e_j lies in the row space of the equations restricted to the
    hidden cells; with Q an orthonormal basis of that row space, when row j of Q has norm 1.
    """
    if not hidden:
        return set()
    order = sorted(hidden, key=repr)
    index = {cell: k for k, cell in enumerate(order)}
    rows = []
    for equation in equations:
        row = np.zeros(len(order))
        touched = False
        for cell, coefficient in equation:
            if cell in index:
                row[index[cell]] += coefficient
                touched = True
        if touched:
            rows.append(row)
    if not rows:
        return set()
    q, r, _ = qr(np.array(rows).T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.sum(diagonal > 1e-9 * max(1.0, diagonal.max(initial=0.0))))
    if rank == 0:
        return set()
    norms = np.einsum("ij,ij->i", q[:, :rank], q[:, :rank])
    return {order[k] for k in np.nonzero(norms > 1 - 1e-9)[0]}


def suppress(values: Mapping[Hashable, int | None], equations: Sequence[Equation]) -> set[Hashable]:
    """The cells to hide: primary ones, plus complements until none is derivable.

    First, cheaply, no equation may keep exactly one hidden cell (it would give it away); each
    complement is the visible cell closing the most such equations at once, then the smallest.
    Then the exact test above catches what combinations of equations still reveal.
    """
    hidden = primary(values)
    by_cell: dict[Hashable, list[int]] = {}
    for number, equation in enumerate(equations):
        for cell, _ in equation:
            by_cell.setdefault(cell, []).append(number)
    while True:
        _close_single_hidden(hidden, values, equations)
        exposed = determined(hidden, equations)
        if not exposed:
            return hidden
        cell = min(exposed, key=repr)
        complement = _complement(cell, hidden, values, equations, by_cell)
        if complement is None:  # everything around it is hidden and it is still pinned
            return hidden | {c for c in values if values[c] is not None}
        hidden.add(complement)


def _close_single_hidden(
    hidden: set[Hashable], values: Mapping[Hashable, int | None], equations: Sequence[Equation]
) -> None:
    while True:
        singles = [eq for eq in equations if sum(cell in hidden for cell, _ in eq) == 1]
        if not singles:
            return
        reach: dict[Hashable, int] = {}
        for equation in singles:
            for cell, _ in equation:
                if cell not in hidden and values.get(cell) is not None:
                    reach[cell] = reach.get(cell, 0) + 1
        if not reach:
            return
        hidden.add(min(reach, key=lambda c: (-reach[c], values[c], repr(c))))


def _complement(
    cell: Hashable,
    hidden: set[Hashable],
    values: Mapping[Hashable, int | None],
    equations: Sequence[Equation],
    by_cell: dict[Hashable, list[int]],
) -> Hashable | None:
    """The visible cell to hide next to `cell`: the smallest count sharing an equation with it
    (hiding a small cell costs the reader least), ties broken by name for determinism."""
    candidates = {
        other
        for number in by_cell.get(cell, [])
        for other, _ in equations[number]
        if other not in hidden and values.get(other) is not None
    }
    if not candidates:
        return None
    return min(candidates, key=lambda c: (values[c], repr(c)))
