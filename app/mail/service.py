# Size: who is told what and when, and when a waiting notice is dropped, read in one place (the
# queueing and forgetting rules check each other).
"""E-mail notices for people: their choices, and queueing notices in the mail outbox.

Notices about events are queued by `queue_event_notices`, which `app.webhooks.service.emit`
calls in the transaction of the change (so a notice exists if and only if its change was
committed, as with webhooks). Notices that come due with time (the digest before a meeting, an
action past its date) are queued by `queue_due_notices`, which the mail worker runs now and then;
each is one row per person thanks to the unique (person, dedupe key), whatever the number of
processes looking. The worker (`app.mail.worker`) sends the rows through SMTP.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.actions.models import Action, ActionStatus, is_overdue, overdue_clause
from app.mail.models import (
    NO_CHOICE_VERSION,
    PREFERENCE_OF,
    MailMessage,
    MailStatus,
    NoticeKind,
    NoticePreferences,
    NoticePreferencesPublic,
    NoticePreferencesUpdate,
)
from app.meetings.models import Meeting
from app.organisations.models import Organisation
from app.people.models import Person
from app.proposals.models import OPEN_PROPOSAL, Proposal
from app.sqltypes import table_of, utcnow
from app.tables.models import OutflowTable, TableMember
from app.timeutil import AMSTERDAM, today
from app.versioning import check_if_match, document_etag, etag, flush, read_condition

# An event's notice that could not be sent within this long (no SMTP server, a long outage) is
# dropped: news of an agenda or a decision days late misleads more than it helps.
EVENT_NOTICE_LIFETIME = timedelta(days=3)
# Actions that passed their date longer ago than this get no overdue notice any more (so a
# service that starts sending mail does not flood people with old news).
OVERDUE_LOOKBACK_DAYS = 7
# Sent, failed and expired rows are kept this long after they ended as a send log, then removed
# (by the mail worker's sweep and the daily retention job, `app.cases.retention`).
SENT_LOG_DAYS = 30

# --- preferences ---------------------------------------------------------------------------


def preferences(session: Session, person: Person, *, mail_enabled: bool) -> NoticePreferencesPublic:
    """The person's choices (the defaults, every notice on, until they change them), with
    their version (`NO_CHOICE_VERSION` for the defaults)."""
    row = session.get(NoticePreferences, person.id)
    choices = row or NoticePreferences(person_id=person.id)
    return NoticePreferencesPublic(
        person_id=person.id,
        email=person.email,
        agenda_published=choices.agenda_published,
        actions=choices.actions,
        proposals=choices.proposals,
        digest=choices.digest,
        mail_enabled=mail_enabled,
        updated_at=row.updated_at if row else None,
        version=row.version if row else NO_CHOICE_VERSION,
    )


def preferences_etag(shown: NoticePreferencesPublic) -> str:
    """The ETag of a read of the person's choices that showed `shown` (`preferences`): their
    version and a digest of what the read shows. `mail_enabled` comes from the settings and
    `email` from the person, not from the choices: the version alone let `If-None-Match`
    answer 304 to a copy read before the operator configured mail (`mail_enabled: false`)."""
    return document_etag(shown, shown.model_dump(mode="json"))


def set_preferences(
    session: Session,
    person: Person,
    data: NoticePreferencesUpdate,
    if_match: str | None = None,
    if_none_match: str | None = None,
    *,
    mail_enabled: bool,
) -> NoticePreferencesPublic:
    """Replace the person's choices. `If-Match` / `If-None-Match` are compared on the locked
    row (`app.versioning.check_if_match`: 412), so a choice made meanwhile is not undone
    unseen: each takes the ETag of the read (`preferences_etag`, of the choices as they read
    now) as well as the bare version (`"0"` while the defaults stand: they exist, so
    `If-None-Match: *` is a 412); the same choices put again change nothing (same ETag).
    Notices of a kind turned off that wait in the outbox are not sent either: they are marked
    expired ("turned off before it was sent"), except one a worker is sending at that moment
    (leased)."""
    row = session.get(NoticePreferences, person.id, with_for_update=True, populate_existing=True)
    shown = preferences(session, person, mail_enabled=mail_enabled)

    def read_etag() -> str:
        return preferences_etag(shown)

    checked_match, _ = read_condition(if_match, shown, read_etag)
    checked_none, _ = read_condition(if_none_match, shown, read_etag, weak=True)
    check_if_match(checked_match, etag(shown), "choice of notices", checked_none, shown=read_etag)
    if row is None:
        row = NoticePreferences(person_id=person.id)
    for name in NoticePreferencesUpdate.model_fields:
        setattr(row, name, getattr(data, name))
    session.add(row)
    flush(session, if_match, "choice of notices")
    unwanted = [kind.value for kind, name in PREFERENCE_OF.items() if not getattr(row, name)]
    if unwanted:
        _expire_waiting(
            session,
            utcnow(),
            "turned off before it was sent",
            col(MailMessage.person_id) == person.id,
            col(MailMessage.kind).in_(unwanted),
            # Turned on again, a digest or overdue notice still due is queued again.
            free_key=True,
        )
    return preferences(session, person, mail_enabled=mail_enabled)


def _recipients(
    session: Session, organisation_ids: Iterable[uuid.UUID], kind: NoticeKind
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(person id, organisation id) of the active people of those organisations who want
    notices of `kind` (no choices stored: they do)."""
    organisations = set(organisation_ids)
    if not organisations:
        return []
    wanted = getattr(NoticePreferences, PREFERENCE_OF[kind])
    rows = session.exec(
        select(Person.id, Person.organisation_id)
        .outerjoin(NoticePreferences, col(NoticePreferences.person_id) == col(Person.id))
        .where(
            col(Person.organisation_id).in_(organisations),
            col(Person.active).is_(True),
            or_(col(NoticePreferences.person_id).is_(None), col(wanted).is_(True)),
        )
        .order_by(col(Person.id))
    ).all()
    return [(person_id, organisation_id) for person_id, organisation_id in rows]


