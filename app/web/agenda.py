# Size: the agenda's sections once for the page, the PDF and the CSV; split, the three would
# drift apart.
"""One meeting's agenda as the signed-in person's organisation may see it: loaded through the
meeting service (so it is the API's restricted document, and logged the same way), and cut into
the sections the page, the PDF and the CSV all show."""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, select

from app.actions import service as actions_service
from app.actions.models import Action, ActionStatus, is_overdue
from app.areas import service as areas_service
from app.meetings import service as meetings_service
from app.meetings.models import Meeting, MeetingStatus
from app.organisations.service import names_of
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.tables.models import OutflowTable, TablePublic
from app.tables.service import table_public
from app.timeutil import today
from app.vacancies.models import Vacancy
from app.web import labels
from app.web.aftercare import agenda_section, organisations_named
from app.web.core import Web
from app.web.formatting import SUPPRESSED, area_label, case_code, dutch_date, number, rooms
from app.web.open_proposals import section as open_proposals_section
from app.web.sections import Section

MAX_ROWS = 10_000


@dataclass
class AgendaData:
    meeting: Meeting
    table: OutflowTable
    table_info: TablePublic
    document: dict[str, Any]
    names: dict[str, str]
    proposals: dict[tuple[str, str], Proposal] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    """The corporation's reference of every dwelling the document names (one label everywhere)."""
    areas: dict[str, str] = field(default_factory=dict)
    """Names of the CBS codes the document shows."""

    @property
    def vacancies(self) -> dict[str, dict[str, Any]]:
        return {v["id"]: v for v in self.document["vacancies"]}

    def vacancy_label(self, vacancy_id: str) -> str:
        vacancy = self.vacancies.get(vacancy_id)
        if vacancy is None:
            return self.refs.get(str(vacancy_id), "woning")
        return str(vacancy["external_ref"])

    def vacancy_description(self, vacancy_id: str, *, isolated: bool = False) -> str:
        """The dwelling in words; `isolated`: for a page (the area's name `isolate`d)."""
        v = self.vacancies.get(vacancy_id)
        if v is None:
            return ""
        parts = [
            labels.label("dwelling_type", v["dwelling_type"]),
            rooms(v["rooms"]),
            f"verdieping {v['floor']}",
            f"€ {number(v['rent_base'], 2)} kale huur",
            area_label(v["neighbourhood_code"], self.areas, isolated=isolated),
            f"beschikbaar {dutch_date(v['available_from'])}",
        ]
        if v["contingent"]:
            parts.append("contingent")
        return Markup(", ").join(parts) if isolated else ", ".join(parts)

    def status_now(self, proposal: dict[str, Any]) -> str:
        """The proposal's current status in Dutch ('na publicatie' while the agenda is live)."""
        live = self.proposals.get((str(proposal["case_id"]), str(proposal["vacancy_id"])))
        return "na publicatie" if live is None else labels.label("proposal_status", live.status)

    def open_actions_now(self) -> list[Action]:
        """The actions open now that the viewer may see, also those handed out after the
        agenda was frozen: what the PDF and CSV list (a frozen agenda's own list stops at its
        publication)."""
        return sorted(
            (a for a in self.actions.values() if a.status == ActionStatus.open),
            key=lambda a: (a.due_date, str(a.id)),
        )

    def name(self, organisation_id: Any) -> str:
        return self.names.get(str(organisation_id), "onbekende organisatie")

    def some_case_fits(self, vacancy_id: Any) -> str:
        """'ja' or 'nee': whether some case fits the dwelling, as a corporation's view says it
        (no count). Its `candidates_by_vacancy` lists all its dwellings (the order the agenda
        is paged in), also those in `vacancies_without_candidates`, which no case fits."""
        return "nee" if str(vacancy_id) in self._without_candidates else "ja"

    @cached_property
    def _without_candidates(self) -> set[str]:
        return {str(v["vacancy_id"]) for v in self.document.get("vacancies_without_candidates", [])}


