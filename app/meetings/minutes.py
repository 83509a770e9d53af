"""The minutes (besluitenlijst) of a meeting: every decision on the proposals the meeting made
(and, marked follow-up, those taken in its period on earlier meetings' proposals), every action
handed out, and the open proposals with their state. Read live until the chair marks them
final; then stored and frozen like a published agenda (the stored document is cut to the
reader's view on every read)."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.actions.models import Action, is_overdue
from app.aftercare import agenda as aftercare
from app.agenda import open_proposals
from app.agenda.models import AgendaView
from app.agenda.views import view_for
from app.cases.models import Case
from app.meetings.anonymised import aftercare_without_suggestions, anonymised_among
from app.meetings.models import Meeting
from app.meetings.service import read_meeting_condition
from app.problems import Conflict, Forbidden, PreconditionFailed
from app.proposals.models import Proposal, ProposalDecision
from app.sqltypes import table_of, utcnow
from app.tables.models import OutflowTable
from app.timeutil import AMSTERDAM, today
from app.vacancies.models import Vacancy
from app.versioning import (
    check_if_match,
    document_etag,
    etag,
    flush,
    lock_one,
    read_condition,
)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=AMSTERDAM)


def _held_meetings(meeting: Meeting) -> Any:
    """The meetings that bound minutes' periods: the table's published ones, and those still to
    come (today or later). A meeting whose day passed unpublished was skipped (or moved to
    another day): it cannot have final minutes, so a period of its own kept the decisions of
    its week out of every final minutes."""
    return select(Meeting).where(
        Meeting.table_id == meeting.table_id,
        col(Meeting.published_at).is_not(None) | (col(Meeting.date) >= today()),
    )


def next_meeting_date(session: Session, meeting: Meeting) -> date | None:
    later = session.exec(
        _held_meetings(meeting).where(col(Meeting.date) > meeting.date).order_by(col(Meeting.date))
    ).first()
    return None if later is None else later.date


def _in_period(at: Any, meeting: Meeting, end_day: date | None, previous: Meeting | None) -> Any:
    """Rows (decisions or actions: their moment `at`) of the meeting's period, and of the
    previous meeting's period when its minutes are final: those they do not hold (recorded
    after they were marked final) no other minutes would hold. What any final minutes hold is
    left out afterwards (`_held`)."""
    start = _start_of(meeting.date)
    in_period = at >= start
    if end_day is not None:
        in_period = in_period & (at < _start_of(end_day))
    if previous is not None and previous.minutes is not None:
        in_period = in_period | ((at >= _start_of(previous.date)) & (at < start))
    return in_period


def _held(final: list[Meeting], listed: str) -> set[str]:
    """The ids of the rows (under `listed`) that the final minutes of `final` hold: never
    listed again as another meeting's follow-ups, or a meeting planned afterwards inside such a
    meeting's period (a day in the past), or two of them, would repeat them. Left out in
    Python rather than in a NOT IN: the minutes of many meetings hold thousands of rows, past
    the databases' limits on bound parameters."""
    return {row["id"] for m in final if m.minutes for row in m.minutes[listed]}


def _other_final(session: Session, meeting: Meeting, previous: Meeting | None) -> list[Meeting]:
    """The table's other meetings whose minutes are final and could hold a row this meeting's
    minutes read: marked final on or after the first moment those read (the previous meeting's
    day when its minutes are final, else this meeting's), as a row is held only by minutes
    marked final after it was recorded."""
    first = previous.date if previous is not None and previous.minutes is not None else None
    since = _start_of(first or meeting.date)
    return list(
        session.exec(
            select(Meeting).where(
                Meeting.table_id == meeting.table_id,
                Meeting.id != meeting.id,
                col(Meeting.minutes_final_at) >= since,
            )
        ).all()
    )


