"""The failure bitmask and the one loop over the hard rules (`app.matching.rules.RULES`) that
fills it: for every pair of an evaluation at once (`failure_matrix`) and for one pair asked about
(`rule_failures`: the same loop on that pair alone, then each failing rule's figures)."""

from collections.abc import Collection, Sequence
from datetime import date

import numpy as np

from app.matching.declines import NO_DECLINES, DeclineIndex
from app.matching.facts import CaseFacts, PreparedArrays, case_facts, prepare
from app.matching.results import RuleFailure
from app.matching.rule_base import Batch, Pair
from app.matching.rules import RULES
from app.matching.types import CaseProfile, Dwelling, Policy, SpreadUsage, YearLimits

ROWS_PER_PASS = 1024
"""Rows of the mask a block is written in at once (see `FailureMatrix.fail`)."""
WHOLE_ROWS_FROM = 12
"""`FailureMatrix.fail` writes a block's rows whole when it covers more than one column in
this many (measured: ORing a whole row costs about what gathering and scattering a tenth to a
twentieth of its cells does)."""


class FailureMatrix:
    """The (cases x dwellings) failure bitmask and, per case and per dwelling, how many pairs fail
    each reason.

    Reason `r` is bit `1 << r` (the index of its code in `rules.REASON_CODES`). Each rule marks its
    failures as blocks that never overlap (`rules.Rule.blocks`), so counts add up exactly.
    """

    def __init__(self, cases: int, dwellings: int, reasons: int) -> None:
        if reasons > 31:
            raise ValueError("the failure bitmask holds at most 31 reasons")
        self.mask = np.zeros((cases, dwellings), dtype=np.int32)
        self.case_counts = np.zeros((cases, reasons), dtype=np.int64)
        self.dwelling_counts = np.zeros((dwellings, reasons), dtype=np.int64)
        self._case_bits = np.zeros(cases, dtype=np.int32)
        self._dwelling_bits = np.zeros(dwellings, dtype=np.int32)

    def fail(self, r: int, case_rows: np.ndarray, dwelling_cols: np.ndarray) -> None:
        """Cases selected by `case_rows` fail reason `r` on dwellings selected by `dwelling_cols`
        (boolean masks)."""
        rows, cols = np.flatnonzero(case_rows), np.flatnonzero(dwelling_cols)
        if rows.size == 0 or cols.size == 0:
            return
        bit = np.int32(1 << r)
        cases, dwellings = self.mask.shape
        if cols.size == dwellings:  # a rule on the case alone
            self._case_bits[rows] |= bit
        elif rows.size == cases:  # a rule on the dwelling alone
            self._dwelling_bits[cols] |= bit
        elif cols.size * WHOLE_ROWS_FROM > dwellings:
            # The block's rows whole, ORed with the bit on its columns: contiguous rows copied
            # and ORed beat gathering and scattering single cells (`np.ix_`) or a masked
            # `bitwise_or(..., where=)` over every row, 2-10 times on a big city's blocks; in
            # slices of rows, so the copy of the rows is never the whole mask.
            row_bits = np.where(dwelling_cols, bit, np.int32(0))
            for start in range(0, rows.size, ROWS_PER_PASS):
                some = rows[start : start + ROWS_PER_PASS]
                self.mask[some] |= row_bits
        else:  # a few columns: only their cells
            self.mask[np.ix_(rows, cols)] |= bit
        self.case_counts[rows, r] += cols.size
        self.dwelling_counts[cols, r] += rows.size

    def fail_cells(self, r: int, rows: np.ndarray, cols: np.ndarray) -> None:
        """The pairs (rows[k], cols[k]) fail reason `r`; the pairs must be distinct."""
        if rows.size == 0:
            return
        cases, dwellings = self.mask.shape
        self.mask[rows, cols] |= np.int32(1 << r)
        self.case_counts[:, r] += np.bincount(rows, minlength=cases)
        self.dwelling_counts[:, r] += np.bincount(cols, minlength=dwellings)

    def finish(self) -> "FailureMatrix":
        """Fold the case-only and dwelling-only rules into the mask, in place (their outer OR
        would be a second matrix as large as the mask)."""
        if self._case_bits.any():
            np.bitwise_or(self.mask, self._case_bits[:, None], out=self.mask)
        if self._dwelling_bits.any():
            np.bitwise_or(self.mask, self._dwelling_bits[None, :], out=self.mask)
        return self


def failure_matrix(
    cases: Sequence[CaseProfile],
    dwellings: Sequence[Dwelling],
    policy: Policy,
    meeting_date: date,
    usage: SpreadUsage,
    prepared: PreparedArrays,
    declines: DeclineIndex = NO_DECLINES,
    only: Collection[str] | None = None,
) -> FailureMatrix:
    """Every rule over all pairs: the (cases x dwellings) failure bitmask, bit r for
    REASON_CODES[r], and the per-case and per-dwelling counts of each reason. `only`: just the
    rules with these codes (the others' bits stay clear)."""
    batch = Batch(cases, dwellings, policy, meeting_date, usage, prepared, declines)
    return batch_failures(batch, only)


def batch_failures(batch: Batch, only: Collection[str] | None = None) -> FailureMatrix:
    """`failure_matrix` of a batch."""
    out = FailureMatrix(len(batch.cases), len(batch.dwellings), len(RULES))
    for reason, rule in enumerate(RULES):
        if only is not None and rule.code not in only:
            continue
        for rows, cols in rule.blocks(batch):
            if rule.cells:
                out.fail_cells(reason, rows, cols)
            else:
                out.fail(reason, rows, cols)
    return out.finish()


def rule_failures(
    case: CaseProfile,
    dwelling: Dwelling,
    policy: Policy,
    limits: YearLimits,
    meeting_date: date,
    usage: SpreadUsage,
    facts: CaseFacts | None = None,
    declines: DeclineIndex = NO_DECLINES,
    only: Collection[str] | None = None,
) -> list[RuleFailure]:
    """Every failing rule of one pair (of the rules `only`, if given), in REASON_CODES order,
    with its deciding figures.

    Which rules fail is decided by `failure_matrix` on this one pair, as the agenda decides it;
    each failing rule then explains itself. Raises ValueError for an unknown policy, dwelling or
    case value and for rent caps that are not positive."""
    facts = facts or case_facts(case, policy, limits, meeting_date)
    prepared = prepare([case], [dwelling], policy, limits, meeting_date, [facts])
    bits = int(
        failure_matrix(
            [case], [dwelling], policy, meeting_date, usage, prepared, declines, only
        ).mask[0, 0]
    )
    pair = Pair(case, dwelling, policy, limits, meeting_date, usage, facts, declines)
    return [
        RuleFailure(rule.code, rule.explain(pair))
        for reason, rule in enumerate(RULES)
        if bits >> reason & 1
    ]
