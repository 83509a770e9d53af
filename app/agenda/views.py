"""Who sees which view of an agenda, the views cut from the table's document (a care provider
its own cases, a corporation its own dwellings and no case details, both with suppressed
proposal counts), and the access log of the cases a view shows.
"""

import uuid
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.aftercare import agenda as aftercare
from app.agenda import open_proposals
from app.agenda.document import WHOLE, Scope
from app.agenda.inputs import Owners
from app.agenda.models import UNBLOCKED_FEWEST, AgendaView
from app.agenda.paging import mentioned_vacancies
from app.monitor.suppression import PRIMARY_MAX, suppress
from app.organisations.models import OrganisationKind
from app.principal import AGENDA_FOR_ORGANISATIONS
from app.problems import Forbidden
from app.tables.models import OutflowTable
from app.tables.service import reads_table

LONGEST_WAITING = 25


def view_for(context: AccessContext, table: OutflowTable) -> AgendaView:
    principal = context.principal
    if principal.is_operator:
        raise Forbidden(AGENDA_FOR_ORGANISATIONS)
    if reads_table(principal, table):
        return AgendaView.table
    if principal.organisation_kind == OrganisationKind.care_provider:
        return AgendaView.care_provider
    return AgendaView.housing_corporation


def scope_of(view: AgendaView, organisation_id: uuid.UUID, owners: Owners) -> Scope:
    """The candidate entries `view` keeps (`restrict` cuts the same), so they alone are built: a
    care provider its own cases' lists, a corporation its own dwellings' counts."""
    if view == AgendaView.table:
        return WHOLE
    me = str(organisation_id)
    if view == AgendaView.care_provider:
        own = frozenset(case for case, owner in owners["cases"].items() if owner == me)
        return Scope(case_ids=own, vacancy_ids=frozenset())
    own = frozenset(vacancy for vacancy, owner in owners["vacancies"].items() if owner == me)
    return Scope(case_ids=frozenset(), vacancy_ids=own, ranked=False)


def _hide_other_cases(
    changes: list[dict[str, Any]], own_case: Callable[[Any], bool]
) -> list[dict[str, Any]]:
    """Changes (or cases housed besides) as a care provider may see them: other providers'
    cases without id or score."""
    return [c if own_case(c["case_id"]) else {**c, "case_id": None, "score": None} for c in changes]


def restrict(
    document: dict[str, Any],
    view: AgendaView,
    organisation_id: uuid.UUID,
    owners: Owners,
    *,
    live: bool,
) -> dict[str, Any]:
    """Cut the table's document down to what `view` may see (a new dict in the shape of the
    view's model, `app.agenda.models.Agenda`; the input is kept).

    care_provider: its own cases only. housing_corporation: its own dwellings only, and no case
    details. Both get the summary suppressed (`restricted_summary`; `live`: computed from
    the day's records, not a published agenda).
    """
    if view == AgendaView.table:
        return dict(
            document,
            longest_waiting=document["longest_waiting"][:LONGEST_WAITING],
            open_actions=[_open_action(a) for a in document["open_actions"]],
            vacancies_without_candidates=[
                {k: v for k, v in entry.items() if k != UNBLOCKED_FEWEST}
                for entry in document["vacancies_without_candidates"]
            ],
        )
    me = str(organisation_id)
    head = {key: document[key] for key in HEAD_FIELDS}
    if view == AgendaView.care_provider:
        doc = head | _care_provider_part(document, me, owners)
    else:
        doc = head | _corporation_part(document, me, owners)
    doc["view"] = view.value
    doc["summary"] = restricted_summary(document, doc, live=live)
    if (
        view == AgendaView.housing_corporation
        and 0 < document["summary"]["ready_cases"] <= PRIMARY_MAX
    ):
        # With 1 to 4 ready cases a rule that alone would open a dwelling describes them.
        for entry in doc["vacancies_without_candidates"]:
            entry["unblocked_by"] = None
    mentioned = mentioned_vacancies(doc)
    doc["vacancies"] = [v for v in document["vacancies"] if v["id"] in mentioned]
    return doc


HEAD_FIELDS = ("table_id", "date", "generated_at", "policy", "limits", "limits_fallback")


def _care_provider_part(document: dict[str, Any], me: str, owners: Owners) -> dict[str, Any]:
    def own_case(case_id: Any) -> bool:
        return owners["cases"].get(str(case_id)) == me

    return {
        "proposals": [
            {
                **p,
                "passed_over": [
                    {**o, "housed_if_given": None}
                    for o in p["passed_over"]
                    if own_case(o["case_id"])
                ],
            }
            for p in document["proposals"]
            if own_case(p["case_id"])
        ],
        "candidates_by_case": [
            reasons_only(e) for e in document["candidates_by_case"] if own_case(e["case_id"])
        ],
        "bottlenecks": _restrict_bottlenecks(document["bottlenecks"], own_case),
        "left_unhoused": [
            {
                **u,
                "housed_if_given": None,  # the table's count give or take one: see summary
                "total_score_if_given": None,
                "displaced": _hide_other_cases(u["displaced"], own_case),
                # Absent from agendas published before it existed.
                **(
                    {"also_housed": _hide_other_cases(u["also_housed"], own_case)}
                    if "also_housed" in u
                    else {}
                ),
            }
            for u in document.get("left_unhoused", [])
            if own_case(u["case_id"])
        ],
        "longest_waiting": [w for w in document["longest_waiting"] if own_case(w["case_id"])][
            :LONGEST_WAITING
        ],
        "open_actions": [
            _open_action(a)
            for a in document["open_actions"]
            if a["owner_organisation_id"] == me or _about_own_case(a, me, own_case)
        ],
        "open_proposals": open_proposals.for_care_provider(document.get("open_proposals", []), me),
        "aftercare": aftercare.for_care_provider(document.get("aftercare", []), me),
    }


