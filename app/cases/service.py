# Size: one service per case file (create one or many, read, list, update, status): shared checks.
"""Case files: created and kept current by the care provider, read by the table's chair and
municipalities; every access is written to the access log."""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any, NoReturn

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Executable,
    Insert,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    or_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.agenda.engine_inputs import case_profile
from app.cases import anonymised_references, dates, lifecycle
from app.cases.anonymised_references import AnonymisedReferenceTaken
from app.cases.lifecycle import CaseEvent
from app.cases.models import (
    HOLD_REASONS,
    WITHDRAWAL_REASONS,
    Case,
    CaseCreate,
    CaseFields,
    CaseInput,
    CasePublic,
    CaseRow,
    CaseStatus,
    CaseTransition,
    CaseTransitionPublic,
    SettableStatus,
    case_public,
)
from app.database import LostRace
from app.flat import flatten, nest
from app.ids import uuid7
from app.organisations.models import Organisation, OrganisationKind
from app.principal import CASE_FILES_FOR_ORGANISATIONS, Principal
from app.problems import Conflict, Forbidden, NotFound, Unprocessable
from app.schemas import validate_merged
from app.sqltypes import holds, table_of, utcnow
from app.tables.models import TableMember
from app.tables.service import locked_membership, reader_table_ids, sits_at
from app.timeutil import today
from app.versioning import document_etag, lock_checked_as_read


def _require_membership(session: Session, organisation_id: uuid.UUID, table_id: uuid.UUID) -> None:
    """422 `unknown_table` unless the organisation sits at the table (its membership row locked
    until the commit: `tables.service.sits_at`)."""
    if not sits_at(session, table_id, organisation_id):
        raise Unprocessable(
            "table_id",
            "no such table, or your organisation is not a member of it",
            "unknown_table",
        )


