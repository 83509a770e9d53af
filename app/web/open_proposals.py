"""The open proposals of earlier meetings as the pages, the PDF and the CSV print them (the
agenda's and the minutes' `open_proposals`, already cut down to the viewer's share)."""

from typing import Any

from app.web import labels
from app.web.formatting import case_code, dutch_date
from app.web.sections import Section

TITLE = "Openstaande voorstellen van eerdere vergaderingen"
MINUTES_TITLE = "Openstaande voorstellen van deze en eerdere vergaderingen"
"""The minutes list their own meeting's open proposals too (`app.meetings.minutes`)."""


def stalled_text(entry: dict[str, Any]) -> str:
    """'vastgelopen' when past the policy's limit, else empty."""
    return "vastgelopen" if entry["stalled"] else ""


def limit_text(entry: dict[str, Any]) -> str:
    return "geen" if entry["limit_days"] is None else f"{entry['limit_days']} dagen"


def section(entries: list[dict[str, Any]], title: str = TITLE) -> Section:
    """One row per open proposal: meeting, case, dwelling, status, since, days, turn, limit,
    stalled."""
    return Section(
        "openstaande_voorstellen",
        title,
        [
            "Vergadering",
            "Dossier",
            "Woning",
            "Status",
            "Sinds",
            "Dagen",
            "Aan zet",
            "Grens",
            "Vastgelopen",
        ],
        [
            [
                dutch_date(e["meeting_date"]),
                case_code(e["case_id"]),
                e["vacancy_ref"],
                labels.label("proposal_status", e["status"]),
                dutch_date(e["since"]),
                str(e["days_in_status"]),
                labels.label("turn", e["turn"]),
                limit_text(e),
                stalled_text(e),
            ]
            for e in entries
        ],
        [(e["case_id"], e["vacancy_id"]) for e in entries],
        [1, 1, 1, 1.2, 1, 0.6, 1, 0.7, 0.9],
    )
