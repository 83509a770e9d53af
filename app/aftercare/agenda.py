"""The aftercare section of a table's agenda: due and overdue follow-up checkpoints, every
signal recorded since the table's previous meeting, overdue transfers of intermediate leases,
and tenancies not ended whose dwelling was let again; and the `aftercare.checkpoint_due`
webhook, sent once per checkpoint that came due.

Entries are JSON-ready dicts in the shape of `app.aftercare.models.AftercareItemOut`; the views
cut them down with `for_care_provider` and `for_corporation` (a corporation: its own tenants'
rent-arrears and nuisance signals, overdue transfers and tenancies let again; nothing of the
support).
"""

import uuid
from bisect import bisect_left
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
from app.aftercare.service import (
    TICK,
    anonymised_of,
    checkpoint_state,
    checkpoints_of,
    next_move_ins,
    returns,
    transfer_overdue,
)
from app.matching.ages import add_months
from app.meetings.models import Meeting
from app.sqltypes import table_of, utcnow
from app.tables.models import OutflowTable
from app.tables.policy import TablePolicy
from app.timeutil import local_date, today

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
    session: Session, table: OutflowTable, on: date, running: list[Tenancy] | None = None
) -> list[tuple[Tenancy, int, date]]:
    """(tenancy, months, due day) of every checkpoint of a running tenancy due on or before
    `on` and not recorded; `running`: the table's running tenancies, when read already. Not
    of a case retention anonymised: it takes no checkpoint any more (`record_checkpoint`)."""
    policy = TablePolicy.model_validate(table.policy)
    tenancies = _running(session, table.id) if running is None else running
    anonymised = anonymised_of(session, [t.case_id for t in tenancies])
    tenancies = [t for t in tenancies if t.case_id not in anonymised]
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


