"""Meetings: a table's weekly session on a date. Publishing freezes the agenda (inputs' versions,
policy, limits and result) and turns its proposals into the meeting's proposals."""

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.aftercare import agenda as aftercare_agenda
from app.agenda import document as agenda_document
from app.agenda import inputs as agenda_inputs
from app.agenda import open_proposals, paging
from app.agenda import service as agenda
from app.agenda import views as agenda_views
from app.agenda.models import AgendaView
from app.agenda.paging import AgendaPage
from app.cases.models import Case
from app.database import outside_transaction
from app.limits.service import limits_for
from app.meetings import changes as snapshot_changes
from app.meetings import lifecycle
from app.meetings.anonymised import without_anonymised_details
from app.meetings.lifecycle import MeetingEvent
from app.meetings.models import Meeting, MeetingCreate, MeetingPublic
from app.monitor.suppression import primary
from app.organisations.models import Organisation, OrganisationKind
from app.principal import Principal
from app.problems import BUSY_RETRY_AFTER, Conflict, Forbidden, NotFound
from app.proposals.models import Proposal
from app.proposals.service import StaleAgenda, create_from_agenda
from app.tables.models import OutflowTable, TableMember
from app.tables.service import reads_table
from app.timeutil import within_horizon
from app.vacancies.models import Vacancy
from app.versioning import check_if_match, document_etag, etag, flush, lock_one, read_condition

SNAPSHOT_CANDIDATES = 5
DISPLACED_REST = agenda_document.DISPLACED_REST
"""The snapshot's key for the tails of the `displaced` lists its document cuts."""

ALSO_HOUSED_REST = agenda_document.ALSO_HOUSED_REST
"""The snapshot's key for the tails of the `also_housed` lists its document cuts (snapshots
frozen before that list existed have neither the key nor the lists)."""
"""How far ahead a meeting may be planned: a year of weekly meetings, not a typo's 2100."""
PUBLISH_ATTEMPTS = 3
"""Computations a publish may start when its inputs keep changing while it computes."""


def create_meeting(
    session: Session, context: AccessContext, table: OutflowTable, data: MeetingCreate
) -> Meeting:
    if context.principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("The chair schedules meetings.")
    _check_plannable(session, data.date)
    if (existing := _meeting_on(session, table.id, data.date)) is not None:
        raise _duplicate(existing)
    meeting = Meeting(table_id=table.id, date=data.date)
    try:
        # A savepoint: a creation that loses the race on the unique index (another request
        # committed the date meanwhile) can still read the winner and name it.
        with session.begin_nested():
            session.add(meeting)
    except IntegrityError:
        if (existing := _meeting_on(session, table.id, data.date)) is None:
            raise
        raise _duplicate(existing) from None
    return meeting


def _meeting_on(session: Session, table_id: uuid.UUID, on: date) -> Meeting | None:
    return session.exec(
        select(Meeting).where(Meeting.table_id == table_id, Meeting.date == on)
    ).first()


def _duplicate(existing: Meeting) -> Conflict:
    """409 `duplicate_meeting` naming the meeting on that date (`existing_id`, `Location`)."""
    return Conflict(
        f"The table meets on {existing.date} already.",
        code="duplicate_meeting",
        headers={"Location": f"/v1/meetings/{existing.id}"},
        existing_id=str(existing.id),
    )


def _check_plannable(session: Session, on: date) -> None:
    """A meeting lies on a date its agenda can be computed for: within the planning horizon,
    and not before the earliest year with legal limits (400 on `date`)."""
    within_horizon("date", on)
    limits_for(session, on, location="body")


