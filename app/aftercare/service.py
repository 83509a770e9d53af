# Size: one domain's reads and writes after the move (tenancy, agreement, checkpoints, omklap,
# end) with the view rules they share; the agenda section and the figures are modules of their own.
"""After the move: the tenancy a housing starts, its aftercare agreement, follow-up checkpoints,
omklap and end. Plain functions taking the session; every read or write that shows a case id
is written to the access log (action `aftercare`).

Who sees what: the care provider of the case, the chair and the table's municipalities see the
tenancy whole (the `full` view) and the agreement; the corporation that lets the dwelling sees
its tenant's lease, omklap and end, and of the checkpoints only their state and the signals
that concern a landlord (rent arrears, nuisance): nothing of the support. Anyone else: 404.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.aftercare import lifecycle
from app.aftercare.lifecycle import TenancyEvent
from app.aftercare.models import (
    CORPORATION_SIGNALS,
    AftercareAgreement,
    AgreementWrite,
    Checkpoint,
    CheckpointCreate,
    CheckpointState,
    Signal,
    Tenancy,
    TenancyStatus,
    TenancyUpdate,
)
from app.cases.models import Case
from app.matching.ages import add_months
from app.meetings.models import Meeting
from app.organisations.models import Organisation, OrganisationKind
from app.principal import Principal
from app.problems import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from app.proposals.models import Proposal
from app.sqltypes import utcnow
from app.tables.models import OutflowTable, TableMember
from app.tables.policy import MAX_TRANSFER_MONTHS, TablePolicy
from app.tables.service import reader_table_ids, reads_table
from app.timeutil import local_date, today
from app.vacancies.models import LeaseForm
from app.versioning import (
    document_etag,
    etag,
    flush,
    lock_checked,
    lock_checked_as_read,
    lock_one,
    touch,
)


class Viewer(StrEnum):
    care_provider = "care_provider"  # the case's own care provider (writes the aftercare)
    reader = "reader"  # the chair and municipalities of the table
    corporation = "corporation"  # the landlord


def policy_of(session: Session, table_id: uuid.UUID) -> TablePolicy:
    table = session.get(OutflowTable, table_id)
    assert table is not None  # a foreign key
    return TablePolicy.model_validate(table.policy)


def start_tenancy(session: Session, proposal: Proposal) -> Tenancy:
    """The tenancy of a housing, created with it (`app.proposals.service.decide`, `house`).

    An intermediate lease is planned to go to the client the table policy's
    `lease_transfer_months` after the move-in."""
    assert proposal.housed_on is not None
    policy = policy_of(session, proposal.table_id)
    intermediate = proposal.lease_form == LeaseForm.intermediate_lease
    tenancy = Tenancy(
        case_id=proposal.case_id,
        proposal_id=proposal.id,
        table_id=proposal.table_id,
        care_provider_id=proposal.care_provider_id,
        corporation_id=proposal.corporation_id,
        moved_in=proposal.housed_on,
        lease_form=proposal.lease_form,
        status=lifecycle.initial_status(proposal.lease_form),
        transfer_planned_on=(
            add_months(proposal.housed_on, policy.lease_transfer_months) if intermediate else None
        ),
    )
    session.add(tenancy)
    return tenancy


def get_tenancy(
    session: Session, context: AccessContext, case_id: uuid.UUID, *, logged: bool = True
) -> tuple[Tenancy, Viewer]:
    """The tenancy of a housed case and how the caller sees it, its access logged; 404 when
    the case is not housed or the caller may not see it. `logged=False` for a write, which logs
    the one access it is itself (a read logged beside it made every write two rows).

    The operator is refused (403) before the case is looked up, as at the case file. A tenancy
    the caller may not see is not found by the same one statement that finds none: looking up
    first and asking who may see it after answered the operator 403 for a housed case and 404
    for any other id, and another corporation 404 after one more statement, so a case id said
    whether the client had moved in."""
    me = context.principal.require_organisation()
    readable = col(Tenancy.table_id).in_(reader_table_ids(context.principal))
    found = session.exec(
        select(Tenancy, readable).where(
            Tenancy.case_id == case_id,
            or_(Tenancy.care_provider_id == me, Tenancy.corporation_id == me, readable),
        )
    ).first()
    if found is None:
        raise NotFound("No tenancy for this case: it is unknown, not housed, or not yours.")
    tenancy, reads = found
    viewer = _view(tenancy, me, bool(reads))
    assert viewer is not None  # the statement found only a tenancy the caller may see
    if logged:
        log(session, context, [tenancy])
    return tenancy, viewer


def viewer_of(session: Session, principal: Principal, tenancy: Tenancy) -> Viewer | None:
    """How `principal` sees `tenancy` (`get_tenancy`); None when it may not see it."""
    me = principal.require_organisation()
    if tenancy.care_provider_id == me:
        return Viewer.care_provider
    reads = session.exec(
        select(OutflowTable.id).where(
            OutflowTable.id == tenancy.table_id,
            col(OutflowTable.id).in_(reader_table_ids(principal)),
        )
    ).first()
    return _view(tenancy, me, reads is not None)


def _view(tenancy: Tenancy, me: uuid.UUID, reads: bool) -> Viewer | None:
    """The view of organisation `me` (`reads`: a reader of the tenancy's table), in this order:
    the care provider, then a reader (a chair that is also the landlord reads as the table),
    then the landlord; None for anyone else."""
    if tenancy.care_provider_id == me:
        return Viewer.care_provider
    if reads:
        return Viewer.reader
    if tenancy.corporation_id == me:
        return Viewer.corporation
    return None


def get_checkpoint(
    session: Session, context: AccessContext, case_id: uuid.UUID, checkpoint_id: uuid.UUID
) -> Checkpoint:
    """A recorded checkpoint of the case, read by its care provider (an `Idempotency-Key`
    replay), logged as a read of the case; 404 as `get_tenancy`, or when it is not this
    case's."""
    _, viewer = get_tenancy(session, context, case_id)
    checkpoint = session.get(Checkpoint, checkpoint_id)
    if viewer is not Viewer.care_provider or checkpoint is None or checkpoint.case_id != case_id:
        raise NotFound("No such checkpoint for this case.")
    return checkpoint


def log(session: Session, context: AccessContext, tenancies: list[Tenancy]) -> None:
    access_log.record(
        session, context, AccessAction.aftercare, [(t.case_id, t.table_id) for t in tenancies]
    )


# --- reading -------------------------------------------------------------------------------


def raised_signals(
    still_living_there: bool, support_active: bool, recorded: list[str]
) -> list[str]:
    """The signals a checkpoint raises: those recorded, `support_stopped` when the support is
    no longer given and `not_living_there` when the client left, in the code list's order."""
    raised = set(recorded)
    if not support_active:
        raised.add(Signal.support_stopped)
    if not still_living_there:
        raised.add(Signal.not_living_there)
    return [s.value for s in Signal if s in raised]


def checkpoint_state(
    tenancy: Tenancy, due_on: date, recorded: bool, on: date, *, anonymised: bool = False
) -> CheckpointState:
    """`anonymised`: retention anonymised the case, which takes no checkpoint any more (409
    `case_anonymised`), so none it lacks is due, overdue or upcoming: `not_due`."""
    if recorded:
        return CheckpointState.recorded
    if anonymised or (tenancy.ended_on is not None and tenancy.ended_on <= due_on):
        return CheckpointState.not_due
    if due_on > on:
        return CheckpointState.upcoming
    return CheckpointState.due if due_on == on else CheckpointState.overdue


def checkpoints_of(
    session: Session, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Checkpoint]]:
    found: dict[uuid.UUID, list[Checkpoint]] = {c: [] for c in case_ids}
    if case_ids:
        rows = session.exec(
            select(Checkpoint)
            .where(col(Checkpoint.case_id).in_(case_ids))
            .order_by(col(Checkpoint.months))
        )
        for row in rows:
            found[row.case_id].append(row)
    return found