def full_minutes(session: Session, meeting: Meeting, table: OutflowTable) -> dict[str, Any]:
    """The table's whole minutes of `meeting` now (JSON-ready; views are cut from it).

    Decisions belong to the meeting that made the proposal: every decision on this meeting's
    proposals, whenever recorded (none before the meeting's day but the chair's withdrawal,
    `app.proposals.service`). Besides, marked `follow_up`, the decisions recorded in the
    meeting's period on proposals of earlier meetings (which came back on its agenda), so no
    decision is missing once an earlier meeting's minutes are final. Period: from the meeting's
    day (00:00 Europe/Amsterdam) until the next meeting's day, or until now when there is none
    (`_held_meetings`: a meeting whose day passed unpublished holds no period).
    When the previous meeting's minutes are final, the decisions of its period that they do not
    hold (recorded after they were marked final) are follow-ups here too: no other minutes
    would hold them. Actions: those handed out for the meeting, and those handed out at the
    table in the period without a meeting (the previous period's too that its final minutes do
    not hold, as the decisions). Open proposals: those of this meeting and earlier
    ones, not of a later meeting whose agenda was published ahead."""
    end_day = next_meeting_date(session, meeting)
    previous = session.exec(
        _held_meetings(meeting)
        .where(col(Meeting.date) < meeting.date)
        .order_by(col(Meeting.date).desc())
    ).first()
    final = _other_final(session, meeting, previous)
    in_period = _in_period(col(ProposalDecision.at), meeting, end_day, previous)
    made_at = table_of(Meeting).alias("made_at")  # the meeting that made the proposal
    decided = (
        select(ProposalDecision, Proposal, col(Vacancy.external_ref), made_at.c.date)
        .join(Proposal, col(Proposal.id) == col(ProposalDecision.proposal_id))
        .join(made_at, made_at.c.id == col(Proposal.meeting_id))
        .join(Vacancy, col(Vacancy.id) == col(Proposal.vacancy_id))
        .where(
            Proposal.table_id == table.id,
            (col(Proposal.meeting_id) == meeting.id)
            | ((made_at.c.date < meeting.date) & in_period),
        )
        .order_by(col(ProposalDecision.at), col(ProposalDecision.id))
    )
    handed_out = (
        select(Action, Case.care_provider_id)
        .outerjoin(Case, col(Case.id) == col(Action.case_id))
        .where(Action.table_id == table.id)
        .order_by(col(Action.due_date), col(Action.id))
    )
    handed_in_period = _in_period(col(Action.created_at), meeting, end_day, previous)
    handed_out = handed_out.where(
        (col(Action.meeting_id) == meeting.id)
        | (col(Action.meeting_id).is_(None) & handed_in_period)
    )
    on = today()
    held_decisions, held_actions = _held(final, "decisions"), _held(final, "actions")
    decisions = [
        row
        for row in session.exec(decided).all()
        if row[1].meeting_id == meeting.id or str(row[0].id) not in held_decisions
    ]
    actions = [
        row
        for row in session.exec(handed_out).all()
        if row[0].meeting_id == meeting.id or str(row[0].id) not in held_actions
    ]
    return {
        "meeting_id": str(meeting.id),
        "table_id": str(table.id),
        "date": meeting.date.isoformat(),
        "period_end": end_day.isoformat() if end_day else None,
        "final": False,
        "final_at": None,
        "generated_at": utcnow().isoformat(),
        "view": AgendaView.table.value,
        "decisions": [
            {
                "id": str(d.id),
                "proposal_id": str(p.id),
                "case_id": str(p.case_id),
                "vacancy_id": str(p.vacancy_id),
                "vacancy_ref": ref,
                "care_provider_id": str(p.care_provider_id),
                "corporation_id": str(p.corporation_id),
                "decision": d.decision.value,
                "from_status": d.from_status.value,
                "to_status": d.to_status.value,
                "reason": d.reason,
                "automatic": d.automatic,
                "actor_organisation_id": str(d.actor_organisation_id),
                "at": d.at.isoformat(),
                "proposal_meeting_date": made_on.isoformat(),
                "follow_up": p.meeting_id != meeting.id,
            }
            for d, p, ref, made_on in decisions
        ],
        "actions": [
            {
                "id": str(a.id),
                "kind": a.kind,
                "owner_organisation_id": str(a.owner_organisation_id),
                "case_id": str(a.case_id) if a.case_id else None,
                "case_care_provider_id": str(provider) if provider else None,
                "due_date": a.due_date.isoformat(),
                "status": a.status.value,
                "overdue": is_overdue(a.status, a.due_date, on),
            }
            for a, provider in actions
        ],
        # Its own and earlier meetings' (a later meeting's agenda published ahead is not yet
        # the table's business, and is that meeting's).
        "open_proposals": open_proposals.open_proposals(
            session, table, before=meeting.date + timedelta(days=1)
        ),
    }