def get_meeting(
    session: Session, context: AccessContext, meeting_id: uuid.UUID
) -> tuple[Meeting, OutflowTable]:
    """The meeting and its table for a member of that table. 404 for anyone else, as if it did
    not exist, except the operator: it sees every table's meetings in their list
    (`GET /v1/tables/{id}/meetings`), so a meeting it names is 403, not unknown."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    if context.principal.organisation_id is None:
        raise Forbidden(
            "The operator manages tables and sees their meetings in the table's list; a "
            "meeting itself, its agenda, decisions and minutes are for the table's members."
        )
    if session.get(TableMember, (meeting.table_id, context.principal.organisation_id)) is None:
        raise NotFound("No such meeting.")
    table = session.get(OutflowTable, meeting.table_id)
    assert table is not None
    return meeting, table


def list_meetings(
    session: Session, table: OutflowTable, *, after: uuid.UUID | None, limit: int
) -> list[Meeting]:
    query = select(Meeting).where(Meeting.table_id == table.id)
    if after is not None:
        query = query.where(Meeting.id > after)
    return list(session.exec(query.order_by(col(Meeting.id)).limit(limit)))


def meeting_public(
    session: Session, context: AccessContext, table: OutflowTable, meeting: Meeting
) -> MeetingPublic:
    count = proposal_counts(session, table, meeting, [context.principal])[
        context.principal.organisation_id
    ]
    return MeetingPublic.model_validate({**meeting.model_dump(), "proposals": count})


def meeting_etag(meeting: Meeting, shown: MeetingPublic) -> str:
    """The ETag of a read of the meeting that showed `shown` (`meeting_public` for the caller):
    its version and a digest of what the read shows. A care provider or corporation may read
    the proposals' count as null where the chair reads it, so with the version alone two
    representations shared one strong ETag, and the chair's copy was a 304 to the other."""
    return document_etag(meeting, shown.model_dump(mode="json"))


def read_meeting_condition(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    meeting: Meeting,
    header: str | None,
) -> tuple[str | None, Callable[[], str]]:
    """`If-Match` of a write to the meeting as `check_if_match` takes it (the ETag the
    caller's read answered, `meeting_etag`, counts as the version's: `read_condition`), and
    that read's current ETag, for a 412 to name."""

    def shown() -> str:
        return meeting_etag(meeting, meeting_public(session, context, table, meeting))

    return read_condition(header, meeting, shown)[0], shown


def proposal_counts(
    session: Session, table: OutflowTable, meeting: Meeting, viewers: Sequence[Principal]
) -> dict[uuid.UUID | None, int | None]:
    """Per viewer, the number of the meeting's proposals as the agenda's `summary.people_housed`
    shows it: whole to the table view (and the operator, who manages the tables), and to a
    care provider or corporation null when the proposals that are not its own (of its cases,
    of its dwellings) number 1 to 4 (the monitor's suppression, as the agenda applies it):
    with the whole count beside its own, a provider would read how many of other providers'
    clients are proposed, which its agenda hides."""
    parties = session.exec(
        select(Proposal.care_provider_id, Proposal.corporation_id).where(
            Proposal.meeting_id == meeting.id
        )
    ).all()
    counts: dict[uuid.UUID | None, int | None] = {}
    for viewer in viewers:
        me = viewer.organisation_id
        if me is None or reads_table(viewer, table):
            counts[me] = len(parties)
            continue
        own = sum(1 for provider, corporation in parties if me in (provider, corporation))
        hidden = primary({"proposals": len(parties)}, lower={"proposals": own})
        counts[me] = None if hidden else len(parties)
    return counts