def schedule(
    tenancy: Tenancy,
    months: list[int],
    recorded: list[Checkpoint],
    on: date,
    *,
    anonymised: bool = False,
) -> list[dict[str, Any]]:
    """The follow-up of one tenancy: every policy checkpoint (and any recorded at months the
    policy no longer lists), with its due day and state on `on` (`checkpoint_state`)."""
    by_months = {c.months: c for c in recorded}
    entries = []
    for m in sorted(set(months) | set(by_months)):
        done = by_months.get(m)
        due_on = add_months(tenancy.moved_in, m)
        entries.append(
            {
                "months": m,
                "due_on": due_on,
                "state": checkpoint_state(
                    tenancy, due_on, done is not None, on, anonymised=anonymised
                ),
                "recorded_on": done.recorded_on if done else None,
                "still_living_there": done.still_living_there if done else None,
                "support_active": done.support_active if done else None,
                "signals": list(done.signals) if done else [],
            }
        )
    return entries


def transfer_overdue(tenancy: Tenancy, on: date) -> bool:
    return (
        tenancy.status == TenancyStatus.awaiting_transfer
        and tenancy.transfer_planned_on is not None
        and tenancy.transfer_planned_on < on
    )


def tenancy_document(session: Session, tenancy: Tenancy, viewer: Viewer) -> dict[str, Any]:
    """The tenancy as `viewer` sees it (the `TenancyPublic` or `CorporationTenancyPublic`
    shape). Of a case retention anonymised, no checkpoint not recorded is due any more."""
    on = today()
    policy = policy_of(session, tenancy.table_id)
    recorded = checkpoints_of(session, [tenancy.case_id])[tenancy.case_id]
    anonymised = is_anonymised(session, tenancy.case_id)
    checkpoints = schedule(
        tenancy, policy.aftercare_checkpoint_months, recorded, on, anonymised=anonymised
    )
    has_agreement = session.get(AftercareAgreement, tenancy.case_id) is not None
    transfer = None
    if tenancy.lease_form == LeaseForm.intermediate_lease:
        transfer = {
            "planned_on": tenancy.transfer_planned_on,
            "open_conditions": list(tenancy.transfer_open_conditions),
            "transferred_on": tenancy.transferred_on,
            "overdue": transfer_overdue(tenancy, on),
        }
    document: dict[str, Any] = {
        "case_id": tenancy.case_id,
        "table_id": tenancy.table_id,
        "care_provider_id": tenancy.care_provider_id,
        "corporation_id": tenancy.corporation_id,
        "moved_in": tenancy.moved_in,
        "lease_form": tenancy.lease_form,
        "status": tenancy.status,
        "transfer": transfer,
        "ended_on": tenancy.ended_on,
        "end_reason": tenancy.end_reason,
        "has_aftercare_agreement": has_agreement,
        "version": tenancy.version,
        "updated_at": tenancy.updated_at,
    }
    if viewer == Viewer.corporation:
        document["view"] = "corporation"
        document["checkpoints"] = [
            {
                "months": c["months"],
                "due_on": c["due_on"],
                "state": c["state"],
                "recorded_on": c["recorded_on"],
                "signals": [s for s in c["signals"] if s in CORPORATION_SIGNALS],
            }
            for c in checkpoints
        ]
    else:
        document["view"] = "full"
        document["checkpoints"] = checkpoints
    return document


