"""Matching engine: hard rules, scores and the optimal proposal. Pure: no database, no HTTP.

Dataclasses in (`types`), ranked results out (`results`); see `match` for the weekly result.
"""

from app.matching.engine import greedy_baseline, match
from app.matching.evaluation import Evaluation, evaluate, explain_pair
from app.matching.results import (
    BlockedCase,
    BottleneckGroup,
    Bottlenecks,
    CaseCandidates,
    DwellingCandidates,
    DwellingWithoutCandidates,
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
from app.matching.types import CaseProfile, Dwelling, Policy, ScoreWeights, SpreadUsage, YearLimits

__all__ = [
    "CAP_REASONS",
    "COMPONENT_NAMES",
    "REASON_CODES",
    "BlockedCase",
    "BottleneckGroup",
    "Bottlenecks",
    "CaseCandidates",
    "CaseProfile",
    "Dwelling",
    "DwellingCandidates",
    "DwellingWithoutCandidates",
    "Evaluation",
    "MatchResult",
    "MatchStats",
    "Optimality",
    "PairExplanation",
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
    "evaluate",
    "explain_pair",
    "greedy_baseline",
    "match",
]