def load(session: Session, web: Web, meeting_id: uuid.UUID, *, export: bool = False) -> AgendaData:
    """The agenda through the services: 404 outside the caller's reach, every case shown logged
    (the page's or, with `export`, the PDF's and CSV's)."""
    context = web.access()
    meeting, table = meetings_service.get_meeting(session, context, meeting_id)
    budget = web.settings.solver_time_budget_seconds
    document = meetings_service.meeting_agenda(session, context, meeting, table, budget)
    info = table_public(session, table)
    data = AgendaData(
        meeting=meeting,
        table=table,
        table_info=info,
        document=document,
        # Whose tenancy is in aftercare, also an organisation that has left the table since.
        names=names_of(session, organisations_named(document.get("aftercare", [])))
        | {str(m.id): m.name for m in info.members},
    )
    if meeting.status == MeetingStatus.published:
        rows = proposals_service.list_proposals(
            session, context, table, meeting_id=meeting.id, status=None, after=None, limit=MAX_ROWS
        )
        data.proposals = {(str(p.case_id), str(p.vacancy_id)): p for p in rows}
    actions = actions_service.list_actions(
        session,
        context,
        table,
        status=None,
        overdue_on=None,
        after=None,
        limit=MAX_ROWS,
        logged=False,
    )
    data.actions = {str(a.id): a for a in actions}
    # A closed action's owner may have left the table since: named as the minutes name it.
    owners = {a.owner_organisation_id for a in actions}
    data.names = names_of(session, [o for o in owners if str(o) not in data.names]) | data.names
    # Of these, the page lists the meeting's own, the PDF and CSV those open now (the agenda's
    # own list of open actions is in its document, logged with it).
    shown = (
        data.open_actions_now() if export else [a for a in actions if a.meeting_id == meeting.id]
    )
    actions_service.log_shown(session, context, table, shown)
    named = set(_vacancy_ids(document))
    named |= {c["id"] for c in document.get("changes", []) if c.get("subject") == "vacancy"}
    data.refs = vacancy_refs(session, named)
    codes = [
        v[k] for v in document["vacancies"] for k in ("neighbourhood_code", "municipality_code")
    ]
    data.areas = areas_service.names_for(session, codes, {table.id})
    return data


def _vacancy_ids(value: Any) -> Iterator[str]:
    """Every dwelling id a document names (keys ending in `vacancy_id`), at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("vacancy_id") and isinstance(item, str):
                yield item
            else:
                yield from _vacancy_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _vacancy_ids(item)


def vacancy_refs(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """id -> the corporation's reference, for dwellings a page already names by id."""
    wanted = sorted({uuid.UUID(i) for i in ids if i})
    if not wanted:
        return {}
    rows = session.exec(select(Vacancy.id, Vacancy.external_ref).where(col(Vacancy.id).in_(wanted)))
    return {str(i): ref for i, ref in rows}


def components_text(components: list[dict[str, Any]] | None) -> str:
    """The score's non-zero parts ("geen punten" when all are zero): the short form the agenda
    prints; the full breakdown is on the page (`<details>`) and the proposal's page."""
    if not components:
        return ""
    scoring = [c for c in components if c["points"]]
    if not scoring:
        return "geen punten"
    return "; ".join(
        f"{labels.label('component', c['name'])} {number(c['points'], 2)}" for c in scoring
    )


def count(value: int | None) -> str:
    """A summary count, or `SUPPRESSED` where the view hides it (the monitor's rule: too few
    other cases in it)."""
    return SUPPRESSED if value is None else str(value)


def _proposals_section(data: AgendaData) -> Section:
    doc = data.document
    ids = [(p["case_id"], p["vacancy_id"]) for p in doc["proposals"]]
    if doc["view"] == "housing_corporation":  # no score: see `CorporationAgenda`
        rows = [
            [
                case_code(p["case_id"]),
                data.vacancy_label(p["vacancy_id"])
                + f" ({data.vacancy_description(p['vacancy_id'])})",
            ]
            for p in doc["proposals"]
        ]
        for row, p in zip(rows, doc["proposals"], strict=True):
            row.append(data.status_now(p))
        return Section(
            "voorstellen", "Voorstellen", ["Dossier", "Woning", "Status nu"], rows, ids, [1, 4, 1]
        )
    return Section(
        "voorstellen",
        "Voorstellen",
        ["Dossier", "Woning", "Score", "Opbouw van de score", "Voorgegaan", "Status nu"],
        [
            [
                case_code(p["case_id"]),
                data.vacancy_label(p["vacancy_id"])
                + f" ({data.vacancy_description(p['vacancy_id'])})",
                number(p["score"], 2),
                components_text(p["components"]),
                ", ".join(
                    f"{case_code(o['case_id'])} (score {number(o['score'], 2)}; "
                    f"{labels.label('trade_off', o.get('trade_off', 'fewer_housed'))})"
                    for o in p["passed_over"] or []
                )
                or ("" if p["passed_over"] is None else nobody_passed_over(doc["view"])),
                data.status_now(p),
            ]
            for p in doc["proposals"]
        ],
        ids,
        [1, 3, 0.6, 3, 2, 1],
    )