def publish(
    session: Session,
    context: AccessContext,
    meeting: Meeting,
    table: OutflowTable,
    if_match: str | None,
    time_budget: float,
    claim: Callable[[], None] = lambda: None,
) -> Meeting:
    """Freeze the agenda for the meeting's date and make its proposals (chair only, once);
    see `_compute_and_propose` for how two publishes, or a publish and edits, meet;
    `time_budget` is the solver's budget in seconds (`app.agenda.inputs.run_engine`).
    `claim` runs in the transaction that writes, once the meeting's row is locked and before
    it is checked (the route's `Idempotency-Key`, which raises to replay an earlier answer)."""
    if context.principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("The chair publishes the agenda.")
    document, rests, loaded = _compute_and_propose(
        session, context, meeting, table, if_match, time_budget, claim
    )
    # No checkpoint commits between the aftercare section's read and `published_at` (the
    # row is held since `_compute_and_propose`; taken again, it stays so).
    aftercare_agenda.freeze_lock(session, table.id)
    # Read before the meeting changes: a query then would flush it early, a version of its own.
    stamp = aftercare_agenda.published_after_signals(session, table.id)
    agenda.with_open_proposals(session, table, document, meeting.date)
    inputs = loaded.inputs
    owners = agenda_inputs.owners_of(inputs)
    proposed = {p[k] for p in document["proposals"] for k in ("case_id", "vacancy_id")}
    meeting.snapshot = {
        "document": document,
        # Per left-unhoused case whose `displaced` or `also_housed` the document cuts, the rest
        # of the list (`app.meetings.alternatives`); snapshots frozen before have no such keys.
        **rests,
        "owners": owners,
        "versions": {
            "cases": _frozen_versions(session, Case, inputs.cases, proposed),
            "vacancies": _frozen_versions(session, Vacancy, inputs.vacancies, proposed),
        },
    }
    lifecycle.publish(meeting, by=table.chair_organisation_id, at=stamp)
    session.add(meeting)
    flush(session, if_match, "meeting")
    from app.webhooks.service import emit

    members = [
        Principal(
            is_operator=False, organisation_id=member, organisation_kind=OrganisationKind(kind)
        )
        for member, kind in session.exec(
            select(TableMember.organisation_id, Organisation.kind)
            .join(Organisation, col(Organisation.id) == col(TableMember.organisation_id))
            .where(TableMember.table_id == table.id)
        ).all()
    ]
    data = {
        "meeting_id": str(meeting.id),
        "table_id": str(table.id),
        "date": meeting.date.isoformat(),
        "proposals": len(document["proposals"]),
    }
    counts = proposal_counts(session, table, meeting, members)  # as each member's GET shows it
    emit(
        session,
        event_type="agenda.published",
        organisation_ids={m.organisation_id for m in members if m.organisation_id},
        data=data,
        views={m: data | {"proposals": n} for m, n in counts.items() if m is not None},
    )
    return meeting


def _check_publishable(
    meeting: Meeting, if_match: str | None, shown: Callable[[], str] | None = None
) -> None:
    check_if_match(if_match, etag(meeting), "meeting", shown=shown)
    lifecycle.check(meeting, MeetingEvent.publish)


def _compute_and_propose(
    session: Session,
    context: AccessContext,
    meeting: Meeting,
    table: OutflowTable,
    if_match: str | None,
    time_budget: float,
    claim: Callable[[], None],
) -> tuple[dict[str, Any], dict[str, dict[str, list[dict[str, Any]]]], agenda_inputs.Loaded]:
    """Compute the agenda to freeze (solver budget `time_budget` seconds) and make its
    proposals; returns it, the rests of the `displaced` and `also_housed` lists it cuts
    (`app.agenda.document.compute_to_freeze`) and what it was computed from.

    The engine runs outside the write transaction (`outside_transaction`: a big table never
    holds the SQLite lock or a PostgreSQL transaction). Then, in the transaction that writes:
    - the meeting's row is locked, so of two publishes at once the second waits and then gets
      409 `already_published`; then the table's row (`freeze_lock`);
    - the inputs are read again, and if anything the agenda was computed from changed, it is
      computed again;
    - each proposed case and dwelling is locked and must still be at the version the agenda
      read (else it is computed again too).
    At most PUBLISH_ATTEMPTS computations, then 409 `inputs_changed`.
    """
    if_match, shown = read_meeting_condition(session, context, table, meeting, if_match)
    _check_publishable(meeting, if_match, shown)
    loaded = agenda_inputs.load(session, table, meeting.date)
    for _ in range(PUBLISH_ATTEMPTS):
        with outside_transaction(session):
            document, rests = agenda_document.compute_to_freeze(
                loaded, SNAPSHOT_CANDIDATES, time_budget
            )
        meeting = lock_one(session, meeting)
        claim()
        # The table's row before the proposals, whose foreign keys hold it FOR KEY SHARE: a
        # rename let through by that (FOR NO KEY UPDATE, `tables.service.update_table`) waited
        # for them to update the key, while `freeze_lock` below waited for it (a deadlock).
        aftercare_agenda.freeze_lock(session, table.id)
        session.refresh(table)
        _check_publishable(meeting, if_match, shown)
        again = agenda_inputs.load(session, table, meeting.date)
        if again.same_as(loaded):
            read = {str(r.id): r.version for r in (*loaded.inputs.cases, *loaded.inputs.vacancies)}
            try:
                with session.begin_nested():
                    create_from_agenda(session, meeting, table, document, read, context)
                return document, rests, loaded
            except StaleAgenda:
                again = agenda_inputs.load(session, table, meeting.date)
        loaded = again
    raise Conflict(
        "The cases or vacancies kept changing while the agenda was computed; try again.",
        code="inputs_changed",
        headers={"Retry-After": str(BUSY_RETRY_AFTER)},  # a lost race: worth repeating
    )


