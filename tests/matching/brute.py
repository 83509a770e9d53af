"""Brute force over every one-to-one assignment of a tiny problem: the optimum to test against."""

from collections.abc import Iterator

import numpy as np

from app.matching.solver import AssignmentProblem


def assignments(problem: AssignmentProblem, forced: int | None = None) -> Iterator[list[int]]:
    """Every set of edges that houses each case and fills each dwelling at most once and keeps
    every cap (containing edge `forced` if given)."""
    by_case: dict[int, list[int]] = {}
    for e in range(problem.edges):
        by_case.setdefault(int(problem.edge_case[e]), []).append(e)
    cases = sorted(by_case)

    def within_caps(chosen: list[int]) -> bool:
        dwellings = problem.edge_dwelling[chosen]
        complexes = np.bincount(problem.complex_of[dwellings], minlength=len(problem.complex_room))
        hoods = np.bincount(
            problem.neighbourhood_of[dwellings], minlength=len(problem.neighbourhood_room)
        )
        return bool(
            np.all(complexes <= problem.complex_room)
            and np.all(hoods <= problem.neighbourhood_room)
        )

    def extend(k: int, chosen: list[int], used: set[int]) -> Iterator[list[int]]:
        if not within_caps(chosen):
            return
        if k == len(cases):
            if forced is None or forced in chosen:
                yield list(chosen)
            return
        yield from extend(k + 1, chosen, used)
        for e in by_case[cases[k]]:
            v = int(problem.edge_dwelling[e])
            if v not in used:
                yield from extend(k + 1, [*chosen, e], used | {v})

    yield from extend(0, [], set())


def best(problem: AssignmentProblem, forced: int | None = None) -> tuple[int, int]:
    """(most housed, highest total score at that count); (-1, 0) if nothing contains `forced`."""
    result = (-1, 0)
    for chosen in assignments(problem, forced):
        candidate = (len(chosen), int(problem.edge_score[chosen].sum()))
        result = max(result, candidate)
    return result
