"""The aftercare section of a table's agenda: due and overdue follow-up checkpoints, every
signal recorded since the table's previous meeting, and overdue transfers of intermediate
leases; and the `aftercare.checkpoint_due` webhook, sent once per checkpoint that came due.

Entries are JSON-ready dicts in the shape of `app.aftercare.models.AftercareItemOut`; the views
cut them down with `for_care_provider` and `for_corporation` (a corporation: its own tenants'
rent-arrears and nuisance signals and overdue transfers, nothing of the support).
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.aftercare.models import (
    CORPORATION_SIGNALS,
    Checkpoint,
    CheckpointDueNotice,
    CheckpointState,
    Signal,
    Tenancy,
    TenancyStatus,
)
from app.aftercare.service import TICK, checkpoint_state, checkpoints_of, transfer_overdue
from app.matching.ages import add_months
from app.meetings.models import Meeting
from app.sqltypes import table_of, utcnow
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.timeutil import AMSTERDAM, today

# The action the table would hand out for an entry (app.actions.models.ActionKind).
SUGGESTED_ACTION: dict[str, str] = {
    "checkpoint": "record_checkpoint",
    "transfer_overdue": "plan_lease_transfer",
    Signal.rent_arrears: "arrange_payment_plan",
    Signal.nuisance: "address_nuisance",
}


def _running(session: Session, table_id: uuid.UUID) -> list[Tenancy]:
    return list(
        session.exec(
            select(Tenancy)
            .where(Tenancy.table_id == table_id, Tenancy.status != TenancyStatus.ended)
            .order_by(col(Tenancy.moved_in), col(Tenancy.case_id))
        )
    )


def _entry(tenancy: Tenancy, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "case_id": str(tenancy.case_id),
        "care_provider_id": str(tenancy.care_provider_id),
        "corporation_id": str(tenancy.corporation_id),
        "months": None,
        "due_on": None,
        "overdue": False,
        "recorded_on": None,
        "signals": [],
        "suggested_action_kind": None,
        **fields,
    }


def due_checkpoints(
    session: Session, table: OutflowTable, on: date
) -> list[tuple[Tenancy, int, date]]:
    """(tenancy, months, due day) of every checkpoint of a running tenancy due on or before
    `on` and not recorded."""
    policy = TablePolicy.model_validate(table.policy)
    tenancies = _running(session, table.id)
    recorded = checkpoints_of(session, [t.case_id for t in tenancies])
    due = []
    for tenancy in tenancies:
        done = {c.months for c in recorded[tenancy.case_id]}
        for months in policy.aftercare_checkpoint_months:
            due_on = add_months(tenancy.moved_in, months)
            if months not in done and due_on <= on:
                due.append((tenancy, months, due_on))
    return due


def freeze_lock(session: Session, table_id: uuid.UUID) -> None:
    """Lock the table's row FOR NO KEY UPDATE until the commit, before publishing reads the
    aftercare section and stamps `published_at`: a checkpoint being recorded holds it FOR
    SHARE (`app.aftercare.service.signal_lock`), so none commits between that read and the
    stamp. (NO KEY UPDATE leaves the foreign-key checks of rows inserted at the table free.)"""
    session.exec(
        select(OutflowTable.id).where(OutflowTable.id == table_id).with_for_update(key_share=True)
    ).first()


def published_after_signals(session: Session, table_id: uuid.UUID) -> datetime:
    """`published_at` for a publication holding `freeze_lock`: now, or just after the table's
    latest checkpoint `created_at` when that is later (a replica's clock ahead of the
    publisher's). Every checkpoint that committed first is in the frozen agenda, so its stamp
    must be before `published_at`, or the next agenda shows it again; see
    `app.aftercare.service.entered_after_publications` for the other way round."""
    latest = session.exec(
        select(Checkpoint.created_at)
        .where(Checkpoint.table_id == table_id)
        .order_by(col(Checkpoint.created_at).desc())
        .limit(1)
    ).first()
    now = utcnow()
    return now if latest is None or latest < now else latest + TICK


FROZEN_KEPT = 4096
"""Published meetings whose frozen signals `_frozen_signals` keeps per process (a snapshot never
changes once published, so a kept one is never stale)."""
_frozen: dict[uuid.UUID, frozenset[tuple[str, int]] | None] = {}


class _Missing:
    """Not kept yet (None is a kept answer: no aftercare section)."""


MISSING = _Missing()


def _frozen_signals(
    session: Session, table_id: uuid.UUID, on: date, since: date
) -> list[tuple[date, datetime, frozenset[tuple[str, int]] | None]]:
    """Per published meeting of the table dated from `since` and not on `on`: its date, its
    `published_at` and the (case id, months) of the signals its frozen agenda holds (None for
    an agenda frozen before agendas had the aftercare section)."""
    rows = session.exec(
        select(col(Meeting.id), col(Meeting.date), col(Meeting.published_at)).where(
            Meeting.table_id == table_id,
            col(Meeting.published_at).is_not(None),
            Meeting.date >= since,
            Meeting.date != on,
        )
    ).all()
    known = {meeting_id: _frozen.get(meeting_id, MISSING) for meeting_id, _, _ in rows}
    missing = [meeting_id for meeting_id, signals in known.items() if signals is MISSING]
    if missing:
        sections = session.exec(
            select(col(Meeting.id), col(Meeting.snapshot)[("document", "aftercare")]).where(
                col(Meeting.id).in_(missing)
            )
        ).all()
        if len(_frozen) + len(sections) > FROZEN_KEPT:
            _frozen.clear()
        for meeting_id, entries in sections:
            known[meeting_id] = _frozen[meeting_id] = (
                None
                if entries is None
                else frozenset(
                    (e["case_id"], int(e["months"])) for e in entries if e["kind"] == "signal"
                )
            )
    return [
        (day, at, signals)
        for meeting_id, day, at in rows
        if at is not None and not isinstance(signals := known[meeting_id], _Missing)
    ]


def _shown_elsewhere(
    checkpoint: Checkpoint,
    entered: date,
    drafts: list[date],
    frozen: list[tuple[date, datetime, frozenset[tuple[str, int]] | None]],
) -> bool:
    """Whether another meeting's agenda holds the checkpoint's signals: a published one's
    frozen agenda (whatever its date: one published early holds the signals entered before,
    and a meeting planned later for an earlier day must not show them again), or the live one
    of a draft dated before (on or after the day the signal was entered).

    Each published agenda is read for what it froze, not guessed from the previous meeting's
    date and `published_at`: with meetings planned out of date order the meeting dated just
    before was not the one that showed the signal, which came onto two agendas (breaker 14).
    An agenda frozen before agendas had the aftercare section is judged by its stamps: entered
    on or before its date and before it was frozen."""
    if any(entered <= day for day in drafts):
        return True
    key = (str(checkpoint.case_id), checkpoint.months)
    for day, published_at, signals in frozen:
        if signals is None:
            if entered <= day and checkpoint.created_at <= published_at:
                return True
        elif key in signals:
            return True
    return False


def section(session: Session, table: OutflowTable, on: date) -> list[dict[str, Any]]:
    """The aftercare entries for an agenda dated `on` (table view), in order: checkpoints
    (oldest due first), signals, overdue transfers. `overdue` is counted on today.

    A signal is on the agenda of the first meeting after the day it was recorded in the
    service: checkpoints entered on or before `on` and on no other meeting's agenda
    (`_shown_elsewhere`)."""
    now = today()
    entries = []
    for tenancy, months, due_on in sorted(due_checkpoints(session, table, on), key=_by_due):
        state = checkpoint_state(tenancy, due_on, False, now)
        entries.append(
            _entry(
                tenancy,
                "checkpoint",
                months=months,
                due_on=due_on.isoformat(),
                overdue=state == CheckpointState.overdue,
                suggested_action_kind=SUGGESTED_ACTION["checkpoint"],
            )
        )
    recorded = [
        (checkpoint, tenancy, checkpoint.created_at.astimezone(AMSTERDAM).date())
        for checkpoint, tenancy in session.exec(
            select(Checkpoint, Tenancy)
            .join(Tenancy, col(Tenancy.case_id) == col(Checkpoint.case_id))
            .where(Checkpoint.table_id == table.id)
            .order_by(col(Checkpoint.recorded_on), col(Checkpoint.id))
        ).all()
        if checkpoint.signals
    ]
    recorded = [r for r in recorded if r[2] <= on]
    since = min((entered for _, _, entered in recorded), default=on)
    drafts = list(
        session.exec(
            select(col(Meeting.date)).where(
                Meeting.table_id == table.id,
                col(Meeting.published_at).is_(None),
                Meeting.date >= since,
                Meeting.date < on,
            )
        ).all()
    )
    frozen = _frozen_signals(session, table.id, on, since) if recorded else []
    for checkpoint, tenancy, entered in recorded:
        if _shown_elsewhere(checkpoint, entered, drafts, frozen):
            continue
        first = next(
            (SUGGESTED_ACTION[s] for s in checkpoint.signals if s in SUGGESTED_ACTION), None
        )
        entries.append(
            _entry(
                tenancy,
                "signal",
                months=checkpoint.months,
                due_on=checkpoint.due_on.isoformat(),
                recorded_on=checkpoint.recorded_on.isoformat(),
                signals=list(checkpoint.signals),
                suggested_action_kind=first or "other",
            )
        )
    for tenancy in _running(session, table.id):
        if transfer_overdue(tenancy, on):
            assert tenancy.transfer_planned_on is not None
            entries.append(
                _entry(
                    tenancy,
                    "transfer_overdue",
                    due_on=tenancy.transfer_planned_on.isoformat(),
                    overdue=tenancy.transfer_planned_on < now,
                    signals=[],
                    suggested_action_kind=SUGGESTED_ACTION["transfer_overdue"],
                )
            )
    return entries


def _by_due(item: tuple[Tenancy, int, date]) -> tuple[date, str]:
    return item[2], str(item[0].case_id)


def for_care_provider(entries: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A care provider's share: the entries of its own cases."""
    return [e for e in entries if e["care_provider_id"] == me]


def for_corporation(entries: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A corporation's share: its own tenants' rent-arrears and nuisance signals and overdue
    transfers; no checkpoint of the support, no other signal."""
    shown = []
    for entry in entries:
        if entry["corporation_id"] != me or entry["kind"] == "checkpoint":
            continue
        if entry["kind"] == "signal":
            signals = [s for s in entry["signals"] if s in CORPORATION_SIGNALS]
            if not signals:
                continue
            entry = {**entry, "signals": signals}
        shown.append({key: entry[key] for key in CORPORATION_FIELDS})
    return shown


CORPORATION_FIELDS = (
    "kind",
    "case_id",
    "corporation_id",
    "months",
    "due_on",
    "overdue",
    "recorded_on",
    "signals",
)


def record_due(session: Session, table: OutflowTable) -> int:
    """Send `aftercare.checkpoint_due` (to the chair and the case's care provider) for every
    checkpoint due today or earlier that was not announced yet; returns how many were new.

    Once per checkpoint however many processes look at once: the notice's primary key (case,
    months) takes one row, `INSERT ... ON CONFLICT DO NOTHING` tells who inserted it, and only
    that transaction emits the event (through the outbox, sent when it commits)."""
    from app.webhooks.service import emit

    due = due_checkpoints(session, table, today())
    if not due:
        return 0
    notices = table_of(CheckpointDueNotice)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new = 0
    for tenancy, months, due_on in due:
        inserted = session.execute(
            insert(notices)
            .values(case_id=tenancy.case_id, months=months, due_on=due_on, at=utcnow())
            .on_conflict_do_nothing()
            .returning(notices.c.case_id)
        ).first()
        if inserted is None:
            continue
        new += 1
        emit(
            session,
            event_type="aftercare.checkpoint_due",
            organisation_ids={table.chair_organisation_id, tenancy.care_provider_id},
            data={
                "case_id": str(tenancy.case_id),
                "table_id": str(table.id),
                "months": months,
                "due_on": due_on.isoformat(),
            },
        )
    return new