def _frozen_versions(
    session: Session, model: type[Case] | type[Vacancy], rows: list[Any], proposed: set[str]
) -> dict[str, int]:
    """The version of each of `rows` (cases or dwellings) the agenda was computed from: as it
    read them, not as they are now (another server's edit of a row it did not propose may have
    committed since, and would not show in `changes`); a row it proposed at the version its
    proposal gave it (locked since its version was checked)."""
    read = {str(r.id): r.version for r in rows}
    return read | _versions(session, model, [r.id for r in rows if str(r.id) in proposed])


def _versions(
    session: Session, model: type[Case] | type[Vacancy], ids: list[uuid.UUID]
) -> dict[str, int]:
    if not ids:
        return {}
    rows = session.exec(
        select(col(model.id), col(model.version)).where(col(model.id).in_(ids))
    ).all()
    return {str(row[0]): row[1] for row in rows}


def meeting_agenda(
    session: Session,
    context: AccessContext,
    meeting: Meeting,
    table: OutflowTable,
    time_budget: float,
    page: AgendaPage | None = None,
) -> dict[str, Any]:
    """The frozen snapshot as the caller may see it, plus what changed since; before
    publication, the live agenda of the meeting's date (solver budget `time_budget` seconds).
    `page`: the page of its per-case and per-dwelling sections (`app.agenda.paging`; raises
    Conflict `agenda_changed` for a cursor made when the caller's view read otherwise, and
    Unprocessable `invalid_cursor` for one of another agenda or view); None gives them whole
    (the pages, PDF and CSV)."""
    view = agenda_views.view_for(context, table)
    me = context.principal.require_organisation()
    if meeting.snapshot is None:
        document, owners, _ = agenda.compute(
            session,
            table,
            meeting.date,
            SNAPSHOT_CANDIDATES,
            time_budget,
            reuse=view == AgendaView.table,
        )
        agenda.with_open_proposals(session, table, document, meeting.date)
        changes: list[dict[str, Any]] = []
    else:
        document = without_anonymised_details(
            session, agenda_document.upgrade_frozen(meeting.snapshot["document"])
        )
        owners = meeting.snapshot["owners"]
        changes = snapshot_changes.since_publication(session, meeting, table.id, meeting.date)
        open_proposals.record_stalls(session, table)
    restricted = agenda_views.restrict(document, view, me, owners, live=meeting.snapshot is None)
    if page is not None:
        frozen = "live" if meeting.published_at is None else meeting.published_at.isoformat()
        scope = f"meeting {meeting.id} {frozen} {view.value} {me}"
        restricted = paging.cut(restricted, page, scope)
    restricted["meeting_id"] = str(meeting.id)
    restricted["frozen"] = meeting.snapshot is not None
    restricted["changes"] = snapshot_changes.visible(changes, view, context.principal, session)
    agenda_views.log_cases_shown(session, context, restricted, table.id)
    return restricted