def restrict(document: dict[str, Any], view: AgendaView, me: str) -> dict[str, Any]:
    """The minutes as `view` may see them (a new dict in the shape of its model in
    `app.meetings.minutes_models`): a care provider its own cases' decisions and proposals, its
    own actions and those on its cases; a corporation its own dwellings' decisions and
    proposals (no score) and its own actions without the case."""
    head = {k: document[k] for k in ("meeting_id", "table_id", "date", "period_end")}
    head |= {k: document[k] for k in ("final", "final_at", "generated_at")}
    head["view"] = view.value

    def decision(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in ("care_provider_id", "corporation_id")}

    def action(a: dict[str, Any], hide_case: bool) -> dict[str, Any]:
        out = {k: v for k, v in a.items() if k != "case_care_provider_id"}
        return out | {"case_id": None} if hide_case else out

    if view == AgendaView.table:
        return head | {
            "decisions": [decision(d) for d in document["decisions"]],
            "actions": [action(a, False) for a in document["actions"]],
            "open_proposals": document["open_proposals"],
        }
    if view == AgendaView.care_provider:
        return head | {
            "decisions": [
                decision(d) for d in document["decisions"] if d["care_provider_id"] == me
            ],
            "actions": [
                action(a, False)
                for a in document["actions"]
                if a["owner_organisation_id"] == me or a["case_care_provider_id"] == me
            ],
            "open_proposals": open_proposals.for_care_provider(document["open_proposals"], me),
        }
    return head | {
        "decisions": [decision(d) for d in document["decisions"] if d["corporation_id"] == me],
        "actions": [
            action(a, True) for a in document["actions"] if a["owner_organisation_id"] == me
        ],
        "open_proposals": open_proposals.for_corporation(document["open_proposals"], me),
    }


