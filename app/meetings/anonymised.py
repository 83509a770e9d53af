"""A frozen agenda as it may be read once some of its cases are anonymised (`app.cases.retention`):
without those cases' details in other words. The snapshot itself is never rewritten (rewriting a
meeting row after locking cases would go against the lock order), so they are left out as it is
read."""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from app.cases.models import Case


def without_anonymised_details(session: Session, document: dict[str, Any]) -> dict[str, Any]:
    """`document` (a frozen agenda) without what it says of the cases anonymised since:

    - the score components in proposals (urgency, support fit, registration years, rent
      headroom), which the proposals drop then;
    - the case's candidate dwellings, in its own list and in the dwellings' (the dwellings
      that passed every hard rule, and its score on each, are its needs, income and debts
      in other words: only the wheelchair-accessible one, none of the corporation it owes
      rent, the preferred area in the scores' steps); the counts (`feasible_count`) stay,
      and so does the proposal the table made (a decision, with its dwelling and score);
    - the case's excluded counts and, for a blocked case, the reasons that block it
      (`not_wheelchair_accessible`, `pets_not_allowed`, `rent_arrears`, `no_stable_income` ...:
      its needs, income and debts, which retention resets), and its id in the per-reason and
      per-group lists. Those lists' counts stay: they are the table's figures of that day, as
      the monitor's bottleneck history reads them."""
    by_case = document.get("candidates_by_case", [])
    by_vacancy = document.get("candidates_by_vacancy", [])
    bottlenecks = document.get("bottlenecks") or {}
    frozen = {p["case_id"] for p in document.get("proposals", [])}
    frozen.update(e["case_id"] for e in by_case)
    frozen.update(c["case_id"] for e in by_vacancy for c in e["candidates"])
    frozen.update(b["case_id"] for b in bottlenecks.get("blocked_cases", []))
    if not frozen:
        return document
    anonymised = {
        str(case_id)
        for case_id in session.exec(
            select(Case.id).where(
                col(Case.id).in_(sorted(uuid.UUID(c) for c in frozen)),
                col(Case.anonymised_at).is_not(None),
            )
        )
    }
    if not anonymised:
        return document

    def cleared(entry: dict[str, Any]) -> dict[str, Any]:
        return entry if entry["components"] is None else {**entry, "components": []}

    cleaned = {
        **document,
        "proposals": [
            cleared(p) if p["case_id"] in anonymised else p for p in document["proposals"]
        ],
        "candidates_by_case": [
            {**e, "excluded_counts": {}, "candidates": []} if e["case_id"] in anonymised else e
            for e in by_case
        ],
        "candidates_by_vacancy": [
            {**e, "candidates": [c for c in e["candidates"] if c["case_id"] not in anonymised]}
            for e in by_vacancy
        ],
    }
    if bottlenecks:
        cleaned["bottlenecks"] = _bottlenecks_without(bottlenecks, anonymised)
    return cleaned


def _bottlenecks_without(bottlenecks: dict[str, Any], anonymised: set[str]) -> dict[str, Any]:
    def unnamed(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "case_ids": [c for c in entry["case_ids"] if c not in anonymised]}

    return {
        **bottlenecks,
        "blocked_cases": [
            {
                **b,
                "excluded_counts": {},
                "unblocked_by": [],
                "min_reasons": None,
                "closest_reasons": [],
                "details_removed": True,
            }
            if b["case_id"] in anonymised
            else b
            for b in bottlenecks["blocked_cases"]
        ],
        "by_reason": [unnamed(r) for r in bottlenecks["by_reason"]],
        "groups": [unnamed(g) for g in bottlenecks["groups"]],
    }