# --- notices of events ---------------------------------------------------------------------


def _event_notice(
    event_type: str, data: dict[str, Any]
) -> tuple[NoticeKind, dict[str, Any]] | None:
    """The notice kind of a webhook event and the codes and page path it carries: never the
    case id, the dwelling id or a reason (only what `app.mail.compose` names)."""
    if event_type == "agenda.published":
        meeting = data["meeting_id"]
        return NoticeKind.agenda_published, {
            "date": data["date"],
            "path": f"/vergaderingen/{meeting}",
        }
    if event_type == "action.assigned":
        return NoticeKind.action_assigned, _action_data(
            data["action_id"], data["kind"], data["due_date"], data["table_id"]
        )
    if event_type == "proposal.decided":
        return NoticeKind.proposal_decided, {
            "proposal_id": data["proposal_id"],
            "status": data["to_status"],
            "path": f"/voorstellen/{data['proposal_id']}",
        }
    if event_type == "proposal.stalled":
        return NoticeKind.proposal_stalled, {
            "proposal_id": data["proposal_id"],
            "status": data["status"],
            "days_in_status": data["days_in_status"],
            "limit_days": data["limit_days"],
            "path": f"/voorstellen/{data['proposal_id']}",
        }
    return None  # case.housed: the proposal's decision already told them


def _action_data(action_id: Any, kind: str, due_date: Any, table_id: Any) -> dict[str, Any]:
    return {
        "action_id": str(action_id),
        "action_kind": str(kind),
        "due_date": str(due_date),
        "path": f"/tafels/{table_id}",
    }


def queue_event_notices(
    session: Session,
    *,
    event_type: str,
    event_id: uuid.UUID,
    organisation_ids: Iterable[uuid.UUID],
    data: dict[str, Any],
) -> int:
    """Queue the event's notice for each person of those organisations who wants it, in the
    caller's transaction. `data` is the event's (JSON) data; what goes into the mail is only
    its codes (`_event_notice`). Returns the number of mails queued."""
    table_id = data.get("table_id")
    table = session.get(OutflowTable, uuid.UUID(str(table_id))) if table_id else None
    if table is None:
        return 0
    if event_type == "proposal.decided":
        forget_stalled_notices(session, str(data["proposal_id"]))
    notice = _event_notice(event_type, data)
    if notice is None:
        return 0
    kind, mail_data = notice
    mail_data["table"], mail_data["table_id"] = table.name, str(table.id)
    if kind is NoticeKind.action_assigned:
        # The notice says the action is for the reader's organisation: its owner's people only.
        # The webhook goes to the chair too, whose people handed the action out (README).
        organisation_ids = [uuid.UUID(str(data["owner_organisation_id"]))]
    now = utcnow()
    recipients = _recipients(session, organisation_ids, kind)
    for person_id, _ in recipients:
        session.add(
            MailMessage(
                person_id=person_id,
                kind=kind.value,
                dedupe_key=f"{event_type}:{event_id}",
                data=mail_data,
                next_attempt_at=now,
                expires_at=now + EVENT_NOTICE_LIFETIME,
            )
        )
    session.flush()
    return len(recipients)


# --- notices that come due -----------------------------------------------------------------


