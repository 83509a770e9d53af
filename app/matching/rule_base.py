"""What a hard rule is (`Rule`: a code, a vectorised check, an explanation) and what it reads:
the cases and dwellings of one evaluation (`Batch`) or one pair (`Pair`). The rules are in
`app.matching.rules`, the loops over them in `app.matching.failures`."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import numpy as np

from app.matching.declines import DeclineIndex
from app.matching.facts import CaseFacts, PreparedArrays
from app.matching.results import Detail
from app.matching.types import CaseProfile, Dwelling, Policy, SpreadUsage, YearLimits

Block = tuple[np.ndarray, np.ndarray]
"""Cases x dwellings failing a rule: boolean masks over the cases and over the dwellings (every
selected case fails on every selected dwelling), or, for a rule with `cells`, the index arrays of
the failing pairs (rows[k], cols[k])."""


@dataclass(frozen=True, slots=True)
class Batch:
    """What the vectorised checks broadcast over: the cases and dwellings of one evaluation."""

    cases: Sequence[CaseProfile]
    dwellings: Sequence[Dwelling]
    policy: Policy
    meeting_date: date
    usage: SpreadUsage
    prepared: PreparedArrays
    declines: DeclineIndex

    def part(self, rows: np.ndarray, cols: np.ndarray) -> "Batch":
        """The batch of the cases `rows` and the dwellings `cols` (index arrays): every rule
        decides a pair from that pair alone, so its failures are the same cells of this batch's."""
        return Batch(
            [self.cases[i] for i in rows.tolist()],
            [self.dwellings[j] for j in cols.tolist()],
            self.policy,
            self.meeting_date,
            self.usage,
            self.prepared.part(rows, cols),
            self.declines,
        )

    @property
    def every_case(self) -> np.ndarray:
        return np.ones(len(self.cases), dtype=bool)

    @property
    def every_dwelling(self) -> np.ndarray:
        return np.ones(len(self.dwellings), dtype=bool)

    def of_cases(self, values: Sequence[Any], dtype: type = bool) -> np.ndarray:
        """One value per case, as a column."""
        return np.fromiter(values, dtype=dtype, count=len(self.cases))

    def of_dwellings(self, values: Sequence[Any], dtype: type = bool) -> np.ndarray:
        """One value per dwelling, as a column."""
        return np.fromiter(values, dtype=dtype, count=len(self.dwellings))

    def where_case(self, values: Sequence[Any], value: Any) -> np.ndarray:
        """The cases whose `values` entry equals `value`."""
        return np.array([v == value for v in values], dtype=bool)

    def where_dwelling(self, values: Sequence[Any], value: Any) -> np.ndarray:
        """The dwellings whose `values` entry equals `value`."""
        return np.array([v == value for v in values], dtype=bool)


@dataclass(frozen=True, slots=True)
class Pair:
    """One (case, dwelling) pair and everything its figures are read from."""

    case: CaseProfile
    dwelling: Dwelling
    policy: Policy
    limits: YearLimits
    meeting_date: date
    usage: SpreadUsage
    facts: CaseFacts
    declines: DeclineIndex


class Rule:
    """One hard rule.

    `code`: its stable reason code. `blocks`: the pairs of a batch that fail it, as blocks that
    never overlap (so per-case and per-dwelling counts add up exactly), one block per distinct
    value on the case side (cap, rooms range, excluded areas...) or the dwelling side (minimum age,
    corporation): the work is proportional to the failing pairs, not to the matrix per rule.
    `explain`: the figures that decided a failing pair (money as '713.02'); called only for a pair
    `blocks` found failing.
    """

    code: ClassVar[str]
    cells: ClassVar[bool] = False

    def blocks(self, batch: Batch) -> Iterator[Block]:
        raise NotImplementedError

    def explain(self, pair: Pair) -> Detail:
        raise NotImplementedError