def _corporation_part(document: dict[str, Any], me: str, owners: Owners) -> dict[str, Any]:
    """Only the fields `CorporationAgenda` names, built afresh (nothing copied wholesale): its
    dwellings some case fits, without the count of those cases (`CorporationVacancyOut`)."""

    def own_vacancy(vacancy_id: Any) -> bool:
        return owners["vacancies"].get(str(vacancy_id)) == me

    return {
        # In dwelling order: the table's order (best score first) would rank the cases.
        "proposals": sorted(
            (
                {"case_id": p["case_id"], "vacancy_id": p["vacancy_id"]}
                for p in document["proposals"]
                if own_vacancy(p["vacancy_id"])
            ),
            key=lambda p: str(p["vacancy_id"]),
        ),
        "candidates_by_vacancy": [
            {"vacancy_id": e["vacancy_id"]}
            for e in document["candidates_by_vacancy"]
            if own_vacancy(e["vacancy_id"])
        ],
        "vacancies_without_candidates": [
            {"vacancy_id": v["vacancy_id"], "unblocked_by": _what_would_open(v)}
            for v in document["vacancies_without_candidates"]
            if own_vacancy(v["vacancy_id"])
        ],
        "open_actions": [
            {key: a[key] for key in CORPORATION_ACTION_FIELDS}
            for a in document["open_actions"]
            if a["owner_organisation_id"] == me
        ],
        "open_proposals": open_proposals.for_corporation(document.get("open_proposals", []), me),
        "aftercare": aftercare.for_corporation(document.get("aftercare", []), me),
    }


def _what_would_open(entry: dict[str, Any]) -> list[str] | None:
    """A dwelling's `unblocked_by` as its corporation reads it: null when a rule of it alone
    keeps 1 to 4 cases out, as those few cases are then what it describes (a dwelling of six
    rooms, which only one household fits, said of that family alone that it has no Wmo
    decision, though the table had many ready cases), and on an agenda frozen before that
    number was kept (it may have)."""
    reasons = entry["unblocked_by"]
    if not reasons:
        return []
    fewest = entry.get(UNBLOCKED_FEWEST)
    return None if fewest is None or fewest <= PRIMARY_MAX else list(reasons)


def _open_action(action: dict[str, Any]) -> dict[str, Any]:
    """An open action as the agenda shows it: without the care provider of its case, which
    only tells the views apart."""
    return {key: value for key, value in action.items() if key != "case_care_provider_id"}


def _about_own_case(action: dict[str, Any], me: str, own_case: Callable[[Any], bool]) -> bool:
    """Whether the action is about a case of the care provider `me`: any of its cases, also one
    the agenda does not match (not ready yet, on hold, in a proposal). An agenda frozen before
    the actions carried their case's care provider knows the matched cases only."""
    if not action["case_id"]:
        return False
    if "case_care_provider_id" in action:
        return bool(action["case_care_provider_id"] == me)
    return own_case(action["case_id"])


CORPORATION_ACTION_FIELDS = (
    "id",
    "kind",
    "owner_organisation_id",
    "meeting_id",
    "due_date",
    "overdue",
)


def restricted_summary(
    document: dict[str, Any], view_doc: dict[str, Any], *, live: bool
) -> dict[str, Any]:
    """The summary for a care provider or corporation (`RestrictedSummary`): no count of the
    table's cases, and `people_housed` with the monitor's suppression
    (`app.monitor.suppression.suppress`): null when the proposals not in the viewer's view
    (its own cases' for a care provider, its own dwellings' for a corporation) number 1 to 4.

    The table's ready and blocked cases and fitting pairs are left out whole: protected per
    agenda they were, but two agendas side by side gave the change between them (10 other
    providers' ready cases, then 12), and a table's counts change by a few cases a week. So are
    the dwellings taking part: those proposed leave the next agenda, whose count (frozen, or
    live just after the publish) fell by the proposals `people_housed` hid.

    A `live` agenda (not published) has `people_housed` null too: computed from each day's
    records, the count of one planned meeting asked on two days moved with the cases others
    registered in between (6, then 7: one more of another provider's clients fits). A
    published agenda gives each meeting's count once."""
    summary = document["summary"]
    values: dict[Any, int | None] = {"people_housed": summary["people_housed"]}
    hidden = suppress(values, [], lower={"people_housed": len(view_doc["proposals"])})
    if live:
        hidden.add("people_housed")
    out = {key: summary[key] for key in ("passed_over_complete", "solver", "optimal")}
    out["people_housed"] = None if "people_housed" in hidden else summary["people_housed"]
    out["persons_housed"] = None if out["people_housed"] is None else summary["persons_housed"]
    optimality = summary.get("optimality")
    out["optimality"] = None
    if optimality is not None:
        out["optimality"] = {
            "reason": optimality["reason"],
            "time_budget_seconds": optimality["time_budget_seconds"],
            # The bound is the least of the cases some dwelling fits, the dwellings some case
            # fits and their rooms: the table's counts these viewers get no more (see above).
            "people_housed_bound": None,
        }
    return out