def _require_corporations(session: Session, ids: list[uuid.UUID], table_id: uuid.UUID) -> None:
    """Every id names a housing corporation at the case's table (as the spreadsheet import
    requires): any other id, a corporation elsewhere included, gets the same answer as an
    unknown one, so the answer does not tell a care provider which organisations exist."""
    if not ids:
        return
    found = set(
        session.exec(
            select(Organisation.id)
            .join(TableMember, col(TableMember.organisation_id) == col(Organisation.id))
            .where(
                col(Organisation.id).in_(ids),
                Organisation.kind == OrganisationKind.housing_corporation.value,
                TableMember.table_id == table_id,
            )
        )
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise Unprocessable(
            "debts.rent_arrears_corporation_ids",
            f"not a housing corporation at the case's table: {', '.join(missing)}",
            "unknown_corporation",
        )


def _columns(fields: CaseFields) -> dict[str, Any]:
    data = fields.model_dump(
        mode="python", exclude={"external_ref", "previous_case_id", "returning_after_retention"}
    )
    data["debts"]["rent_arrears_corporation_ids"] = [
        str(i) for i in data["debts"]["rent_arrears_corporation_ids"]
    ]
    return {
        k: (v.value if hasattr(v, "value") else v) for k, v in flatten(data, CaseFields).items()
    }


class DuplicateCase(Conflict):
    """409 `duplicate_external_ref`: the organisation registered the reference already; the
    answer names that case (`existing_id`, `Location`): the open one, else the newest closed
    one, whose `previous_case_id` registers a returning client."""

    def __init__(self, case_id: uuid.UUID, external_ref: str, closed: bool = False) -> None:
        detail = f"Your organisation registered external_ref {external_ref!r} already."
        if closed:
            detail = (
                f"Your organisation registered external_ref {external_ref!r} already, in a "
                "case that is closed; to register the client again, send that case's id as "
                "previous_case_id."
            )
        super().__init__(
            detail,
            code="duplicate_external_ref",
            headers={"Location": f"/v1/cases/{case_id}"},
            existing_id=str(case_id),
        )
        self.case_id, self.closed = case_id, closed


def _duplicate(existing: Case) -> DuplicateCase:
    return DuplicateCase(existing.id, existing.external_ref, existing.closed_at is not None)


class PreviousCaseFollowed(DuplicateCase):
    """409 `previous_case_followed`: a case follows the named closed case already (the client
    was registered again); the answer names it (`existing_id`, `Location`), a read of the
    organisation's own case as a `DuplicateCase` is."""

    def __init__(self, case_id: uuid.UUID) -> None:
        Conflict.__init__(
            self,
            "The client was registered again from that case already; name the newer case as "
            "previous_case_id.",
            code="previous_case_followed",
            headers={"Location": f"/v1/cases/{case_id}"},
            existing_id=str(case_id),
        )
        self.case_id, self.closed = case_id, False


def record_duplicate_read(
    session: Session, context: AccessContext, duplicate: DuplicateCase
) -> None:
    """Log the read a `DuplicateCase` answer is: it names the caller's own case file. The
    request's work so far (its `Idempotency-Key` claim included) is rolled back first, as for
    any refused request, and the entry is committed on its own."""
    session.rollback()
    table_id = session.exec(select(Case.table_id).where(Case.id == duplicate.case_id)).one()
    access_log.record(session, context, AccessAction.read, [(duplicate.case_id, table_id)])
    session.commit()


CASES = table_of(Case)
_ORGANISATIONS = table_of(Organisation)
_MEMBERS = table_of(TableMember)


def _corporation_ids(corporations: int) -> list[BindParameter[uuid.UUID]]:
    """One parameter per id (`:corporation_0` ...) rather than an expanding one: SQLAlchemy
    renders an expanding IN anew on every execution, with a regular expression compiled each
    time, a tenth of the statement's cost."""
    return [
        bindparam(f"corporation_{n}", type_=_ORGANISATIONS.c.id.type) for n in range(corporations)
    ]


def _corporations_found(table: BindParameter[uuid.UUID], corporations: int) -> Any:
    """How many of the ids `:corporation_0` ... are housing corporations at the table."""
    ids = _corporation_ids(corporations)
    at_table = select(_MEMBERS.c.organisation_id).where(_MEMBERS.c.table_id == table)
    return (
        select(func.count())
        .select_from(_ORGANISATIONS)
        .where(
            _ORGANISATIONS.c.id.in_(ids) if ids else false(),
            _ORGANISATIONS.c.kind == OrganisationKind.housing_corporation.value,
            _ORGANISATIONS.c.id.in_(at_table),
        )
        .scalar_subquery()
    )


@cache
def _creation_checks(corporations: int) -> Executable:
    """`create_case`'s three checks in one statement (one round trip, built once per number of
    corporation ids): the case the organisation registered under the reference (`:org`,
    `:ref`; the open one, else the newest closed one), whether it sits at the table
    (`:table`), and how many of the ids (`:corporation_0` ...) are housing corporations at
    that table."""
    org: BindParameter[uuid.UUID] = bindparam("org")
    existing = (
        select(CASES.c.id)
        .where(CASES.c.care_provider_id == org, CASES.c.external_ref == bindparam("ref"))
        .order_by(CASES.c.closed_at.is_not(None), CASES.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    member = exists().where(
        _MEMBERS.c.table_id == bindparam("table"), _MEMBERS.c.organisation_id == org
    )
    return select(existing, member, _corporations_found(bindparam("table"), corporations))


def _reference_free(provider: BindParameter[uuid.UUID]) -> ColumnElement[bool]:
    """The reference (`:external_ref`) is the organisation's to register: no case of it has the
    reference, or (a returning client) `:previous_case_id` names its closed case with that
    reference (at any table: an open case may move between the organisation's tables too). An
    open case with it, or a second case following the same one, is left to the unique indexes
    (`Case.__table_args__`), which hold against concurrent requests too."""
    previous = bindparam("previous_case_id", type_=CASES.c.previous_case_id.type)
    reference = bindparam("external_ref", type_=CASES.c.external_ref.type)
    followed = exists().where(
        CASES.c.id == previous,
        CASES.c.care_provider_id == provider,
        CASES.c.external_ref == reference,
        CASES.c.closed_at.is_not(None),
    )
    unused = ~exists().where(
        CASES.c.care_provider_id == provider, CASES.c.external_ref == reference
    )
    # Nor did retention take it from a case file (`:reference_digest`), unless the client is
    # registered again on purpose (`:returning_after_retention`).
    returning = bindparam("returning_after_retention", type_=Boolean)
    digest = bindparam("reference_digest", type_=String)
    new = or_(returning.is_(True), anonymised_references.not_taken(provider, digest))
    return or_(and_(previous.is_(None), unused, new), and_(previous.is_not(None), followed))


@cache
def _insert_case(dialect: str, corporations: int) -> Insert:
    """The case's INSERT (its row's columns as parameters), with `_creation_checks`' checks in
    it: it inserts only when the organisation (`:care_provider_id`) sits at the table
    (`:table_id`) and every id (`:corporation_0` ...) is a housing corporation there, and does
    nothing when the organisation's reference is taken (a request that registered it meanwhile
    included). It returns the new id; when it inserted nothing, `_creation_checks` says why. On
    the usual path the checks cost no statement of their own (a round trip fewer)."""
    insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
    names = [column.name for column in CASES.c]
    table: BindParameter[uuid.UUID] = bindparam("table_id", type_=CASES.c.table_id.type)
    # The membership row locked as the INSERT reads it (`tables.service.locked_membership`);
    # removed first, the provider leaves the INSERT nothing to insert.
    provider = bindparam("care_provider_id", type_=CASES.c.care_provider_id.type)
    member = exists(locked_membership(table, provider))
    checked = select(*(bindparam(name, type_=CASES.c[name].type) for name in names)).where(
        member,
        _corporations_found(table, corporations) == corporations,
        _reference_free(provider),
    )
    # RETURNING says whether it inserted: psycopg's rowcount here is -1 either way, so a case
    # whose reference another request had just registered went on to its transition and failed
    # on the foreign key (500) instead of answering 409 (two server processes, six at once).
    return (
        insert_into(CASES)
        .from_select(names, checked)
        # Either unique index: an open case's reference, a closed case followed once.
        .on_conflict_do_nothing()
        .returning(CASES.c.id, CASES.c.table_id)
    )


@cache
def _insert_case_logged(corporations: int) -> Select[tuple[uuid.UUID]]:
    """PostgreSQL: `_insert_case` with the case's first transition
    (`lifecycle.creation_insert`) and its access-log row (`access_log.insert_from`) as
    data-modifying CTEs of one statement: a creation's three INSERTs in one round trip. The two
    insert from the new case's row, so they insert nothing when the case's checks refuse it;
    their foreign keys are checked at the end of the statement, when the case's row is there."""
    new_case = _insert_case("postgresql", corporations).cte("new_case")
    return select(new_case.c.id).add_cte(
        lifecycle.creation_insert(new_case).cte("first_transition"),
        access_log.insert_from(new_case).cte("creation_logged"),
    )


def _refuse_creation(
    session: Session,
    org_id: uuid.UUID,
    data: CaseCreate,
    corporations: set[uuid.UUID],
    ids: dict[str, uuid.UUID],
) -> NoReturn:
    """Raise why `_insert_case` inserted nothing, in `create_case`'s order of checks."""
    existing, member, found = (
        session.connection()
        .execute(
            _creation_checks(len(corporations)),
            {"org": org_id, "ref": data.external_ref, "table": data.table_id, **ids},
        )
        .one()
    )
    if existing is not None:
        closed = session.exec(select(Case.closed_at).where(Case.id == existing)).one() is not None
        if not closed or data.previous_case_id is None:
            raise DuplicateCase(existing, data.external_ref, closed)
    elif (
        data.previous_case_id is None
        and not data.returning_after_retention
        and anonymised_references.taken(session, org_id, [data.external_ref])
    ):
        raise AnonymisedReferenceTaken(data.external_ref)
    if not member:
        _require_membership(session, org_id, data.table_id)  # raises, with its message
    if found != len(corporations):
        # raises, naming the missing ids
        _require_corporations(session, list(corporations), data.table_id)
    if data.previous_case_id is not None:
        _require_previous(session, org_id, data)  # raises, unless a case was inserted meanwhile
    # The checks pass now, so a case with the reference was inserted and is gone again (it
    # cannot be: only that constraint is let through, and cases are not deleted so).
    raise LostRace("a case reference was inserted concurrently")


def follower_of(session: Session, case_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the case that follows `case_id` (its client registered again), if any."""
    return session.exec(select(Case.id).where(Case.previous_case_id == case_id)).first()


def log_earlier_cases_shown(
    session: Session, context: AccessContext, cases: Iterable[Case | CaseRow]
) -> None:
    """Log a read of every earlier case the shown cases name (`previous_case_id`, shown to the
    case's care provider only): showing a case's id is a read of it, as a 409 naming one is
    (`record_duplicate_read`)."""
    reader = context.principal.organisation_id
    log_cases_named(
        session,
        context,
        {
            c.previous_case_id
            for c in cases
            if c.previous_case_id is not None and c.care_provider_id == reader
        },
    )


def log_cases_named(session: Session, context: AccessContext, ids: Collection[uuid.UUID]) -> None:
    """Log a read of each case in `ids`, which an answer or a page names by id: one query for
    their tables, none for no ids."""
    if ids:
        rows = session.exec(select(Case.id, Case.table_id).where(col(Case.id).in_(ids)))
        access_log.record(session, context, AccessAction.read, rows.all())


def _require_previous(session: Session, org_id: uuid.UUID, data: CaseCreate) -> None:
    """400 `unknown_case` unless `previous_case_id` names a closed case of the organisation
    with the same reference (another organisation's case gets the answer of an unknown one),
    at any of its tables: registering there and moving the case (`PATCH` of `table_id`) gets
    the same, and the link is shown to the care provider alone; 409 `previous_case_followed`
    when a case follows it already."""
    previous = session.exec(
        select(Case).where(Case.id == data.previous_case_id, Case.care_provider_id == org_id)
    ).first()
    reason = None
    if previous is None:
        reason = "no case of your organisation has this id"
    elif previous.closed_at is None:
        reason = "the case is still open; a client returns from a housed or withdrawn case"
    elif previous.external_ref != data.external_ref:
        reason = "the case has another external_ref (an anonymised case's reference is free)"
    if reason is not None:
        raise Unprocessable("previous_case_id", reason, "unknown_case")
    if previous is not None and (follower := follower_of(session, previous.id)) is not None:
        raise PreviousCaseFollowed(follower)


def _parking_followed(
    session: Session, org_id: uuid.UUID, previous_case_id: uuid.UUID | None
) -> date | None:
    """The parking after a decline (`parked_until`) of the closed case a returning client's
    case follows, while it lasts: withdrawing a parked case (which cannot be resumed early) and
    registering the client again lifted it at once. None without such a case (the INSERT then
    refuses an unknown one)."""
    if previous_case_id is None:
        return None
    parked: date | None = session.exec(
        select(col(Case.parked_until)).where(
            Case.id == previous_case_id, Case.care_provider_id == org_id
        )
    ).first()
    return parked if parked is not None and parked > today() else None


def create_case(session: Session, context: AccessContext, data: CaseCreate) -> CaseRow:
    """Register a case file: 409 `duplicate_external_ref` for a reference the organisation uses
    already (a closed case's reference too, unless `previous_case_id` names that case: a
    returning client), 409 `external_ref_anonymised` for one retention took from a case file
    (unless `returning_after_retention`), 400 for a table it does not sit at, an id that is no
    housing corporation or a `previous_case_id` that names no closed case of the organisation
    with the reference, 409 `previous_case_followed` when a case follows it already (in
    that order); the case (its checks in its INSERT: `_insert_case`), its first transition and the
    access log in three INSERTs (on PostgreSQL in one statement: `_insert_case_logged`),
    through Core (the ORM's unit of work and a SQLModel row took a third of a creation's CPU
    time)."""
    org_id = context.principal.require_kind(OrganisationKind.care_provider)
    corporations = set(data.debts.rent_arrears_corporation_ids)
    ids = {f"corporation_{n}": id_ for n, id_ in enumerate(corporations)}
    now = utcnow()
    row = {
        "id": uuid7(),
        "care_provider_id": org_id,
        "external_ref": data.external_ref,
        "previous_case_id": data.previous_case_id,
        **_columns(data),
        "status": CaseStatus.registered.value,
        "status_reason": None,
        "parked_until": _parking_followed(session, org_id, data.previous_case_id),
        "exit_date": None,
        "closed_at": None,
        "anonymised_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    connection = session.connection()
    actor, api_key = context.principal.require_organisation(), context.principal.api_key_id
    reference = {
        "reference_digest": anonymised_references.reference_digest(org_id, data.external_ref),
        "returning_after_retention": data.returning_after_retention,
    }
    if connection.dialect.name == "postgresql":
        logged = {
            **lifecycle.creation_values(row["ready_since"], actor, api_key, row["parked_until"]),
            **access_log.values_of(context, AccessAction.create),
        }
        statement = _insert_case_logged(len(corporations))
        if connection.execute(statement, {**row, **ids, **reference, **logged}).first() is None:
            _refuse_creation(session, org_id, data, corporations, ids)
        return CaseRow(**row)
    inserted = connection.execute(
        _insert_case(connection.dialect.name, len(corporations)), {**row, **ids, **reference}
    ).first()
    if inserted is None:
        _refuse_creation(session, org_id, data, corporations, ids)
    case = CaseRow(**row)
    lifecycle.record_creations(
        session, [(case.id, case.ready_since)], actor, api_key, case.parked_until
    )
    access_log.record(session, context, AccessAction.create, [(case.id, case.table_id)])
    return case


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case file `create_cases` inserted: what its caller reports and logs."""

    id: uuid.UUID
    external_ref: str
    table_id: uuid.UUID


def create_cases(
    session: Session, context: AccessContext, items: list[CaseCreate]
) -> list[NewCase]:
    """Create many case files at once (a spreadsheet import), with the rules of `create_case`:
    409 `duplicate_external_ref` for a reference the organisation uses already,
    `external_ref_anonymised` for one retention took, 400 for a table it does not sit at or an
    id that is no housing corporation; all or nothing. Returns the new
    cases in the order of `items`.

    One query per check and one multi-row INSERT each for the cases, their first transitions
    and the access log, without ORM objects: building a SQLModel row costs about a millisecond
    (it inspects every default factory's signature per instance), more than its INSERT. A
    reference inserted concurrently raises `LostRace` (the request runs again and finds it)."""
    org_id = context.principal.require_kind(OrganisationKind.care_provider)
    refs = [item.external_ref for item in items]
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        existing = session.exec(
            select(Case)
            .where(Case.care_provider_id == org_id, col(Case.external_ref).in_(chunk))
            .order_by(col(Case.closed_at).is_not(None))
        ).first()
        if existing is not None:
            raise _duplicate(existing)
    fresh = [item.external_ref for item in items if not item.returning_after_retention]
    if anonymised := anonymised_references.taken(session, org_id, fresh):
        raise AnonymisedReferenceTaken(min(anonymised))
    for table_id in {item.table_id for item in items}:
        _require_membership(session, org_id, table_id)
        _require_corporations(
            session,
            list(
                {
                    i
                    for item in items
                    if item.table_id == table_id
                    for i in item.debts.rent_arrears_corporation_ids
                }
            ),
            table_id,
        )
    now = utcnow()
    rows = [
        {
            "id": uuid7(),
            "care_provider_id": org_id,
            "external_ref": item.external_ref,
            **_columns(item),
            "status": CaseStatus.registered.value,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]
    if not rows:
        return []
    # Inserted in reference order, one order for every file (as a push inserts its new
    # dwellings): in the file's order, two imports naming new references in other orders each
    # inserted one the other then inserted, and waited for the other's uncommitted row in
    # `uq_cases_open_external_ref`, a deadlock PostgreSQL ended by aborting one (run again a
    # second later). Now the second to reach a shared reference waits holding none after it.
    in_key_order = sorted(rows, key=lambda row: str(row["external_ref"]))
    try:
        with session.begin_nested():
            session.execute(insert(table_of(Case)), in_key_order)
    except IntegrityError as exc:  # a reference of the file inserted concurrently
        raise LostRace("a case reference was inserted concurrently") from exc
    lifecycle.record_creations(
        session,
        [(row["id"], row["ready_since"]) for row in rows],
        context.principal.require_organisation(),
        context.principal.api_key_id,
    )
    created = [NewCase(row["id"], row["external_ref"], row["table_id"]) for row in rows]
    access_log.record(session, context, AccessAction.create, [(c.id, c.table_id) for c in created])
    return created


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    """Own cases, plus every case of tables the caller reads as chair or municipality."""
    if principal.is_operator:
        raise Forbidden(CASE_FILES_FOR_ORGANISATIONS)
    org_id = principal.require_organisation()
    return or_(
        col(Case.care_provider_id) == org_id, col(Case.table_id).in_(reader_table_ids(principal))
    )


def get_case(
    session: Session, context: AccessContext, case_id: uuid.UUID, action: AccessAction | None
) -> Case:
    """The case if the caller may see it (else 404), logging the access as `action`.

    `action=None` leaves the logging to the caller, which logs what it then does with the case.
    """
    case = session.exec(
        select(Case).where(Case.id == case_id, visible_clause(context.principal))
    ).first()
    if case is None:
        raise NotFound("No such case.")
    if action is not None:
        access_log.record(session, context, action, [(case.id, case.table_id)])
    return case


def _status_clause(status: CaseStatus, on: date) -> ColumnElement[bool]:
    """The cases whose status on `on` is `status`, as `effective_status` tells it: a registered
    case parked after a decline is `on_hold` until its date, whatever its ready date."""
    registered = col(Case.status) == CaseStatus.registered
    parked = and_(registered, col(Case.parked_until) > on)
    if status == CaseStatus.on_hold:
        return or_(col(Case.status) == status, parked)
    free = and_(registered, or_(col(Case.parked_until).is_(None), col(Case.parked_until) <= on))
    if status == CaseStatus.ready:
        return and_(free, col(Case.ready_since) <= on)
    if status == CaseStatus.registered:
        return and_(free, col(Case.ready_since) > on)
    return col(Case.status) == status


class CaseSort(StrEnum):
    """List orders. Waiting time counts from `ready_since`: `-waitingTime` is the longest
    waiting first, `waitingTime` the shortest; without a sort, the order of registration."""

    waiting_time = "waitingTime"
    longest_waiting_first = "-waitingTime"


def sort_date(case: Case) -> date:
    """A case's place in a sorted list, which a sorted page's cursor carries."""
    return case.ready_since


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """What a case list is narrowed to; None (or empty) means no narrowing.

    `reference`: part of the care provider's own reference, case-sensitive as the reference is
    a key (`ABC-1` and `abc-1` are two cases). `case_ids`: only these (a blocking-reason
    filter computes them, `app.registry.service`).
    """

    table_id: uuid.UUID | None = None
    status: CaseStatus | None = None
    external_ref: str | None = None
    care_provider_id: uuid.UUID | None = None
    facility: str | None = None
    household_size: int | None = None
    reference: str | None = None
    case_ids: frozenset[uuid.UUID] | None = None
    sort: CaseSort | None = None


def list_cases(
    session: Session,
    context: AccessContext,
    filters: CaseFilters,
    *,
    after: uuid.UUID | None,
    limit: int,
    after_key: date | None = None,
) -> list[Case]:
    """Up to `limit` + 1 visible cases (the extra one tells whether a next page exists), the
    first `limit` written to the access log. `after` is the last case of the previous page
    (the cursor): with a sort, the page continues after that case's place in the order, at
    `after_key` (its ready date when the page was cut, which the cursor carries: read now, a
    date changed since moved the next page with it) or, for a cursor without one, its date now."""
    query = select(Case).where(visible_clause(context.principal))
    if filters.table_id is not None:
        query = query.where(Case.table_id == filters.table_id)
    if filters.status is not None:
        query = query.where(_status_clause(filters.status, today()))
    if filters.external_ref is not None:
        query = query.where(Case.external_ref == filters.external_ref)
    if filters.care_provider_id is not None:
        query = query.where(Case.care_provider_id == filters.care_provider_id)
    if filters.facility is not None:
        query = query.where(Case.facility == filters.facility)
    if filters.household_size is not None:
        size = col(Case.household_adults) + col(Case.household_children)
        query = query.where(size == filters.household_size)
    if filters.reference:
        query = query.where(holds(session, col(Case.external_ref), filters.reference))
    if filters.case_ids is not None:
        query = query.where(col(Case.id).in_(sorted(filters.case_ids)))
    if filters.sort is None:
        if after is not None:
            query = query.where(Case.id > after)
        query = query.order_by(col(Case.id))
    else:
        # Longest waiting = earliest ready date; the id breaks ties, so the order is total and
        # a cursor (the last case shown) says exactly where the next page starts.
        ascending = filters.sort == CaseSort.longest_waiting_first
        if after is not None:
            # Only a case the caller sees places the page: another's would give its date away.
            visible = visible_clause(context.principal)
            last: ColumnElement[date] = (
                select(col(Case.ready_since)).where(Case.id == after, visible).scalar_subquery()
                if after_key is None
                else bindparam("after_key", after_key)
            )
            if ascending:
                query = query.where(
                    or_(
                        col(Case.ready_since) > last,
                        and_(col(Case.ready_since) == last, col(Case.id) > after),
                    )
                )
            else:
                query = query.where(
                    or_(
                        col(Case.ready_since) < last,
                        and_(col(Case.ready_since) == last, col(Case.id) < after),
                    )
                )
        if ascending:
            query = query.order_by(col(Case.ready_since), col(Case.id))
        else:
            query = query.order_by(col(Case.ready_since).desc(), col(Case.id).desc())
    # One row more than the page, to know whether there is a next page; only the page is logged.
    cases = list(session.exec(query.limit(limit + 1)))
    access_log.record(
        session, context, AccessAction.list, [(c.id, c.table_id) for c in cases[:limit]]
    )
    return cases


def _deep_merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


STATUS_EVENTS = {
    SettableStatus.ready: CaseEvent.resume,
    SettableStatus.on_hold: CaseEvent.hold,
    SettableStatus.withdrawn: CaseEvent.withdraw,
}
REASONS_FOR = {CaseEvent.hold: HOLD_REASONS, CaseEvent.withdraw: WITHDRAWAL_REASONS}


def update_case(
    session: Session,
    context: AccessContext,
    case: Case,
    patch: Any,
    if_match: str | None,
    *,
    if_none_match: str | None = None,
) -> Case:
    """Apply a merge patch (fields and/or a status change) by the owning care provider.

    The case is locked and read as committed first, so the patch merges into the latest file
    and `If-Match` is compared with the latest version (412 when stale): two patches with the
    same ETag give one 200 and one 412, and without If-Match neither loses the other's fields.
    `If-Match` may name the version's ETag or the one the case's read answered (`case_etag`),
    compared with the case as it reads now: a copy that no longer reads so is stale.
    """
    if case.care_provider_id != context.principal.organisation_id:
        raise Forbidden("Only the care provider that registered the case may change it.")
    reader = case.care_provider_id
    case = lock_checked_as_read(
        session,
        case,
        "case",
        if_match,
        if_none_match,
        lambda locked: case_etag(locked, case_public(locked, reader)),
    )
    lifecycle.check(case, CaseEvent.edit)
    before = case_profile(case)  # the pair's rules the edit breaks withdraw its proposal
    changes = patch.model_dump(exclude_unset=True)
    target = changes.pop("status", None)
    reason = changes.pop("status_reason", None)
    exit_date = changes.pop("exit_date", None)
    if reason is not None and target is None:
        raise Unprocessable(
            "status_reason", "only allowed together with status", "reason_without_status"
        )
    if exit_date is not None and target != SettableStatus.withdrawn:
        raise Unprocessable(
            "exit_date", "only allowed with status withdrawn", "exit_date_misplaced"
        )
    if exit_date is not None and exit_date > today():
        raise Unprocessable("exit_date", "lies in the future", "date_in_future")
    # One UPDATE of the case (one version step) however many parts of it change: nothing is
    # flushed before the end.
    with session.no_autoflush:
        if changes:
            current = nest(case, CaseFields)
            current["debts"]["rent_arrears_corporation_ids"] = list(
                case.debts_rent_arrears_corporation_ids
            )
            fields = validate_merged(CaseInput, _deep_merge(current, changes))
            dates.check_ready_since(session, case, fields.ready_since)
            if fields.table_id != case.table_id:
                lifecycle.check(case, CaseEvent.move)
                _require_membership(session, case.care_provider_id, fields.table_id)
            if "debts" in changes:
                # Only the ids this change adds: one stored before stays though its
                # corporation has left the table since (a move keeps them all, too).
                stored = set(case.debts_rent_arrears_corporation_ids)
                added = [
                    i for i in fields.debts.rent_arrears_corporation_ids if str(i) not in stored
                ]
                _require_corporations(session, added, fields.table_id)
            moved = fields.table_id != case.table_id
            for column, value in _columns(fields).items():
                setattr(case, column, value)
            if moved:
                from app.actions.service import cancel_left_behind

                cancel_left_behind(session, context, case)
        if target == SettableStatus.withdrawn.value:
            dates.check_exit_date(exit_date or today(), case.ready_since)
        if target is not None:
            event = STATUS_EVENTS[SettableStatus(target)]
            allowed = REASONS_FOR.get(event)
            if allowed is None and reason is not None:
                raise Unprocessable(
                    "status_reason",
                    f"only with on_hold or withdrawn, not with {target}",
                    "reason_misplaced",
                )
            if allowed is not None and reason not in allowed:
                raise Unprocessable(
                    "status_reason",
                    f"required for {target}, one of: {', '.join(sorted(allowed))}",
                )
            lifecycle.fire(
                session,
                case,
                event,
                actor=context.principal.require_organisation(),
                api_key=context.principal.api_key_id,
                reason=reason if allowed is not None else None,
                exit_date=exit_date,
            )
            if case.status in (CaseStatus.on_hold, CaseStatus.withdrawn):
                from app.proposals.service import close_for_case

                close_for_case(session, case, context)
    dates.flush_dates(session, if_match)  # a racing move-in surfaces here as a 409
    if changes:
        # An edit of a proposed or nominated case may break a rule of its pair: withdrawn.
        from app.proposals.broken_matches import withdraw_for_case

        withdraw_for_case(session, context, case, before)
    action = (
        AccessAction.status_change if target is not None and not changes else AccessAction.update
    )
    access_log.record(session, context, action, [(case.id, case.table_id)])
    return case


def case_etag(case: Case | CaseRow, shown: CasePublic) -> str:
    """The ETag of a read of the case that showed `shown` (`case_public` as the reader sees
    it): its version and a digest of what it shows, as `status` counts from today (`ready`
    once `ready_since` is reached, `on_hold` while parked): the version alone let
    `If-None-Match` answer 304 to a copy that still said `registered` once the ready date had
    passed. A write takes it in `If-Match` as well as the version's; each organisation's view
    (`previous_case_id`) has its own."""
    return document_etag(case, shown.model_dump(mode="json"))


def list_transitions(
    session: Session, case: Case, *, after: uuid.UUID | None, limit: int
) -> list[CaseTransition]:
    query = select(CaseTransition).where(CaseTransition.case_id == case.id)
    if after is not None:
        query = query.where(CaseTransition.id > after)
    return list(session.exec(query.order_by(col(CaseTransition.id)).limit(limit)))


def transition_public(row: CaseTransition, viewer: uuid.UUID | None) -> CaseTransitionPublic:
    """A status change as the organisation `viewer` reads it: the API key only to the
    organisation that made the change, as an action's history does. The care provider read
    the chair's key there, and a municipality the care provider's."""
    item = CaseTransitionPublic.model_validate(row, from_attributes=True)
    if row.actor_organisation_id != viewer:
        item.actor_api_key_id = None
    return item
