"""CBS area codes nest by digits: GM0034 contains WK003401 contains BU00340101."""

from collections.abc import Iterable, Sequence

import numpy as np


def area_digits(code: str) -> str:
    """The digits of a CBS code without its two-letter prefix (GM, WK or BU)."""
    return code[2:]


def area_contains(area: str, neighbourhood: str) -> bool:
    """True if the neighbourhood lies in the area (the same code counts as containing itself)."""
    return area_digits(neighbourhood).startswith(area_digits(area))


def first_containing_area(areas: Iterable[str], neighbourhood: str) -> str | None:
    """The first of `areas` that contains the neighbourhood, for explanations."""
    return next((area for area in areas if area_contains(area, neighbourhood)), None)


def _containment(areas: frozenset[str], digits: Sequence[str]) -> np.ndarray:
    prefixes = tuple(area_digits(area) for area in areas)
    return np.fromiter((d.startswith(prefixes) for d in digits), dtype=bool, count=len(digits))


def area_groups(
    area_lists: Sequence[tuple[str, ...]], neighbourhoods: Sequence[str]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per distinct non-empty area list: (which lists have it, which neighbourhoods it contains).

    Many cases share the same (often empty) list, so each distinct list is resolved once.
    """
    digits = [area_digits(code) for code in neighbourhoods]
    members: dict[frozenset[str], list[int]] = {}
    for row, areas in enumerate(area_lists):
        if areas:
            members.setdefault(frozenset(areas), []).append(row)
    groups = []
    for key in sorted(members, key=sorted):
        rows = np.zeros(len(area_lists), dtype=bool)
        rows[members[key]] = True
        groups.append((rows, _containment(key, digits)))
    return groups


def area_matrix(area_lists: Sequence[tuple[str, ...]], neighbourhoods: Sequence[str]) -> np.ndarray:
    """Boolean (lists x neighbourhoods): does any area of list i contain neighbourhood j."""
    result = np.zeros((len(area_lists), len(neighbourhoods)), dtype=bool)
    for rows, hoods in area_groups(area_lists, neighbourhoods):
        result[rows] = hoods
    return result