def nobody_passed_over(view: str) -> str:
    """What a proposal's empty list of cases passed over says: a care provider's view lists
    only its own cases, so 'niemand' would claim no other provider's case was passed over."""
    return "geen van uw dossiers" if view == "care_provider" else "niemand"


def _candidate_sections(data: AgendaData) -> list[Section]:
    """Per case (table, care provider) and per dwelling (table; a corporation only counts)."""
    doc = data.document
    result = []
    if "candidates_by_case" in doc:
        result.append(
            Section(
                "kandidaten",
                "Kandidaten per dossier",
                [
                    "Dossier",
                    "Passende woningen",
                    "Beste kandidaten",
                    excluded_heading(doc),
                ],
                [
                    [
                        case_code(e["case_id"]),
                        str(e["feasible_count"]),
                        ", ".join(
                            f"{data.vacancy_label(c['vacancy_id'])} ({number(c['score'], 2)})"
                            for c in e["candidates"]
                        ),
                        excluded_cell(e),
                    ]
                    for e in doc["candidates_by_case"]
                ],
                [(e["case_id"], "") for e in doc["candidates_by_case"]],
                [1, 0.8, 3, 3],
            )
        )
    if "candidates_by_vacancy" not in doc:
        return result
    by_vacancy = doc["candidates_by_vacancy"]
    ids = [("", e["vacancy_id"]) for e in by_vacancy]
    if doc["view"] == "housing_corporation":
        # Its dwellings, whether some case fits each, without the count (`CorporationVacancyOut`).
        rows = [
            [data.vacancy_label(e["vacancy_id"]), data.some_case_fits(e["vacancy_id"])]
            for e in by_vacancy
        ]
        columns = ["Woning", "Passende dossiers"]
    else:
        rows = [
            [
                data.vacancy_label(e["vacancy_id"]),
                str(e["feasible_count"]),
                ", ".join(
                    f"{case_code(c['case_id'])} ({number(c['score'], 2)})" for c in e["candidates"]
                ),
            ]
            for e in by_vacancy
        ]
        columns = ["Woning", "Passende dossiers", "Beste kandidaten"]
    result.append(Section("kandidaten_per_woning", "Kandidaten per woning", columns, rows, ids))
    return result


def _besides(entry: dict[str, Any], data: AgendaData) -> str:
    """The cases a left-unhoused entry's alternative houses besides, as the page words them
    (nothing for an agenda published before they were named)."""
    besides = entry.get("also_housed", [])
    if not besides:
        return ""
    return (
        ("; " if entry["displaced"] else "")
        + "daarnaast gehuisvest: "
        + "; ".join(
            f"{case_code(h['case_id']) or 'ander dossier'} naar "
            + data.vacancy_label(h["vacancy_id"])
            for h in besides
        )
        + _more(entry["also_housed_count"] - len(besides))
    )


def _more(rest: int) -> str:
    """The entries of an alternative's list beyond those listed (the agenda lists `candidates`)."""
    return f" (en {rest} andere)" if rest > 0 else ""


def aftercare_section(data: AgendaData) -> Section:
    """The agenda's aftercare entries (already cut to the view, `app.agenda.views`)."""
    return agenda_section(data.document.get("aftercare", []), data.names)