def tenancy_etag(tenancy: Tenancy, document: dict[str, Any]) -> str:
    """The ETag of a read of the tenancy that showed `document` (`tenancy_document`): its
    version and a digest of the document, as the checkpoints' states and whether the omklap is
    overdue count from today, and the version alone let `If-None-Match` answer 304 to a copy
    that still showed a checkpoint `upcoming` once it was overdue."""
    return document_etag(tenancy, document)


def _lock_checked(
    session: Session,
    context: AccessContext,
    tenancy: Tenancy,
    if_match: str | None,
    if_none_match: str | None = None,
) -> Tenancy:
    """`lock_checked` for a write of the tenancy, whose `If-Match` and `If-None-Match` may name
    its version's ETag or the ETag the caller's read answered (`tenancy_etag`), compared with
    the tenancy as it reads now on the locked row: a copy that no longer reads so is stale."""

    def read_etag(locked: Tenancy) -> str:
        viewer = viewer_of(session, context.principal, locked)
        if viewer is None:  # never: whoever writes the tenancy reads it
            return etag(locked)
        return tenancy_etag(locked, tenancy_document(session, locked, viewer))

    return lock_checked_as_read(session, tenancy, "tenancy", if_match, if_none_match, read_etag)


def table_viewer(principal: Principal, table: OutflowTable) -> Viewer:
    """How the caller reads a table's tenancies: all (chair and municipalities), its dwellings'
    (a corporation) or its cases' (a care provider)."""
    if reads_table(principal, table):
        return Viewer.reader
    if principal.organisation_kind == OrganisationKind.housing_corporation:
        return Viewer.corporation
    return Viewer.care_provider


def list_tenancies(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    status: TenancyStatus | None,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[Tenancy], Viewer]:
    """Up to `limit` + 1 tenancies of the table the caller may see (chair and municipalities:
    all; a care provider: its cases'; a corporation: its dwellings'), the first `limit` logged."""
    principal = context.principal
    me = principal.require_organisation()
    query = select(Tenancy).where(Tenancy.table_id == table.id)
    viewer = table_viewer(principal, table)
    if viewer == Viewer.corporation:
        query = query.where(Tenancy.corporation_id == me)
    elif viewer == Viewer.care_provider:
        query = query.where(Tenancy.care_provider_id == me)
    if status is not None:
        query = query.where(Tenancy.status == status)
    if after is not None:
        query = query.where(Tenancy.case_id > after)
    rows = list(session.exec(query.order_by(col(Tenancy.case_id)).limit(limit + 1)))
    log(session, context, rows[:limit])
    return rows, viewer


# --- writing -------------------------------------------------------------------------------


def _day_of_record(name: str, day: date, tenancy: Tenancy) -> date:
    """A date of record: not in the future, not before the move-in (400)."""
    if day > today():
        raise Unprocessable(name, "lies in the future", "date_in_future")
    if day < tenancy.moved_in:
        raise Unprocessable(
            name, f"before the move-in on {tenancy.moved_in}", "date_before_move_in"
        )
    return day


