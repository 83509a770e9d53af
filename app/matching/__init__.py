"""Matching engine: hard rules, scores and the optimal proposal. Pure: no database, no HTTP.

Dataclasses in (`types`), ranked results out (`results`); see `match` for the weekly result.
"""

from app.matching.bottlenecks import find_bottlenecks
from app.matching.candidates import case_candidates, dwelling_candidates
from app.matching.declines import DECLINE_DECISIONS
from app.matching.engine import greedy_baseline, match
from app.matching.evaluation import Evaluation, evaluate, explain_pair, pair_failures
from app.matching.facts import IncomeLimit, applicable_income_limit
from app.matching.results import (
    AlsoHoused,
    BlockedCase,
    BottleneckGroup,
    Bottlenecks,
    CaseCandidates,
    Displaced,
    DwellingCandidates,
    DwellingWithoutCandidates,
    LeftUnhoused,
    MatchResult,
    MatchStats,
    Optimality,
    PairExplanation,
    PassedOver,
    Proposal,
    RankedCase,
    RankedDwelling,
    ReasonBottleneck,
    RuleFailure,
    ScoreComponent,
)
from app.matching.rules import CAP_REASONS, REASON_CODES
from app.matching.scoring import COMPONENT_NAMES
from app.matching.tradeoffs import TRADE_OFFS
from app.matching.types import (
    AowAges,
    AowCohort,
    CaseProfile,
    Dwelling,
    EarlierDecline,
    Policy,
    ScoreWeights,
    SpreadUsage,
    YearLimits,
)
from app.matching.units import output_score
from app.matching.whynot import AgendaPairExplanation, PairTradeOff, explain_in_agenda

__all__ = [
    "CAP_REASONS",
    "COMPONENT_NAMES",
    "DECLINE_DECISIONS",
    "REASON_CODES",
    "TRADE_OFFS",
    "AgendaPairExplanation",
    "AlsoHoused",
    "AowAges",
    "AowCohort",
    "BlockedCase",
    "BottleneckGroup",
    "Bottlenecks",
    "CaseCandidates",
    "CaseProfile",
    "Displaced",
    "Dwelling",
    "DwellingCandidates",
    "DwellingWithoutCandidates",
    "EarlierDecline",
    "Evaluation",
    "IncomeLimit",
    "LeftUnhoused",
    "MatchResult",
    "MatchStats",
    "Optimality",
    "PairExplanation",
    "PairTradeOff",
    "PassedOver",
    "Policy",
    "Proposal",
    "RankedCase",
    "RankedDwelling",
    "ReasonBottleneck",
    "RuleFailure",
    "ScoreComponent",
    "ScoreWeights",
    "SpreadUsage",
    "YearLimits",
    "applicable_income_limit",
    "case_candidates",
    "dwelling_candidates",
    "evaluate",
    "explain_in_agenda",
    "explain_pair",
    "find_bottlenecks",
    "greedy_baseline",
    "match",
    "output_score",
    "pair_failures",
]