def minutes(
    session: Session,
    context: AccessContext,
    meeting: Meeting,
    table: OutflowTable,
    document: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The meeting's minutes as the caller may see them (the stored ones once final, else
    `document` or the live ones), with the agenda's aftercare section (`aftercare_section`);
    each case shown written to the access log."""
    view = view_for(context, table)
    if meeting.minutes is not None:
        document = meeting.minutes
    elif document is None:
        document = full_minutes(session, meeting, table)
    restricted = restrict(document, view, str(context.principal.require_organisation()))
    shown = {d["case_id"] for d in restricted["decisions"]}
    shown |= {a["case_id"] for a in restricted["actions"] if a["case_id"]}
    shown |= {p["case_id"] for p in restricted["open_proposals"]}
    access_log.record(
        session, context, AccessAction.agenda, [(uuid.UUID(c), table.id) for c in sorted(shown)]
    )
    open_proposals.record_stalls(session, table)
    restricted["aftercare"] = aftercare_section(session, context, meeting, table)
    return restricted


def minutes_etag(meeting: Meeting, document: dict[str, Any]) -> str:
    """The ETag of `document`, the minutes as `minutes` gave them: the meeting's version and a
    digest of the document (bar `generated_at`), as a decision or an action changes live
    minutes but not the meeting. Final minutes too: their decisions and actions change no
    more, but their aftercare section drops a suggestion once retention anonymises its case
    (`aftercare_section`), and the meeting's ETag alone let `If-None-Match` answer 304 to a
    copy that still suggested it."""
    return document_etag(meeting, {k: v for k, v in document.items() if k != "generated_at"})


def aftercare_section(
    session: Session, context: AccessContext, meeting: Meeting, table: OutflowTable
) -> list[dict[str, Any]] | None:
    """The agenda's aftercare section (`app.aftercare.agenda.section`: due and overdue
    checkpoints, signals, overdue transfers) as it stood for `meeting`, cut to the caller's view
    (a care provider its own cases', a corporation its own tenants' landlord signals and
    overdue transfers); each case shown is written to the access log (action `aftercare`).

    A published meeting shows its frozen agenda's section (so the minutes keep what the table
    discussed; an entry of a case anonymised since suggests no action, as no action about it is
    handed out any more, `app.meetings.anonymised`); before publication, the section computed
    now for the meeting's date. None for an agenda published before the agenda had the
    section."""
    entries: list[dict[str, Any]]
    if meeting.snapshot is not None:
        frozen = meeting.snapshot["document"].get("aftercare")
        if frozen is None:
            return None
        anonymised = anonymised_among(session, {e["case_id"] for e in frozen})
        entries = aftercare_without_suggestions(frozen, anonymised)
    else:
        entries = aftercare.section(session, table, meeting.date)
    view = view_for(context, table)
    me = str(context.principal.require_organisation())
    if view == AgendaView.care_provider:
        entries = aftercare.for_care_provider(entries, me)
    elif view == AgendaView.housing_corporation:
        entries = aftercare.for_corporation(entries, me)
    shown = sorted({e["case_id"] for e in entries})
    access_log.record(
        session, context, AccessAction.aftercare, [(uuid.UUID(c), table.id) for c in shown]
    )
    return entries


def finalize(
    session: Session,
    context: AccessContext,
    meeting: Meeting,
    table: OutflowTable,
    if_match: str | None,
) -> Meeting:
    """Mark the minutes final (chair only, once; If-Match: the meeting's ETag, or the live
    minutes' ETag while they still read as then): the whole document as it is now is stored and
    every later read shows it unchanged. 409
    `minutes_final` when they are final already, `not_published` before the agenda is,
    `meeting_not_held` before the meeting's day."""
    if context.principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("The chair marks the minutes final.")

    # read_with: the minutes' ETag the chair sent, if it still matches. Final ones' too (their
    # ETag is no longer the meeting's): sent twice, 409 minutes_final. A 412 names the minutes'
    # ETag as their GET answers it (`shown`), not the meeting's version: a decision or action
    # since the read changed the minutes, not the meeting.
    def shown() -> str:
        return minutes_etag(meeting, minutes(session, context, meeting, table))

    # The meeting's read ETag (`meeting_etag`) names the meeting's version as well.
    if_match, _ = read_meeting_condition(session, context, table, meeting, if_match)
    if_match, read_with = read_condition(if_match, meeting, shown)
    meeting = lock_one(session, meeting)
    check_if_match(if_match, etag(meeting), "minutes", shown=shown)
    if meeting.minutes is not None:
        raise Conflict("The minutes are final already.", code="minutes_final")
    if meeting.snapshot is None:
        raise Conflict("Publish the agenda before marking the minutes final.", code="not_published")
    if meeting.date > today():
        raise Conflict(
            f"The meeting of {meeting.date} has not taken place yet; its minutes are marked "
            "final from the meeting's day.",
            code="meeting_not_held",
        )
    now = utcnow()
    document = full_minutes(session, meeting, table)
    # A decision or action does not lock the meeting: one recorded since the check above
    # would be frozen into minutes the chair had not read.
    if read_with is not None:
        stored = minutes_etag(meeting, minutes(session, context, meeting, table, document))
        if stored != read_with:
            raise PreconditionFailed(
                f"The minutes changed (current ETag {stored}); fetch them again and retry."
            )
    meeting.minutes = document | {"final": True, "final_at": now.isoformat()}
    meeting.minutes_final_at = now
    meeting.minutes_final_by_organisation_id = table.chair_organisation_id
    session.add(meeting)
    flush(session, if_match, "meeting")
    return meeting