class _Held:
    """Which of a table's checkpoints with signals another meeting's agenda holds, for the
    agenda dated `on`, from the table's meetings dated from `since` (the oldest one entered).

    A published meeting dated from the day a signal was entered up to `on` and published after
    it was (its stamp: `published_after_signals`, `entered_after_publications`) vouches that
    another meeting holds it without reading its snapshot: its publication froze the signal,
    unless a draft dated before it held it then (which holds it still, or was published later
    and vouches in turn) or a frozen agenda did. So only the snapshots of published meetings
    dated after `on` are read (one published early); reading every published meeting's since
    the oldest signal took seconds on a table with a year of big snapshots (breaker 15).

    The other agenda it vouches for may be the frozen one of the meeting dated `on` itself
    (published before it): so the live agenda of a published meeting's date reads that one
    snapshot too, and shows what it froze (breaker 16)."""

    def __init__(self, session: Session, table_id: uuid.UUID, on: date, since: date) -> None:
        rows = session.exec(
            select(col(Meeting.id), col(Meeting.date), col(Meeting.published_at))
            .where(Meeting.table_id == table_id, Meeting.date >= since)
            .order_by(col(Meeting.date))
        ).all()
        # The meeting dated `on` when it is published (the live agenda of its date): what its
        # own agenda froze is on no other, whatever the meetings dated before vouch for.
        self.own = next(((m, at) for m, day, at in rows if day == on and at is not None), None)
        rows = [row for row in rows if row[1] != on]
        drafts = [day for _, day, at in rows if at is None and day < on]
        self.last_draft = max(drafts, default=None)
        before = [(day, at) for _, day, at in rows if at is not None and day < on]
        self.days = [day for day, _ in before]
        # latest[i]: the latest publication among the meetings dated from days[i] up to `on`
        self.latest: list[datetime] = []
        for _, at in reversed(before):
            self.latest.append(at if not self.latest or at > self.latest[-1] else self.latest[-1])
        self.latest.reverse()
        self.after = [(m, day, at) for m, day, at in rows if at is not None and day > on]
        self.session = session

    def _before(self, checkpoint: Checkpoint, entered: date) -> bool:
        if self.last_draft is not None and entered <= self.last_draft:
            return True
        first = bisect_left(self.days, entered)
        return first < len(self.days) and checkpoint.created_at <= self.latest[first]

    def _sections(self, meeting_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        return dict(
            self.session.exec(
                select(col(Meeting.id), col(Meeting.snapshot)[("document", "aftercare")]).where(
                    col(Meeting.id).in_(meeting_ids)
                )
            ).all()
        )

    @staticmethod
    def _holds(entries: Any, published_at: datetime, checkpoint: Checkpoint) -> bool:
        """Whether a frozen aftercare section holds the checkpoint's signals. One frozen before
        agendas had the section (None) is judged by its stamps (the caller knows the signal
        was entered by its date)."""
        if entries is None:
            return checkpoint.created_at <= published_at
        return any(
            e["kind"] == "signal"
            and e["case_id"] == str(checkpoint.case_id)
            and int(e["months"]) == checkpoint.months
            for e in entries
        )

    def of(self, recorded: list[tuple[Checkpoint, Tenancy, date]]) -> set[uuid.UUID]:
        """The ids of the checkpoints held elsewhere."""
        mine: set[uuid.UUID] = set()
        if self.own is not None:
            meeting_id, published_at = self.own
            entries = self._sections([meeting_id])[meeting_id]
            mine = {c.id for c, _, _ in recorded if self._holds(entries, published_at, c)}
        held = {c.id for c, _, entered in recorded if c.id not in mine and self._before(c, entered)}
        rest = [c for c, _, _ in recorded if c.id not in held and c.id not in mine]
        if not rest:
            return held
        oldest = min(c.created_at for c in rest)
        wanted = [(m, at) for m, _, at in self.after if oldest <= at]
        if not wanted:
            return held
        sections = self._sections([m for m, _ in wanted])
        for meeting_id, published_at in wanted:
            # Dated after `on`, so after the day the signal was entered.
            entries = sections[meeting_id]
            held |= {c.id for c in rest if self._holds(entries, published_at, c)}
        return held


def section(session: Session, table: OutflowTable, on: date) -> list[dict[str, Any]]:
    """The aftercare entries for an agenda dated `on` (table view), in order: checkpoints
    (oldest due first), signals, overdue transfers, tenancies let again (`let_again`: not ended,
    while the next tenant of the dwelling moved in on or before `on`, the entry's `due_on`; the
    end is to be recorded, on that day at the latest), tenancies whose tenant returned
    (`returned`: not ended, while a case following the tenancy's case was registered at the
    table on or before `on`, its `due_on`). `overdue` is counted on today.

    A signal is on the agenda of the first meeting after the day it was recorded in the
    service: checkpoints entered on or before `on` and on no other meeting's agenda (`_Held`):
    not the frozen agenda of any published meeting, whatever its date, nor the live one of a
    draft dated before (on or after the day the signal was entered).

    No entry of a case retention anonymised suggests an action: none about it is handed out
    any more (its checkpoints are not listed, `due_checkpoints`)."""
    now = today()
    entries = []
    running = _running(session, table.id)
    for tenancy, months, due_on in sorted(
        due_checkpoints(session, table, on, running), key=_by_due
    ):
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
        (checkpoint, tenancy, local_date(checkpoint.created_at))
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
    held = _Held(session, table.id, on, since).of(recorded) if recorded else set()
    recorded = [r for r in recorded if r[0].id not in held]
    # No action about a case retention anonymised is handed out any more (409
    # `case_anonymised`, `app.actions.service`): its entries suggest none.
    anonymised = anonymised_of(
        session, [t.case_id for t in running] + [t.case_id for _, t, _ in recorded]
    )
    for checkpoint, tenancy, _ in recorded:
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
                suggested_action_kind=None if tenancy.case_id in anonymised else first or "other",
            )
        )
    for tenancy in running:
        if transfer_overdue(tenancy, on):
            assert tenancy.transfer_planned_on is not None
            entries.append(
                _entry(
                    tenancy,
                    "transfer_overdue",
                    due_on=tenancy.transfer_planned_on.isoformat(),
                    overdue=tenancy.transfer_planned_on < now,
                    signals=[],
                    suggested_action_kind=(
                        None
                        if tenancy.case_id in anonymised
                        else SUGGESTED_ACTION["transfer_overdue"]
                    ),
                )
            )
    following, returned = next_move_ins(session, running), returns(session, running)
    for tenancy in running:
        moved_in = following.get(tenancy.case_id)
        if moved_in is not None and moved_in <= on:
            entries.append(
                _entry(tenancy, "let_again", due_on=moved_in.isoformat(), overdue=moved_in < now)
            )
    for tenancy in running:
        if (back := returned.get(tenancy.case_id)) is not None and back <= on:
            entries.append(_entry(tenancy, "returned", due_on=back.isoformat(), overdue=back < now))
    return entries


def _by_due(item: tuple[Tenancy, int, date]) -> tuple[date, str]:
    return item[2], str(item[0].case_id)


def for_care_provider(entries: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A care provider's share: the entries of its own cases."""
    return [e for e in entries if e["care_provider_id"] == me]


# Entries the landlord does not see: the support's checkpoints, and a tenant's return to the
# table (that the client is back in care is the care provider's and the table's to know).
CARE_ONLY = frozenset({"checkpoint", "returned"})


def for_corporation(entries: list[dict[str, Any]], me: str) -> list[dict[str, Any]]:
    """A corporation's share: its own tenants' rent-arrears and nuisance signals, overdue
    transfers and tenancies let again (its own dwelling); no checkpoint of the support, no
    return of its tenant to the table, no other signal."""
    shown = []
    for entry in entries:
        if entry["corporation_id"] != me or entry["kind"] in CARE_ONLY:
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