def keeps(tenancy: Tenancy, organisation_id: uuid.UUID | None) -> bool:
    """Whether the organisation keeps the tenancy (plans the omklap, ends it): the case's care
    provider or the landlord, in whichever view it reads it (a corporation chairing the table
    reads the chair's full view and still lets the dwelling)."""
    return organisation_id in (tenancy.care_provider_id, tenancy.corporation_id)


def refuse_transfer(
    tenancy: Tenancy, organisation_id: uuid.UUID | None, fields: Iterable[str]
) -> None:
    """403 for a keeper other than the landlord sending `transferred_on` among `fields`: the
    landlord records that the lease became the client's."""
    if "transferred_on" in fields and organisation_id != tenancy.corporation_id:
        raise Forbidden("Only the corporation records the transfer of the lease.")


def _require_care_provider(context: AccessContext, tenancy: Tenancy, what: str) -> None:
    if context.principal.organisation_id != tenancy.care_provider_id:
        raise Forbidden(f"Only the case's care provider {what}.")


def refuse_agreement_to(viewer: Viewer) -> None:
    """403 for a corporation: it sees in the tenancy that an agreement exists, not its
    content."""
    if viewer == Viewer.corporation:
        raise Forbidden("A corporation sees that an aftercare agreement exists, not its content.")


def get_agreement(session: Session, tenancy: Tenancy, viewer: Viewer) -> AftercareAgreement:
    """The agreement (care provider, chair, municipalities). A corporation sees only that it
    exists (in the tenancy): 403 here. 404 `case_anonymised` once retention deleted it."""
    refuse_agreement_to(viewer)
    agreement = session.get(AftercareAgreement, tenancy.case_id)
    if agreement is None:
        if is_anonymised(session, tenancy.case_id):
            raise NotFound(
                "The case file is anonymised (retention): its aftercare agreement was deleted, "
                "and it takes no new one.",
                code="case_anonymised",
            )
        raise NotFound("No aftercare agreement for this case yet.")
    return agreement


def is_anonymised(session: Session, case_id: uuid.UUID) -> bool:
    """Whether retention anonymised the case: a fresh read of `anonymised_at`, not the
    session's copy of the case."""
    anonymised = session.exec(select(Case.anonymised_at).where(Case.id == case_id)).one_or_none()
    return anonymised is not None


