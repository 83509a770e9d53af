"""A case's best alternative on a meeting's agenda, whole: once the meeting is published, the
one its frozen agenda lists in `left_unhoused` (the live agenda of the date no longer does,
since the published proposals hold the dwellings); before, the live agenda's, as the meeting's
agenda is live then (`app.agenda.alternatives`)."""

import uuid
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.agenda import alternatives
from app.meetings.anonymised import anonymised_among, housed_besides_without
from app.meetings.models import Meeting
from app.meetings.service import ALSO_HOUSED_REST, DISPLACED_REST
from app.tables.models import OutflowTable


def meeting_alternative(
    session: Session,
    context: AccessContext,
    meeting: Meeting,
    table: OutflowTable,
    case_id: uuid.UUID,
    time_budget: float,
) -> dict[str, Any]:
    """`case_id`'s `left_unhoused` entry on the meeting's agenda with every proposal its
    alternative changes, in the shape and for the callers of
    `app.agenda.alternatives.best_alternative` (403 for a corporation, 404 for a case not on
    the agenda, another provider's or without an entry). Before publication: the live agenda
    of the meeting's date (solver budget `time_budget` seconds).

    A snapshot frozen before the rest of each cut list was kept holds only the first
    `candidates` changes: for a case whose list it cut, NotFound `alternative_not_kept`. A
    case retention anonymised since: NotFound `case_anonymised` (as the frozen agenda leaves
    its entry out, `app.meetings.anonymised`).
    """
    if meeting.snapshot is None:
        return alternatives.best_alternative(
            session, context, table, case_id, meeting.date, time_budget
        )
    view = alternatives.alternative_view(context, table)
    owners: dict[str, str] = meeting.snapshot["owners"]["cases"]
    alternatives.check_visible(context, view, owners, case_id)
    if anonymised_among(session, {str(case_id)}):
        raise alternatives.read_without_entry(
            session,
            context,
            table,
            case_id,
            "The case file is anonymised (retention): its alternative on this meeting's frozen "
            "agenda (a dwelling that fits it) is no longer shown.",
            "case_anonymised",
        )
    entry = next(
        (
            u
            for u in meeting.snapshot["document"].get("left_unhoused", [])
            if u["case_id"] == str(case_id)
        ),
        None,
    )
    if entry is None:
        raise alternatives.read_without_entry(
            session,
            context,
            table,
            case_id,
            "The meeting's frozen agenda leaves this case out of `left_unhoused`: it is "
            "proposed, no dwelling fits it, or the check was cut short (see the agenda's "
            "`passed_over_complete`).",
        )
    head: list[dict[str, Any]] = entry["displaced"]
    # Agendas frozen before `displaced` was bounded list it whole, without a count.
    count = entry.get("displaced_count", len(head))
    rest = [] if count == len(head) else _kept_rest(meeting.snapshot, str(case_id))
    if rest is None:
        raise alternatives.read_without_entry(
            session,
            context,
            table,
            case_id,
            f"This meeting was published before whole alternatives were kept: its frozen "
            f"agenda keeps the first {len(head)} of the {count} proposals this case's "
            f"alternative changes (GET /v1/meetings/{meeting.id}/agenda), not the rest.",
            "alternative_not_kept",
        )
    displaced = head + rest
    also_housed = _also_housed(meeting.snapshot, entry)
    if also_housed:
        named = anonymised_among(session, {c["case_id"] for c in also_housed})
        also_housed = housed_besides_without(also_housed, named)
    return alternatives.shown(
        session, context, table, view, owners, entry, displaced, also_housed, meeting.date
    )


def _kept_rest(
    snapshot: dict[str, Any], case_id: str, key: str = DISPLACED_REST
) -> list[dict[str, Any]] | None:
    """The list's entries after the head that publishing kept under `key` for `case_id`; None
    when the snapshot was frozen before they were kept."""
    rest: list[dict[str, Any]] | None = snapshot.get(key, {}).get(case_id)
    return rest


def _also_housed(snapshot: dict[str, Any], entry: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Every case the frozen entry's alternative houses besides; None when the meeting was
    published before the agenda named them (its entries have no `also_housed`)."""
    if "also_housed" not in entry:
        return None
    head: list[dict[str, Any]] = entry["also_housed"]
    if entry["also_housed_count"] == len(head):
        return head
    # Frozen with the list, so with its rest (`app.agenda.document.compute_to_freeze`).
    rest = _kept_rest(snapshot, entry["case_id"], ALSO_HOUSED_REST)
    if rest is None:
        raise RuntimeError(f"the snapshot lost the rest of {entry['case_id']}'s also_housed")
    return head + rest
