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
    - the action its aftercare entries suggest (`suggested_action_kind`: none about it is handed
      out any more, 409 `case_anonymised`; `aftercare_without_suggestions`);
    - the case's best alternative (`left_unhoused`: a dwelling that passed every hard rule for
      it, with its score there), and its id and score where another case's alternative houses
      it besides (`also_housed`, as a care provider reads another provider's case);
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
    aftercare = document.get("aftercare") or []
    frozen.update(e["case_id"] for e in aftercare)
    unhoused = document.get("left_unhoused", [])
    frozen.update(u["case_id"] for u in unhoused)
    frozen.update(c["case_id"] for u in unhoused for c in u.get("also_housed", []))
    anonymised = anonymised_among(session, frozen)
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
    if aftercare:
        cleaned["aftercare"] = aftercare_without_suggestions(aftercare, anonymised)
    if "left_unhoused" in document:
        cleaned["left_unhoused"] = [
            {**u, "also_housed": housed_besides_without(u["also_housed"], anonymised)}
            if "also_housed" in u
            else u
            for u in unhoused
            if u["case_id"] not in anonymised
        ]
    if bottlenecks:
        cleaned["bottlenecks"] = _bottlenecks_without(bottlenecks, anonymised)
    return cleaned


def aftercare_without_suggestions(
    entries: list[dict[str, Any]], anonymised: set[str]
) -> list[dict[str, Any]]:
    """A frozen aftercare section (`app.aftercare.agenda.section`) whose entries of the
    `anonymised` cases suggest no action, as the live section's do not: none about such a
    case is handed out any more (409 `case_anonymised`). The entries stay (what was due, the
    signals' codes)."""
    return [
        {**e, "suggested_action_kind": None} if e["case_id"] in anonymised else e for e in entries
    ]


def anonymised_among(session: Session, case_ids: set[str]) -> set[str]:
    """Of `case_ids` (as strings; a hidden one, None, is skipped), the cases retention
    anonymised."""
    if not case_ids:
        return set()
    return {
        str(case_id)
        for case_id in session.exec(
            select(Case.id).where(
                col(Case.id).in_(sorted(uuid.UUID(c) for c in case_ids if c)),
                col(Case.anonymised_at).is_not(None),
            )
        )
    }


def housed_besides_without(
    also_housed: list[dict[str, Any]], anonymised: set[str]
) -> list[dict[str, Any]]:
    """An alternative's `also_housed` without the id and score of the anonymised cases it
    houses besides (the dwelling it gives one fits it), as a care provider reads another
    provider's case there; the dwelling and the count stay."""
    return [
        {**c, "case_id": None, "score": None} if c["case_id"] in anonymised else c
        for c in also_housed
    ]


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