def sections(data: AgendaData) -> list[Section]:
    """The sections the caller's view has (a corporation's has no case detail to show)."""
    doc = data.document
    result = [
        _proposals_section(data),
        open_proposals_section(doc.get("open_proposals", [])),
        aftercare_section(data),
        *_candidate_sections(data),
    ]
    left_unhoused = doc.get("left_unhoused", [])
    if left_unhoused:
        result.append(
            Section(
                "niet_gehuisvest",
                "Niet gehuisvest ondanks een passende woning: het beste alternatief",
                [
                    "Dossier",
                    "Zou krijgen",
                    "Score",
                    "Dossiers gehuisvest dan",
                    "Afweging",
                    "Verandert",
                ],
                [
                    [
                        case_code(u["case_id"]),
                        data.vacancy_label(u["vacancy_id"]),
                        number(u["score"], 2),
                        count(u["housed_if_given"]),
                        labels.label("trade_off", u["trade_off"]),
                        "; ".join(
                            f"{case_code(c['case_id']) or 'ander dossier'} "
                            f"({data.vacancy_label(c['vacancy_id'])}) naar "
                            + (
                                data.vacancy_label(c["moves_to_vacancy_id"])
                                if c["moves_to_vacancy_id"]
                                else "geen woning"
                            )
                            for c in u["displaced"]
                        )
                        + _more(u["displaced_count"] - len(u["displaced"]))
                        + _besides(u, data),
                    ]
                    for u in left_unhoused
                ],
                [(u["case_id"], u["vacancy_id"]) for u in left_unhoused],
                [1, 1, 0.6, 0.6, 2, 3],
            )
        )
    bottlenecks = doc.get("bottlenecks")
    if bottlenecks is not None:
        result.append(
            Section(
                "knelpunten",
                # Per reason the cases that waiving it alone gives a dwelling: a case with two
                # such dwellings counts under both ("alleen door deze reden" read as one each).
                "Knelpunten: dossiers die een passende woning zouden hebben als alleen deze reden "
                "wegviel (een dossier kan bij meer dan één reden meetellen)",
                [
                    "Reden",
                    "Zou passen als alleen deze reden wegviel",
                    "Geblokkeerde dossiers die hierop falen",
                ],
                [
                    [
                        labels.label("reason", r["code"]),
                        str(r["cases_blocked_only_by"]),
                        str(r["blocked_cases_failing"]),
                    ]
                    for r in bottlenecks["by_reason"]
                ],
            )
        )
        result.append(
            Section(
                "geblokkeerd",
                "Dossiers zonder passende woning",
                [
                    "Dossier",
                    "Wat alleen al een woning zou openen",
                    excluded_heading(doc),
                ],
                [
                    [
                        case_code(b["case_id"]),
                        ", ".join(labels.label("reason", c) for c in b["unblocked_by"])
                        or (
                            "gegevens verwijderd (bewaartermijn verstreken)"
                            if b.get("details_removed")
                            else "geen enkele reden alleen"
                        ),
                        excluded_cell(b),
                    ]
                    for b in bottlenecks["blocked_cases"]
                ],
                [(b["case_id"], "") for b in bottlenecks["blocked_cases"]],
            )
        )
    if "longest_waiting" in doc:
        result.append(
            Section(
                "langst_wachtend",
                "Langst wachtende dossiers",
                ["Dossier", "Klaar sinds", "Dagen wachtend", "Passende woningen", "Voorgesteld"],
                [
                    [
                        case_code(w["case_id"]),
                        dutch_date(w["ready_since"]),
                        str(w["waiting_days"]),
                        str(w["feasible_count"]),
                        data.vacancy_label(w["proposed_vacancy_id"])
                        if w["proposed_vacancy_id"]
                        else "",
                    ]
                    for w in doc["longest_waiting"]
                ],
                [(w["case_id"], w["proposed_vacancy_id"] or "") for w in doc["longest_waiting"]],
            )
        )
    if "vacancies_without_candidates" in doc:
        result.append(
            Section(
                "woningen_zonder_kandidaat",
                "Woningen zonder kandidaat",
                ["Woning", "Wat alleen al een kandidaat zou opleveren", "Uitgesloten per reden"],
                [
                    [
                        data.vacancy_label(v["vacancy_id"]),
                        unblocked_text(doc, v),
                        excluded_text(doc, v),
                    ]
                    for v in doc["vacancies_without_candidates"]
                ],
                [("", v["vacancy_id"]) for v in doc["vacancies_without_candidates"]],
            )
        )
    hide_case = doc["view"] == "housing_corporation"
    open_now = data.open_actions_now()
    result += [
        Section(
            "acties",
            "Openstaande acties nu",
            ["Actie", "Eigenaar", "Dossier", "Uiterlijk", "Te laat"],
            [
                [
                    labels.label("action_kind", a.kind),
                    data.name(a.owner_organisation_id),
                    "" if hide_case else case_code(a.case_id),
                    dutch_date(a.due_date),
                    "ja" if is_overdue(a.status, a.due_date, today()) else "nee",
                ]
                for a in open_now
            ],
            [("" if hide_case or a.case_id is None else str(a.case_id), "") for a in open_now],
        ),
        Section(
            "wijzigingen",
            "Wijzigingen sinds publicatie",
            ["Onderwerp", "Wijziging", "Status nu"],
            [
                [
                    (case_code(c["id"]) if c["subject"] == "case" else data.vacancy_label(c["id"])),
                    labels.label("change", c["change"]),
                    labels.label(
                        "case_status" if c["subject"] == "case" else "vacancy_status", c["status"]
                    ),
                ]
                for c in doc.get("changes", [])
            ],
            [
                (c["id"], "") if c["subject"] == "case" else ("", c["id"])
                for c in doc.get("changes", [])
            ],
        ),
    ]
    return result