def _restrict_bottlenecks(
    bottlenecks: dict[str, Any], own_case: Callable[[Any], bool]
) -> dict[str, Any]:
    """Blocked cases of the view (`excluded_reasons`, see `reasons_only`), with the per-reason
    and group counts recomputed over them: counts of the viewer's own cases only."""
    blocked = [b for b in bottlenecks["blocked_cases"] if own_case(b["case_id"])]
    by_reason = []
    for reason in bottlenecks["by_reason"]:
        case_ids = [c for c in reason["case_ids"] if own_case(c)]
        failing = sum(1 for b in blocked if reason["code"] in b["excluded_counts"])
        if case_ids or failing:
            by_reason.append(
                {
                    "code": reason["code"],
                    "cases_blocked_only_by": len(case_ids),
                    "case_ids": case_ids,
                    "blocked_cases_failing": failing,
                }
            )
    groups = []
    for group in bottlenecks["groups"]:
        case_ids = [c for c in group["case_ids"] if own_case(c)]
        if case_ids:
            groups.append({**group, "count": len(case_ids), "case_ids": case_ids})
    return {
        "blocked_cases": [reasons_only(b) for b in blocked],
        "by_reason": sorted(by_reason, key=lambda r: (-r["cases_blocked_only_by"], r["code"])),
        "groups": sorted(groups, key=lambda g: (-g["count"], g["reasons"])),
    }


def excluded_reasons(counts: dict[str, int]) -> list[str]:
    """The reason codes of `counts` (reason code -> partners it excludes), most-excluding first
    (ties by code), without the counts."""
    return [code for code, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def reasons_only(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` (a case's candidate list or blocked case) with `excluded_reasons` in place of
    `excluded_counts`, for every view but the table's. The counts gave away what the restricted
    summary hides: a rule of the client alone (a missing beschikking) excludes every dwelling,
    so its count was the number of dwellings taking part, and with `feasible_count` the counts
    bounded it otherwise; two agendas side by side then gave the proposals a suppressed
    `people_housed` hid (see `restricted_summary`)."""
    return {
        ("excluded_reasons" if key == "excluded_counts" else key): (
            excluded_reasons(value) if key == "excluded_counts" else value
        )
        for key, value in entry.items()
    }


def cases_shown(document: dict[str, Any]) -> set[str]:
    """Every case id a (restricted) document mentions, for the access log."""
    shown = {str(p["case_id"]) for p in document["proposals"]}
    shown |= {str(o["case_id"]) for p in document["proposals"] for o in p.get("passed_over") or []}
    shown |= {str(e["case_id"]) for e in document.get("candidates_by_case", [])}
    shown |= {
        str(c["case_id"])
        for e in document.get("candidates_by_vacancy", [])
        for c in e.get("candidates", [])
    }
    if bottlenecks := document.get("bottlenecks"):
        shown |= {str(b["case_id"]) for b in bottlenecks["blocked_cases"]}
        # Whole on every page while `blocked_cases` is paged: their ids are shown too.
        for section in ("by_reason", "groups"):
            shown |= {str(c) for entry in bottlenecks.get(section, []) for c in entry["case_ids"]}
    for entry in document.get("left_unhoused", []):
        shown.add(str(entry["case_id"]))
        shown |= {str(c["case_id"]) for c in entry["displaced"] if c["case_id"]}
        shown |= {str(c["case_id"]) for c in entry.get("also_housed", []) if c["case_id"]}
    shown |= {str(w["case_id"]) for w in document.get("longest_waiting", [])}
    shown |= {str(a["case_id"]) for a in document["open_actions"] if a.get("case_id")}
    shown |= {p["case_id"] for p in document.get("open_proposals", [])}
    shown |= {a["case_id"] for a in document.get("aftercare", [])}
    # A frozen agenda's changes name cases edited or become ready since, with their status.
    shown |= {c["id"] for c in document.get("changes", []) if c["subject"] == "case"}
    return shown


def log_cases_shown(
    session: Session, context: AccessContext, document: dict[str, Any], table_id: uuid.UUID
) -> None:
    entries = [(uuid.UUID(c), table_id) for c in sorted(cases_shown(document))]
    access_log.record(session, context, AccessAction.agenda, entries)