def _insert_once(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping any (person, dedupe key) already there: the database
    decides, so two processes queueing the same digest queue it once. In (person, key) order:
    every process's mail worker sweeps (no lease), and two sweeps inserting overlapping rows in
    opposite orders each waited for the other's uncommitted row, a deadlock."""
    if not rows:
        return 0
    rows = sorted(rows, key=lambda row: (row["person_id"], row["dedupe_key"]))
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = table_of(MailMessage)
    result = session.execute(
        insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["person_id", "dedupe_key"])
        .returning(table.c.id)
    )
    return len(result.all())


def _row(
    person_id: uuid.UUID,
    kind: NoticeKind,
    key: str,
    data: dict[str, Any],
    now: datetime,
    expires: datetime,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "person_id": person_id,
        "kind": kind.value,
        "dedupe_key": key,
        "data": data,
        "status": MailStatus.pending.value,
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": expires,
        "created_at": now,
    }


def digest_due_meetings(session: Session, day: date) -> list[Meeting]:
    """Meetings whose digest is due on `day`: those on the next day, and (for a digest a
    stopped service could not queue the day before) those on `day` itself."""
    return list(
        session.exec(
            select(Meeting)
            .where(col(Meeting.date) >= day, col(Meeting.date) <= day + timedelta(days=1))
            .order_by(col(Meeting.date), col(Meeting.id))
        )
    )


def _digest_counts(
    session: Session, table: OutflowTable, organisation_id: uuid.UUID, meeting_day: date
) -> dict[str, Any]:
    """The organisation's counts for the digest of the table's meeting on `meeting_day`: its
    actions overdue as that meeting's agenda flags them (`is_overdue` on the agenda's date),
    not as of the day the digest happens to be queued (the day before, or the day itself)."""
    actions = session.exec(
        select(col(Action.status), col(Action.due_date)).where(
            col(Action.table_id) == table.id,
            col(Action.owner_organisation_id) == organisation_id,
            col(Action.status) == ActionStatus.open,
        )
    ).all()
    proposals = (
        select(func.count())
        .select_from(Proposal)
        .where(Proposal.table_id == table.id, col(Proposal.status).in_(OPEN_PROPOSAL))
    )
    # Those the organisation reads (`app.proposals.service.visible_clause`): the chair and a
    # municipality at the table every one of it, the others those of their case or dwelling.
    kind = session.exec(select(Organisation.kind).where(Organisation.id == organisation_id)).one()
    whole_table = organisation_id == table.chair_organisation_id or kind == "municipality"
    if not whole_table:
        mine = (col(Proposal.care_provider_id), col(Proposal.corporation_id))
        proposals = proposals.where(or_(*(column == organisation_id for column in mine)))
    return {
        "open_actions": len(actions),
        "overdue_actions": sum(
            1 for status, due in actions if is_overdue(status, due, meeting_day)
        ),
        "open_proposals": session.exec(proposals).one(),
        "whole_table": whole_table,
    }


def queue_due_notices(session: Session, *, day: date | None = None) -> int:
    """Queue the digests due on `day` (default today) and the overdue notices of open actions
    whose date passed (in the last `OVERDUE_LOOKBACK_DAYS` days), each once per person.
    Returns the number of mails newly queued."""
    day = day or today()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for meeting in digest_due_meetings(session, day):
        table = session.get(OutflowTable, meeting.table_id)
        if table is None:
            continue
        # Held until the digests are queued (PostgreSQL): an organisation taken off the table
        # after this read expired no digest of it yet (none was committed), and the one queued
        # then told a non-member of the meeting. The removal waits for this sweep now, then
        # expires it; a membership being removed right now is skipped.
        members = set(
            session.exec(
                select(TableMember.organisation_id)
                .where(TableMember.table_id == table.id)
                .with_for_update(read=True, skip_locked=True)
            ).all()
        ) | {table.chair_organisation_id}
        # Dropped at the end of the meeting's day (midnight in Amsterdam) if it could not be
        # sent by then.
        expires = datetime.combine(meeting.date + timedelta(days=1), time(), tzinfo=AMSTERDAM)
        counts: dict[uuid.UUID, dict[str, Any]] = {}
        for person_id, organisation_id in _recipients(session, members, NoticeKind.digest):
            if organisation_id not in counts:
                counts[organisation_id] = _digest_counts(
                    session, table, organisation_id, meeting.date
                )
            data = {
                "table": table.name,
                "table_id": str(table.id),
                "date": meeting.date.isoformat(),
                "path": f"/vergaderingen/{meeting.id}",
                **counts[organisation_id],
            }
            rows.append(
                _row(person_id, NoticeKind.digest, f"digest:{meeting.id}", data, now, expires)
            )
    overdue = session.exec(
        select(Action, OutflowTable.name)
        .join(OutflowTable, col(OutflowTable.id) == col(Action.table_id))
        .where(
            overdue_clause(day),
            col(Action.due_date) >= day - timedelta(days=OVERDUE_LOOKBACK_DAYS),
        )
        # Held until the notices are queued (PostgreSQL): closing or moving an action after
        # this read but before the insert expired no notice (none was committed yet), and the
        # notice then waited to name a date the action no longer had, holding its key against
        # the new date's. A change waits for this sweep now, then expires what it queued; an
        # action being changed right now is skipped, and the next sweep reads it as changed.
        .with_for_update(read=True, skip_locked=True, of=Action)
    ).all()
    for action, table_name in overdue:
        data = _action_data(action.id, action.kind, action.due_date, action.table_id)
        data["table"], data["table_id"] = table_name, str(action.table_id)
        key = f"action.overdue:{action.id}"
        for person_id, _ in _recipients(
            session, [action.owner_organisation_id], NoticeKind.action_overdue
        ):
            rows.append(
                _row(
                    person_id,
                    NoticeKind.action_overdue,
                    key,
                    data,
                    now,
                    now + EVENT_NOTICE_LIFETIME,
                )
            )
    return _insert_once(session, rows)


