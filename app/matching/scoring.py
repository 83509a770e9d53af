"""Score components of a feasible pair and their weighted sum.

Both paths below evaluate the same float expressions in the same order (points = weight * value,
summed left to right in COMPONENT_NAMES order) and round to integer micro-points, so the scalar
explanation and the vectorised matrix agree to the last unit.
"""

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import date

import numpy as np

from app.matching.areas import area_matrix, first_containing_area
from app.matching.facts import CaseFacts, PreparedArrays
from app.matching.results import ScoreComponent
from app.matching.types import CaseProfile, Dwelling, ScoreWeights
from app.matching.units import SCORE_SCALE, output_score

COMPONENT_NAMES: tuple[str, ...] = (
    "waiting_time",
    "urgency",
    "preferred_area",
    "support_fit",
    "registration",
    "rent_headroom",
)
DAYS_PER_YEAR = 365.25
MAX_REGISTRATION_YEARS = 10.0


def weight_values(weights: ScoreWeights) -> tuple[float, ...]:
    """Weights in COMPONENT_NAMES order (the dataclass declares them in that order)."""
    values = tuple(float(w) for w in astuple(weights))
    if not all(np.isfinite(values)):
        raise ValueError("score weights must be finite")
    return values


def component_values(
    case: CaseProfile,
    dwelling: Dwelling,
    facts: CaseFacts,
    test_rent_cents: int,
    meeting_date: date,
) -> tuple[float, ...]:
    """The unweighted components of one pair, in COMPONENT_NAMES order."""
    waiting = max(0, (meeting_date - case.ready_since).days) / DAYS_PER_YEAR
    urgency = 1.0 if case.urgency else 0.0
    preferred = first_containing_area(case.preferred_areas, dwelling.neighbourhood_code)
    support = case.support_intensity == "intensive" and dwelling.complex_manager
    registration = min(MAX_REGISTRATION_YEARS, facts.months_registered / 12)
    cap = facts.affordability.cap_cents
    headroom = min(1.0, max(0.0, (cap - test_rent_cents) / cap))
    return (
        waiting,
        urgency,
        1.0 if preferred is not None else 0.0,
        1.0 if support else 0.0,
        registration,
        headroom,
    )


def weighted_total(values: Sequence[float], weights: Sequence[float]) -> float:
    total = weights[0] * values[0]
    for weight, value in zip(weights[1:], values[1:], strict=True):
        total = total + weight * value
    return total


def score_units(values: Sequence[float], weights: Sequence[float]) -> int:
    """The pair's score as integer micro-points (half to even, as numpy.rint)."""
    return round(weighted_total(values, weights) * SCORE_SCALE)


def components(values: Sequence[float], weights: Sequence[float]) -> list[ScoreComponent]:
    """Output form: every figure rounded to 4 decimals."""
    return [
        ScoreComponent(name, round(value, 4), weight, round(weight * value, 4))
        for name, value, weight in zip(COMPONENT_NAMES, values, weights, strict=True)
    ]


@dataclass(frozen=True, slots=True, eq=False)
class ScoreColumns:
    """Per-case and per-dwelling inputs of the score, gathered once; pairs are scored on demand."""

    waiting_time: np.ndarray  # (C,) float
    urgency: np.ndarray  # (C,) float
    registration: np.ndarray  # (C,) float
    intensive: np.ndarray  # (C,) bool
    complex_manager: np.ndarray  # (V,) bool
    preferred: np.ndarray  # (C, neighbourhoods) bool
    neighbourhood_index: np.ndarray  # (V,)
    cap_cents: np.ndarray  # (C,) int64
    test_rent_cents: np.ndarray  # (V,) int64


def score_columns(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    prepared: PreparedArrays,
    meeting_date: date,
) -> ScoreColumns:
    count = len(cases)
    waiting_days = np.fromiter(
        ((meeting_date - c.ready_since).days for c in cases), dtype=np.int64, count=count
    )
    return ScoreColumns(
        waiting_time=np.maximum(0, waiting_days) / DAYS_PER_YEAR,
        urgency=np.fromiter((c.urgency for c in cases), dtype=bool, count=count).astype(float),
        registration=np.minimum(MAX_REGISTRATION_YEARS, prepared.months_registered / 12),
        intensive=np.fromiter(
            (c.support_intensity == "intensive" for c in cases), dtype=bool, count=count
        ),
        complex_manager=np.fromiter(
            (d.complex_manager for d in dwellings), dtype=bool, count=len(dwellings)
        ),
        preferred=area_matrix([c.preferred_areas for c in cases], prepared.neighbourhoods),
        neighbourhood_index=prepared.neighbourhood_index,
        cap_cents=prepared.cap_cents,
        test_rent_cents=prepared.test_rent_cents,
    )