def anonymised_of(session: Session, case_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Of `case_ids`, the cases retention anonymised (they take no checkpoint nor action any
    more: `app.aftercare.agenda`)."""
    return set(
        session.exec(
            select(Case.id).where(col(Case.id).in_(case_ids), col(Case.anonymised_at).is_not(None))
        )
    )


def _require_not_anonymised(
    session: Session, tenancy: Tenancy, what: str = "aftercare agreement"
) -> None:
    """409 `case_anonymised`: retention deleted the case's agreement (and cleared the open
    conditions of the omklap) with its other personal details, and a new one would bring them
    back into a file retention no longer visits. Read after the tenancy's lock
    (`is_anonymised`), which retention takes too before it anonymises (`app.cases.retention`)."""
    if is_anonymised(session, tenancy.case_id):
        raise Conflict(
            f"The case file is anonymised (retention); it takes no {what}.",
            code="case_anonymised",
        )


def _agreement_within_follow_up(
    tenancy: Tenancy, data: AgreementWrite, stored: AftercareAgreement | None
) -> None:
    """400 for an agreement's day outside the tenancy's follow-up: a start before the move-in
    (`date_before_move_in`; the aftercare is support after the move), a start or planned end
    more than `MAX_TRANSFER_MONTHS` after it (`date_too_far_after_move_in`; the policy's last
    checkpoint and omklap lie within those ten years). Only a new day: one stored before the
    bound, sent back as read, is no change."""
    latest = add_months(tenancy.moved_in, MAX_TRANSFER_MONTHS)
    for name in ("starts_on", "planned_end_on"):
        day = getattr(data, name)
        if day is None or (stored is not None and day == getattr(stored, name)):
            continue
        if day < tenancy.moved_in:
            raise Unprocessable(
                name, f"before the move-in on {tenancy.moved_in}", "date_before_move_in"
            )
        if day > latest:
            raise Unprocessable(
                name,
                f"more than {MAX_TRANSFER_MONTHS} months after the move-in (after {latest})",
                "date_too_far_after_move_in",
            )


def put_agreement(
    session: Session,
    context: AccessContext,
    tenancy: Tenancy,
    data: AgreementWrite,
    if_match: str | None,
    if_none_match: str | None = None,
) -> tuple[AftercareAgreement, bool]:
    """Make or replace the agreement (the case's care provider); returns it and whether it was
    made now. `If-Match` is compared with the agreement's ETag (412 when stale, and where there
    is none yet: neither `*` nor an ETag matches nothing), and so is
    `If-None-Match` (412 when it names it, or is `*` and an agreement exists: a client that
    means to make the first one overwrites none made meanwhile); 409 `tenancy_ended` once the
    tenancy ended, 409 `case_anonymised` once retention anonymised the case. The supporting
    organisation is a care provider at the case's table (400 `unknown_organisation`); the days
    lie within the follow-up (400, `_agreement_within_follow_up`)."""
    _require_care_provider(context, tenancy, "makes the aftercare agreement")
    tenancy = lock_one(session, tenancy)
    lifecycle.check(tenancy, TenancyEvent.record_checkpoint)
    _require_not_anonymised(session, tenancy)
    if data.planned_end_on is not None and data.planned_end_on < data.starts_on:
        raise Unprocessable("planned_end_on", "before starts_on", "end_before_start")
    _agreement_within_follow_up(tenancy, data, session.get(AftercareAgreement, tenancy.case_id))
    supporter = session.exec(
        select(Organisation.id)
        .join(TableMember, col(TableMember.organisation_id) == col(Organisation.id))
        .where(
            Organisation.id == data.support_organisation_id,
            Organisation.kind == OrganisationKind.care_provider.value,
            TableMember.table_id == tenancy.table_id,
        )
    ).first()
    if supporter is None:
        raise Unprocessable(
            "support_organisation_id",
            "not a care provider at the case's table",
            "unknown_organisation",
        )
    values: dict[str, Any] = {
        "support_intensity": data.support_intensity.value,
        "support_organisation_id": data.support_organisation_id,
        "contact_frequency": data.contact_frequency.value,
        "starts_on": data.starts_on,
        "planned_end_on": data.planned_end_on,
        "action_signals": [s.value for s in data.action_signals],
    }
    agreement = session.get(AftercareAgreement, tenancy.case_id)
    created = agreement is None
    if agreement is None:
        if if_match is not None:
            # RFC 9110 section 13.1.1: neither `*` nor an ETag matches where there is nothing.
            raise PreconditionFailed(
                "No aftercare agreement for this case yet, so `If-Match` cannot match; "
                "leave it out to make it."
            )
        agreement = AftercareAgreement(case_id=tenancy.case_id, **values)
    else:
        agreement = lock_checked(session, agreement, "aftercare agreement", if_match, if_none_match)
        for name, value in values.items():
            setattr(agreement, name, value)
    if created:
        # The tenancy now shows `has_aftercare_agreement`, so its version moves. A change of an
        # existing agreement moves only the agreement's: the corporation reads the tenancy's
        # ETag and `updated_at` but not the agreement, so they showed it when the care
        # provider changed the support (found by the eighth breaker). Retention counts from
        # the later of the two (app.cases.retention). An agreement put again as it stands
        # changes neither row, nor their ETags.
        touch(tenancy)
    session.add_all([agreement, tenancy])
    try:
        with session.begin_nested():
            flush(session, if_match, "aftercare agreement")
    except IntegrityError as exc:  # made concurrently by another request
        raise Conflict(
            "The agreement was made at the same time; fetch it and retry with If-Match.",
            code="changed_concurrently",
        ) from exc
    log(session, context, [tenancy])
    return agreement, created


def signal_lock(session: Session, table_id: uuid.UUID) -> None:
    """Lock the table's row FOR SHARE until the commit, for a checkpoint about to be recorded.

    Publishing a meeting reads the aftercare section and then stamps `published_at`, holding
    the row FOR NO KEY UPDATE from before that read (`app.aftercare.agenda.freeze_lock`). So a
    checkpoint either commits before the read (in the frozen agenda, recorded before
    `published_at`) or waits for the publication and is recorded after it (on the next
    agenda, `app.aftercare.agenda._Held`); without the lock one committed between the
    read and the stamp was on neither. SQLite runs one writer at a time (BEGIN IMMEDIATE), which
    orders them the same way."""
    session.exec(
        select(OutflowTable.id).where(OutflowTable.id == table_id).with_for_update(read=True)
    ).first()


TICK = timedelta(microseconds=1)
"""The smallest step of a stored timestamp: what `entered_after_publications` and
`app.aftercare.agenda.published_after_signals` add to keep the stamps in commit order."""


def entered_after_publications(session: Session, table_id: uuid.UUID) -> datetime:
    """`created_at` for a checkpoint being recorded under `signal_lock`: now, or just after the
    table's latest `published_at` when that is later.

    Why: `published_at` comes from the publishing process's clock. With replicas, a checkpoint
    recorded after a publication (the lock orders them) on a clock a few seconds behind was
    stamped before `published_at`: counted as on that frozen agenda, which it is not, so on no
    agenda at all. Every publication that committed first is visible here (the lock waited
    for it), so the stamps follow the commit order whatever the clocks say."""
    latest = session.exec(
        select(Meeting.published_at)
        .where(Meeting.table_id == table_id, col(Meeting.published_at).is_not(None))
        .order_by(col(Meeting.published_at).desc())
        .limit(1)
    ).first()
    now = utcnow()
    return now if latest is None or latest < now else latest + TICK


def record_checkpoint(
    session: Session,
    context: AccessContext,
    tenancy: Tenancy,
    data: CheckpointCreate,
    if_match: str | None = None,
) -> Checkpoint:
    """Record one follow-up checkpoint (the case's care provider).

    Errors: 400 `unknown_checkpoint` for months the table policy does not list, 400
    `date_in_future` / `date_before_move_in` for the day of record, 400
    `date_after_next_move_in` for a client found still living there after the next tenant of
    the dwelling moved in (the tenancy could not be ended any more), 409 `checkpoint_recorded`
    when that checkpoint is recorded already, 409 `tenancy_ended`, 409 `case_anonymised` once
    retention anonymised the case (no file is followed up any more); `if_match` (the tenancy's
    ETag a page showed): 412 when the tenancy moved on, checked on the locked row, so that a
    checkpoint recorded at the same time counts. Sends `aftercare.signal_raised` when it raises
    a signal."""
    _require_care_provider(context, tenancy, "records follow-up checkpoints")
    # Before `created_at` is taken (the Checkpoint below): see `signal_lock`. And before the
    # tenancy's row: publishing holds the table's row when it inserts a due checkpoint's notice,
    # whose foreign key waits for a locked tenancy (a deadlock the other way round). A
    # tenancy's table never changes.
    signal_lock(session, tenancy.table_id)
    tenancy = _lock_checked(session, context, tenancy, if_match)
    lifecycle.check(tenancy, TenancyEvent.record_checkpoint)
    _require_not_anonymised(session, tenancy, "follow-up checkpoints")
    policy = policy_of(session, tenancy.table_id)
    if data.months not in policy.aftercare_checkpoint_months:
        listed = ", ".join(str(m) for m in policy.aftercare_checkpoint_months)
        raise Unprocessable(
            "months", f"the table's checkpoints are at {listed} months", "unknown_checkpoint"
        )
    recorded_on = _day_of_record("recorded_on", data.recorded_on or today(), tenancy)
    if data.still_living_there:
        # Else the end could neither come before this checkpoint nor after the next move-in.
        following = next_move_ins(session, [tenancy]).get(tenancy.case_id)
        if following is not None and recorded_on > following:
            raise Unprocessable(
                "recorded_on",
                f"the client cannot still live in the dwelling the next tenant moved into on "
                f"{following}",
                "date_after_next_move_in",
            )
    checkpoint = Checkpoint(
        case_id=tenancy.case_id,
        table_id=tenancy.table_id,
        months=data.months,
        due_on=add_months(tenancy.moved_in, data.months),
        recorded_on=recorded_on,
        still_living_there=data.still_living_there,
        support_active=data.support_active,
        signals=raised_signals(
            data.still_living_there, data.support_active, [s.value for s in data.signals]
        ),
        recorded_by_organisation_id=context.principal.require_organisation(),
        created_at=entered_after_publications(session, tenancy.table_id),
    )
    session.add(checkpoint)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"The {data.months}-month checkpoint is recorded already.", code="checkpoint_recorded"
        ) from exc
    touch(tenancy)
    session.add(tenancy)
    session.flush()
    log(session, context, [tenancy])
    if checkpoint.signals:
        _notify_signals(session, tenancy, checkpoint)
    return checkpoint


def _notify_signals(session: Session, tenancy: Tenancy, checkpoint: Checkpoint) -> None:
    """`aftercare.signal_raised` to the chair and the care provider with every signal, and to
    the corporation with the landlord's signals only (when there are any), unless it chairs
    the table: the chair's view shows every signal, whatever the chair's kind."""
    from app.webhooks.service import emit

    table = session.get(OutflowTable, tenancy.table_id)
    assert table is not None
    data = {
        "case_id": str(tenancy.case_id),
        "table_id": str(tenancy.table_id),
        "months": checkpoint.months,
        "recorded_on": checkpoint.recorded_on.isoformat(),
        "signals": list(checkpoint.signals),
    }
    recipients = {table.chair_organisation_id, tenancy.care_provider_id}
    views = {}
    landlord = [s for s in checkpoint.signals if s in CORPORATION_SIGNALS]
    if landlord:
        recipients.add(tenancy.corporation_id)
        if tenancy.corporation_id != table.chair_organisation_id:  # the chair reads them all
            views[tenancy.corporation_id] = {**data, "signals": landlord}
    emit(
        session,
        event_type="aftercare.signal_raised",
        organisation_ids=recipients,
        data=data,
        views=views,
    )


def _last_seen_living_there(session: Session, tenancy: Tenancy, outcome_shown: bool) -> date | None:
    """The latest day of record of a checkpoint that found the client still living there: the
    tenancy had not ended before it. (One that found the client gone allows an earlier end:
    the visit is often where the end is learnt.) To a caller not shown the outcome (the
    corporation's view), every recorded checkpoint counts: a bound that gave way only to one
    that found the client gone told the landlord the hidden `not_living_there`; the care
    provider, which learnt it, records such an earlier end."""
    query = select(func.max(Checkpoint.recorded_on)).where(Checkpoint.case_id == tenancy.case_id)
    if outcome_shown:
        query = query.where(col(Checkpoint.still_living_there).is_(True))
    return session.exec(query).one()


def next_move_ins(session: Session, tenancies: list[Tenancy]) -> dict[uuid.UUID, date]:
    """Per case id, the move-in of the next housing in its tenancy's dwelling (offered again
    and let while this tenancy was still open at the table): the latest day the tenancy can
    have ended. Tenancies whose dwelling was not let again after their move-in are left out.
    Two queries for all of them."""
    if not tenancies:
        return {}
    dwelling_of: dict[uuid.UUID, uuid.UUID] = dict(
        session.exec(
            select(Proposal.id, Proposal.vacancy_id).where(
                col(Proposal.id).in_([t.proposal_id for t in tenancies])
            )
        ).all()
    )
    moves: dict[uuid.UUID, list[date]] = {}
    for dwelling, moved_in in session.exec(
        select(col(Proposal.vacancy_id), col(Tenancy.moved_in))
        .select_from(Tenancy)
        .join(Proposal, col(Proposal.id) == Tenancy.proposal_id)
        .where(col(Proposal.vacancy_id).in_(set(dwelling_of.values())))
    ).all():
        moves.setdefault(dwelling, []).append(moved_in)
    following = {}
    for tenancy in tenancies:
        later = [d for d in moves[dwelling_of[tenancy.proposal_id]] if d > tenancy.moved_in]
        if later:
            following[tenancy.case_id] = min(later)
    return following


def returns(session: Session, tenancies: list[Tenancy]) -> dict[uuid.UUID, date]:
    """Per case id, the day (Amsterdam) its client was registered again (a case naming it as
    `previous_case_id`: a client who returned): a tenancy not ended while its tenant is back
    in care. The new case may be at another table of the care provider (a client back in
    another region, `app.cases.service._require_previous`) or move on to one: the tenancy's
    table is still asked to end the tenancy, and the entry names the housed case and the day,
    nothing of the new one. One query."""
    if not tenancies:
        return {}
    rows = session.exec(
        select(Case.previous_case_id, Case.created_at).where(
            col(Case.previous_case_id).in_([t.case_id for t in tenancies])
        )
    ).all()
    return {previous: local_date(created) for previous, created in rows if previous is not None}


def update_tenancy(
    session: Session,
    context: AccessContext,
    tenancy: Tenancy,
    patch: TenancyUpdate,
    if_match: str | None,
    *,
    if_none_match: str | None = None,
) -> Tenancy:
    """Plan or record the omklap, or end the tenancy (merge patch, `If-Match`: 412 when stale).

    The care provider and the corporation plan the omklap (day, open conditions) and end the
    tenancy (`ended_on` with `end_reason`); only the corporation records `transferred_on`, and
    not while conditions are open (409 `transfer_conditions_open`), nor after the next tenant
    of the dwelling moved in (400 `date_after_next_move_in`). A planned day is not before
    the move-in nor more than `MAX_TRANSFER_MONTHS` after it (400 `date_too_far_after_move_in`).
    Days of record are not in the future nor before the move-in (400); an end is not before the
    transfer nor before a checkpoint that found the client still living there (400
    `date_before_checkpoint`; unless the next tenant moved in before that checkpoint: that
    move-in, recorded later, wins), nor after the next tenant of the dwelling moved in (400
    `date_after_next_move_in`). 409 `not_awaiting_transfer` for an omklap of an own or
    transferred lease, `tenancy_ended` after the end (a transfer or an end sent again as recorded
    is no change: 200, same version), `case_anonymised` for open conditions on a file retention
    anonymised (it cleared them); 403 for anyone else."""
    me = context.principal.organisation_id
    if not keeps(tenancy, me):
        raise Forbidden("The care provider and the corporation keep the tenancy.")
    changes = patch.model_fields_set
    for name in changes:
        if getattr(patch, name) is None:
            raise Unprocessable(name, "cannot be null; leave it out to keep the current value")
    if ("ended_on" in changes) != ("end_reason" in changes):
        missing = "end_reason" if "ended_on" in changes else "ended_on"
        raise Unprocessable(missing, "ended_on and end_reason go together", "required")
    refuse_transfer(tenancy, me, changes)
    tenancy = _lock_checked(session, context, tenancy, if_match, if_none_match)
    # The plan sent again as stored (a retry, or the omklap sent with the conditions it
    # cleared) is no change, also once the lease is the client's or the tenancy ended.
    if patch.transfer_planned_on == tenancy.transfer_planned_on:
        changes = changes - {"transfer_planned_on"}
    conditions = patch.transfer_open_conditions
    if conditions is not None and {c.value for c in conditions} == set(
        tenancy.transfer_open_conditions
    ):
        changes = changes - {"transfer_open_conditions"}
    if {"transfer_planned_on", "transfer_open_conditions"} & changes:
        lifecycle.check(tenancy, TenancyEvent.plan_transfer)
        if "transfer_planned_on" in changes and patch.transfer_planned_on is not None:
            if patch.transfer_planned_on < tenancy.moved_in:
                raise Unprocessable(
                    "transfer_planned_on",
                    f"before the move-in on {tenancy.moved_in}",
                    "date_before_move_in",
                )
            latest = add_months(tenancy.moved_in, MAX_TRANSFER_MONTHS)
            # Only a new day: one stored before the bound, sent back as read, is no change.
            planned = patch.transfer_planned_on
            if planned > latest and planned != tenancy.transfer_planned_on:
                raise Unprocessable(
                    "transfer_planned_on",
                    f"more than {MAX_TRANSFER_MONTHS} months after the move-in (after {latest})",
                    "date_too_far_after_move_in",
                )
            tenancy.transfer_planned_on = patch.transfer_planned_on
        if "transfer_open_conditions" in changes and conditions is not None:
            if conditions:
                _require_not_anonymised(session, tenancy, "open conditions of the omklap")
            tenancy.transfer_open_conditions = [c.value for c in conditions]
    # A transfer or an end sent again as recorded (a retry whose answer was lost) is no change.
    reason = patch.end_reason.value if patch.end_reason is not None else None
    if (patch.ended_on, reason) == (tenancy.ended_on, tenancy.end_reason):
        patch = patch.model_copy(update={"ended_on": None, "end_reason": None})
    if patch.transferred_on is not None and patch.transferred_on == tenancy.transferred_on:
        patch = patch.model_copy(update={"transferred_on": None})
    # The state first: a day fixed after a 400 would only meet the 409 next.
    if patch.transferred_on is not None:
        lifecycle.check(tenancy, TenancyEvent.transfer)
        day = _day_of_record("transferred_on", patch.transferred_on, tenancy)
        # Else the end could neither come before the transfer nor after the next move-in.
        following = next_move_ins(session, [tenancy]).get(tenancy.case_id)
        if following is not None and day > following:
            after = f"after the next tenant moved into the dwelling on {following}"
            raise Unprocessable("transferred_on", after, "date_after_next_move_in")
        if tenancy.transfer_open_conditions:
            raise Conflict(
                "Conditions are still open: "
                f"{', '.join(tenancy.transfer_open_conditions)}; clear them first.",
                code="transfer_conditions_open",
            )
        lifecycle.fire(tenancy, TenancyEvent.transfer, on=day)
    if patch.ended_on is not None and patch.end_reason is not None:
        lifecycle.check(tenancy, TenancyEvent.end)
        day = _day_of_record("ended_on", patch.ended_on, tenancy)
        following = next_move_ins(session, [tenancy]).get(tenancy.case_id)
        transferred = tenancy.transferred_on
        if following is not None and transferred is not None and transferred > following:
            transferred = None  # the dwelling let from an earlier day later: as for `seen`
        if transferred is not None and day < transferred:
            raise Unprocessable(
                "ended_on", f"before the transfer on {transferred}", "date_before_transfer"
            )
        outcome_shown = viewer_of(session, context.principal, tenancy) != Viewer.corporation
        seen = _last_seen_living_there(session, tenancy, outcome_shown)
        if following is not None and seen is not None and seen > following:
            # The checkpoint came first and the dwelling was let from an earlier day later: the
            # next tenant's move-in is the later record, and with both bounds no end was left.
            seen = None
        if seen is not None and day < seen:
            found = ", which found the client living there" if outcome_shown else ""
            raise Unprocessable(
                "ended_on", f"before the checkpoint of {seen}{found}", "date_before_checkpoint"
            )
        if following is not None and day > following:
            after = f"after the next tenant moved into the dwelling on {following}"
            raise Unprocessable("ended_on", after, "date_after_next_move_in")
        lifecycle.fire(tenancy, TenancyEvent.end, on=day, reason=patch.end_reason.value)
    # No touch: a patch that repeats the current values keeps the version (app.versioning).
    session.add(tenancy)
    flush(session, if_match, "tenancy")
    log(session, context, [tenancy])
    return tenancy
