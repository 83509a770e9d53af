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


def _previous_meeting(
    session: Session, table_id: uuid.UUID, on: date
) -> tuple[date, datetime | None] | None:
    """The date of the table's last meeting before `on`, and when its agenda was published
    (None: not published)."""
    row = session.exec(
        select(col(Meeting.date), col(Meeting.published_at))
        .where(Meeting.table_id == table_id, Meeting.date < on)
        .order_by(col(Meeting.date).desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


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
    must be before `published_at`, or the next agenda shows it again (`_shown_before`); see
    `app.aftercare.service.entered_after_publications` for the other way round."""
    latest = session.exec(
        select(Checkpoint.created_at)
        .where(Checkpoint.table_id == table_id)
        .order_by(col(Checkpoint.created_at).desc())
        .limit(1)
    ).first()
    now = utcnow()
    return now if latest is None or latest < now else latest + TICK


def _shown_before(checkpoint: Checkpoint, previous: tuple[date, datetime | None] | None) -> bool:
    """Whether the previous meeting's agenda holds the checkpoint's signals: entered on or
    before its date and, once it is published, before its agenda was frozen. A signal entered
    between the publication and the meeting is in no frozen agenda, so it goes on the next
    one (counting from the date alone left it off both: found by the eighth breaker)."""
    if previous is None:
        return False
    day, published_at = previous
    entered = checkpoint.created_at.astimezone(AMSTERDAM).date()
    return entered <= day and (published_at is None or checkpoint.created_at <= published_at)


def section(session: Session, table: OutflowTable, on: date) -> list[dict[str, Any]]:
    """The aftercare entries for an agenda dated `on` (table view), in order: checkpoints
    (oldest due first), signals, overdue transfers. `overdue` is counted on today.

    A signal is on the agenda of the first meeting after the day it was recorded in the
    service: checkpoints entered on or before `on` and not on the previous meeting's agenda
    (`_shown_before`)."""
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
    previous = _previous_meeting(session, table.id, on)
    recorded = session.exec(
        select(Checkpoint, Tenancy)
        .join(Tenancy, col(Tenancy.case_id) == col(Checkpoint.case_id))
        .where(Checkpoint.table_id == table.id)
        .order_by(col(Checkpoint.recorded_on), col(Checkpoint.id))
    ).all()
    for checkpoint, tenancy in recorded:
        entered = checkpoint.created_at.astimezone(AMSTERDAM).date()
        if not checkpoint.signals or entered > on or _shown_before(checkpoint, previous):
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