def forget_overdue_notice(session: Session, action_id: uuid.UUID) -> None:
    """The action was closed or given another date: its overdue notice waiting in the outbox
    (a mail server down) is not sent (it names the old date), and its rows give up the key (a
    suffix; one row per person), so the action moved or reopened is told of once it is due."""
    now, key, why = utcnow(), f"action.overdue:{action_id}", "the action was closed or moved"
    _expire_waiting(session, now, f"{why} before it was sent", col(MailMessage.dedupe_key) == key)
    session.exec(
        update(MailMessage)
        .where(col(MailMessage.dedupe_key) == key)
        .values(dedupe_key=f"{key}@{now.isoformat()}")
        .execution_options(synchronize_session=False)
    )


def forget_stalled_notices(session: Session, proposal_id: str) -> None:
    """The proposal was decided: its stalled notices that wait in the outbox (a mail server
    that was down) are not sent; they would say it still waits for someone."""
    _expire_waiting(
        session,
        utcnow(),
        "the proposal was decided before it was sent",
        col(MailMessage.kind) == NoticeKind.proposal_stalled.value,
        MailMessage.data["proposal_id"].as_string() == proposal_id,
    )


def forget_table_notices(
    session: Session, table_id: uuid.UUID, organisation_ids: Iterable[uuid.UUID]
) -> None:
    """Those organisations left the table: their people's notices about it that wait in the
    outbox are not sent (they would tell a non-member of its meetings and counts)."""
    people = select(Person.id).where(col(Person.organisation_id).in_(set(organisation_ids)))
    _expire_waiting(
        session,
        utcnow(),
        "the organisation left the table before it was sent",
        col(MailMessage.person_id).in_(people),
        MailMessage.data["table_id"].as_string() == str(table_id),
    )


def _expire_waiting(
    session: Session, now: datetime, reason: str, *where: Any, free_key: bool = False
) -> None:
    """Mark the pending mails matching `where` expired with `reason` at `now` (their
    `next_attempt_at`, from which the send log counts), except those a worker holds a lease on
    (it is sending them). `free_key`: they give up their dedupe key (a suffix), so the notice
    that comes due again is queued anew."""
    values: dict[str, Any] = {
        "status": MailStatus.expired.value,
        "last_error": reason,
        "next_attempt_at": now,
    }
    if free_key:
        values["dedupe_key"] = col(MailMessage.dedupe_key) + f"@{now.isoformat()}"
    session.exec(
        update(MailMessage)
        .where(
            col(MailMessage.status) == MailStatus.pending.value,
            or_(col(MailMessage.locked_until).is_(None), col(MailMessage.locked_until) < now),
            *where,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def expire_and_forget(session: Session, *, now: datetime | None = None) -> None:
    """Mark pending rows past their `expires_at` as expired, and remove sent, failed and
    expired rows that ended (`next_attempt_at`) more than `SENT_LOG_DAYS` ago."""
    now = now or utcnow()
    _expire_waiting(
        session, now, "expired before it could be sent", col(MailMessage.expires_at) < now
    )
    session.exec(
        delete(MailMessage).where(
            col(MailMessage.status) != MailStatus.pending.value,
            col(MailMessage.next_attempt_at) < now - timedelta(days=SENT_LOG_DAYS),
        )
    )
