"""A meeting's minutes (besluitenlijst) as the signed-in person's organisation may see them:
read through the minutes service (the API's restricted document, logged the same way) and cut
into the sections the page, the PDF and the CSV all show."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from app.meetings import minutes as minutes_service
from app.meetings import service as meetings_service
from app.meetings.models import Meeting
from app.organisations.service import names_of
from app.tables.models import OutflowTable, TablePublic
from app.tables.service import table_public
from app.timeutil import AMSTERDAM
from app.web import labels
from app.web.aftercare import agenda_section, organisations_named
from app.web.core import Web
from app.web.formatting import case_code, dutch_date, dutch_datetime
from app.web.open_proposals import MINUTES_TITLE
from app.web.open_proposals import section as open_proposals_section
from app.web.sections import Section


@dataclass
class MinutesData:
    meeting: Meeting
    table: OutflowTable
    table_info: TablePublic
    document: dict[str, Any]
    names: dict[str, str]
    aftercare: list[dict[str, Any]] | None
    """The agenda's aftercare section as it stood for the meeting (None: the agenda was
    published before it had one)."""

    def name(self, organisation_id: Any) -> str:
        return self.names.get(str(organisation_id), "onbekende organisatie")

    @property
    def title(self) -> str:
        return f"Besluitenlijst {self.table_info.name}, {dutch_date(self.meeting.date)}"

    def status_line(self) -> str:
        doc = self.document
        # A draft changes with every decision: printed, it says when it was drawn up.
        drawn_up = dutch_datetime(doc["generated_at"])
        if doc["final"]:
            state = f"Definitief vastgesteld op {dutch_datetime(doc['final_at'])}"
        else:
            state = f"Concept: bijgewerkt tot {drawn_up}, nog niet vastgesteld"
        end = doc["period_end"]
        period = (
            "besluiten over de voorstellen van deze vergadering, en vervolgbesluiten over "
            f"eerdere voorstellen vanaf {dutch_date(doc['date'])}"
        )
        generated = datetime.fromisoformat(doc["generated_at"]).astimezone(AMSTERDAM)
        if end is None and not doc["final"] and generated.date() < date.fromisoformat(doc["date"]):
            # A draft of a meeting still to come ran 'vanaf <its day> tot <now>', a period that
            # ended before it began.
            period += " (de vergadering heeft nog niet plaatsgevonden)"
        else:
            period += _until(doc["final_at"], end, drawn_up)
        return f"{state}; {period}. Weergave: {labels.label('view', doc['view'])}."


def _until(final_at: str | None, end: str | None, drawn_up: str) -> str:
    """Where the minutes' period ends as they hold it: final minutes hold nothing recorded after
    they were marked final (it comes in the next meeting's minutes), so those marked final
    before the next meeting's day end there, not at that meeting. Draft minutes without a
    next meeting run until `drawn_up`, the moment they were read (on paper, "nu" says nothing)."""
    marked = None if final_at is None else datetime.fromisoformat(final_at).astimezone(AMSTERDAM)
    if marked is not None and (end is None or marked.date() < date.fromisoformat(end)):
        return (
            " tot het vaststellen; wat daarna is besloten, staat in de besluitenlijst van de "
            "volgende vergadering"
        )
    return f" tot de vergadering van {dutch_date(end)}" if end else f" tot {drawn_up}"


def load(session: Session, web: Web, meeting_id: uuid.UUID) -> MinutesData:
    """The minutes through the services, with the agenda's aftercare section: 404 outside the
    caller's reach, every case logged."""
    context = web.access()
    meeting, table = meetings_service.get_meeting(session, context, meeting_id)
    document = minutes_service.minutes(session, context, meeting, table)
    aftercare = document["aftercare"]
    info = table_public(session, table)
    # Who decided, who owns an action and whose tenancy is in aftercare, also an organisation
    # that has left the table since: the minutes are the meeting's record.
    named = [d["actor_organisation_id"] for d in document["decisions"]]
    named += [a["owner_organisation_id"] for a in document["actions"]]
    named += organisations_named(aftercare or [])
    names = names_of(session, named) | {str(m.id): m.name for m in info.members}
    return MinutesData(meeting, table, info, document, names, aftercare)


def _follow_up(decision: dict[str, Any]) -> str:
    """A follow-up on an earlier meeting's proposal says which meeting made it."""
    if not decision.get("follow_up"):
        return ""
    made = decision.get("proposal_meeting_date")
    return f" (vervolg op de vergadering van {dutch_date(made)})" if made else " (vervolg)"


def sections(data: MinutesData) -> list[Section]:
    doc = data.document
    hide_case = doc["view"] == "housing_corporation"
    return [
        Section(
            "besluiten",
            "Besluiten",
            ["Tijdstip", "Dossier", "Woning", "Besluit", "Van", "Naar", "Reden", "Door"],
            [
                [
                    dutch_datetime(d["at"]),
                    case_code(d["case_id"]),
                    d["vacancy_ref"],
                    labels.label("decision", d["decision"])
                    + (" (automatisch)" if d["automatic"] else "")
                    + _follow_up(d),
                    labels.label("proposal_status", d["from_status"]),
                    labels.label("proposal_status", d["to_status"]),
                    labels.label("decision_reason", d["reason"]),
                    data.name(d["actor_organisation_id"]),
                ]
                for d in doc["decisions"]
            ],
            [(d["case_id"], d["vacancy_id"]) for d in doc["decisions"]],
            [1.2, 1, 1, 1.2, 1, 1, 1, 1.2],
        ),
        Section(
            "acties",
            "Uitgezette acties",
            ["Actie", "Eigenaar", "Dossier", "Uiterlijk", "Status", "Te laat"],
            [
                [
                    labels.label("action_kind", a["kind"]),
                    data.name(a["owner_organisation_id"]),
                    "" if hide_case else case_code(a["case_id"]),
                    dutch_date(a["due_date"]),
                    labels.label("action_status", a["status"]),
                    "ja" if a["overdue"] else "nee",
                ]
                for a in doc["actions"]
            ],
            [(a["case_id"] or "", "") for a in doc["actions"]],
        ),
        _aftercare(data),
        open_proposals_section(doc["open_proposals"], MINUTES_TITLE),
    ]


def _aftercare(data: MinutesData) -> Section:
    """The agenda's aftercare entries; an agenda published before it had them says so."""
    section = agenda_section(data.aftercare or [], data.names)
    if data.aftercare is None:
        section.title += " (niet op deze agenda: gepubliceerd voordat nazorg op de agenda kwam)"
    return section


def csv_head(data: MinutesData) -> list[tuple[str, str, str]]:
    return [
        ("besluitenlijst", "tafel", data.table_info.name),
        ("besluitenlijst", "datum", data.meeting.date.isoformat()),
        ("besluitenlijst", "vergadering_id", str(data.meeting.id)),
        ("besluitenlijst", "status", data.status_line()),
    ]