def pair_values(columns: ScoreColumns, rows: np.ndarray, cols: np.ndarray) -> list[np.ndarray]:
    """Component values of the pairs (rows[k], cols[k]), in COMPONENT_NAMES order."""
    cap = columns.cap_cents[rows]
    headroom = (cap - columns.test_rent_cents[cols]) / cap
    return [
        columns.waiting_time[rows],
        columns.urgency[rows],
        columns.preferred[rows, columns.neighbourhood_index[cols]].astype(np.float64),
        (columns.intensive[rows] & columns.complex_manager[cols]).astype(np.float64),
        columns.registration[rows],
        np.clip(headroom, 0.0, 1.0),
    ]


def pair_score_units(values: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Integer micro-points per pair, summed in the same order as `weighted_total`."""
    total = weights[0] * values[0]
    for weight, array in zip(weights[1:], values[1:], strict=True):
        total = total + weight * array
    return np.rint(total * SCORE_SCALE).astype(np.int64)


PAIRS_PER_CHUNK = 1 << 20
"""`pair_units` scores this many pairs at a time: its six float64 temporaries stay near 50 MB
however many pairs a table has (a table of 16,000 x 5,000 has some nine million)."""


def pair_units(
    columns: ScoreColumns, rows: np.ndarray, cols: np.ndarray, weights: Sequence[float]
) -> np.ndarray:
    """`pair_score_units(pair_values(...))` of the pairs (rows[k], cols[k]), chunk by chunk;
    entry for entry the same (every step is elementwise)."""
    units = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), PAIRS_PER_CHUNK):
        part = slice(start, start + PAIRS_PER_CHUNK)
        units[part] = pair_score_units(pair_values(columns, rows[part], cols[part]), weights)
    return units


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index of each distinct value, index of each value's distinct entry).

    Distinct by bit pattern, so 0.0 and -0.0 (which round to different output) stay apart."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    _, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def shared_components(
    columns: ScoreColumns, rows: np.ndarray, cols: np.ndarray, weights: Sequence[float]
) -> list[list[ScoreComponent]]:
    """`components` of the pairs (rows[k], cols[k]), equal figure for figure, built once per
    distinct (component, value): pairs share the frozen objects. Most components are the case's
    own (waiting time, urgency, registration) or yes/no, so a few thousand objects and roundings
    serve tens of thousands of listed pairs instead of six of each per pair."""
    per_name = []
    for name, weight, value in zip(
        COMPONENT_NAMES, weights, pair_values(columns, rows, cols), strict=True
    ):
        first, inverse = _distinct(value)
        built = np.empty(len(first), dtype=object)
        built[:] = [
            ScoreComponent(name, round(v, 4), weight, round(weight * v, 4))
            for v in value[first].tolist()
        ]
        per_name.append(built[inverse].tolist())
    return [list(parts) for parts in zip(*per_name, strict=True)]


def output_scores(units: np.ndarray) -> list[float]:
    """`units.output_score` of every entry, vectorised and equal to it entry by entry.

    Micro-points to 4 decimals is an integer division by 100 rounded half to even: away from a
    tie the float `u / SCORE_SCALE` is far closer to `u / 10**6` than to the tie, so rounding
    the integer gives `round`'s decimal, and dividing it by 10**4 gives the float nearest to it,
    as `round` returns. Exact ties (remainder 50) depend on the float's error: those, rare, go
    through `output_score` itself. Python's `round` keeps the sign of a negative score that
    rounds to zero (-0.0), so the same is done here."""
    units = np.asarray(units, dtype=np.int64)
    step = SCORE_SCALE // 10_000
    whole, rest = np.divmod(units, step)
    scores = (whole + (rest > step // 2)) / 10_000
    scores = np.where((scores == 0) & (units < 0), -0.0, scores)
    ties = np.flatnonzero(rest == step // 2)
    scores[ties] = [output_score(u) for u in units[ties].tolist()]
    result: list[float] = scores.tolist()
    return result