def unblocked_text(doc: dict[str, Any], entry: dict[str, Any]) -> str:
    """What alone would give a dwelling without candidates one: the rules; 'afgeschermd' where
    a corporation's view leaves them out (few cases behind them); else that no one rule does."""
    if entry["unblocked_by"] is None:
        return "afgeschermd"
    if entry["unblocked_by"]:
        return ", ".join(labels.label("reason", c) for c in entry["unblocked_by"])
    return "geen enkele regel alleen"


def excluded_text(doc: dict[str, Any], entry: dict[str, Any]) -> str:
    """The cases each rule keeps from the dwelling; 'afgeschermd' in a corporation's view,
    which holds no such counts (they would describe the cases)."""
    if doc["view"] == "housing_corporation":
        return "afgeschermd"
    return reason_counts(entry.get("excluded_counts"))


def excluded_heading(doc: dict[str, Any]) -> str:
    """The heading of `excluded_cell`'s column: a care provider's view names the rules only,
    so 'per reden' (how many per rule) would promise counts it does not hold."""
    if doc["view"] == "care_provider":
        return "Redenen waarom woningen niet passen"
    return "Uitgesloten woningen per reden"


def excluded_cell(entry: dict[str, Any]) -> str:
    """The rules that exclude dwellings from a case: with the dwellings each excludes in the
    table's view, the rules alone, most-excluding first, in a care provider's
    (`excluded_reasons`: the counts gave away how many dwellings take part)."""
    if "excluded_reasons" in entry:
        return reasons_text(entry["excluded_reasons"])
    return reason_counts(entry.get("excluded_counts"))


def reasons_text(codes: list[str]) -> str:
    """Reason codes as their Dutch labels, in the order given, without counts."""
    return "; ".join(labels.label("reason", code) for code in codes)


def reason_counts(counts: dict[str, int] | None) -> str:
    if not counts:
        return ""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "; ".join(f"{labels.label('reason', code)}: {n}" for code, n in ordered)


def optimality_note(summary: dict[str, Any]) -> str | None:
    """The Dutch note for a proposal the solver could not prove optimal; None when proven."""
    if summary.get("optimal", True):
        return None
    detail = summary.get("optimality") or {}
    seconds = detail.get("time_budget_seconds")
    bound = detail.get("people_housed_bound")
    if detail.get("reason") == "solver_status":
        text = (
            "Niet bewezen optimaal: de rekenmethode stopte zonder bewijs dat dit voorstel het "
            "beste is. Het voorstel houdt zich aan alle regels en spreidingsgrenzen."
        )
    else:
        text = "Niet bewezen optimaal: de rekentijd"
        if seconds is not None:
            text += f" ({seconds:g} seconden)"
        text += (
            " was op voordat bewezen was dat dit voorstel het beste is. Het voorstel houdt zich "
            "aan alle regels en spreidingsgrenzen."
        )
    if bound is not None:
        text += (
            f" Met dit voorstel krijgen {summary['people_housed']} dossiers een woning; "
            f"hoogstens {bound} zou mogelijk zijn."
        )
    return text


def summary_rows(data: AgendaData) -> list[tuple[str, str]]:
    """The summary's lines; a care provider's or corporation's summary has no count of the
    table's cases (`RestrictedSummary`), so those lines are left out, not 'afgeschermd'."""
    s = data.document["summary"]
    note = optimality_note(s)
    rows = [
        ("Klaar voor uitstroom", "ready_cases"),
        ("Woningen aangeboden", "vacancies"),
        ("Passende combinaties", "feasible_pairs"),
        ("Dossiers gehuisvest met dit voorstel", "people_housed"),
        ("Personen gehuisvest met dit voorstel", "persons_housed"),
        ("Dossiers zonder passende woning", "blocked_cases"),
    ]
    shown = [(label, count(s[key])) for label, key in rows if key in s]
    return [*shown, ("Bewezen optimaal", "ja" if note is None else note)]
