"""Outflow tables: creation by the operator, policy by the chair, and who may read what."""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.actions.models import Action, ActionStatus
from app.cases.models import CLOSED_STATUSES, Case
from app.mail import service as mail
from app.organisations.models import Organisation, OrganisationKind
from app.principal import Principal
from app.problems import Conflict, Forbidden, NotFound, Unprocessable
from app.tables.models import (
    OutflowTable,
    TableCreate,
    TableMember,
    TableMemberPublic,
    TableMunicipality,
    TablePublic,
    TableUpdate,
)
from app.tables.policy import TablePolicy, merge_policy
from app.vacancies.models import Vacancy, VacancyStatus
from app.versioning import flush, lock_checked, touch

OPEN_DWELLINGS = (VacancyStatus.available, VacancyStatus.proposed)


def member_table_ids(organisation_id: uuid.UUID) -> SelectOfScalar[uuid.UUID]:
    """Subquery: tables the organisation is a member of (the chair always is)."""
    return select(TableMember.table_id).where(TableMember.organisation_id == organisation_id)


def locked_membership(table_id: Any, organisation_id: Any) -> SelectOfScalar[uuid.UUID]:
    """The organisation's membership row at the table (ids, or bound parameters for a
    statement built once), locked FOR KEY SHARE until the commit: a concurrent removal of the
    organisation waits and then counts what this transaction put there
    (`_refuse_removing_open_files`). For every write that puts an organisation's file at a
    table."""
    return (
        select(TableMember.table_id)
        .where(TableMember.table_id == table_id, TableMember.organisation_id == organisation_id)
        .with_for_update(read=True, key_share=True)
    )


def sits_at(session: Session, table_id: uuid.UUID, organisation_id: uuid.UUID) -> bool:
    """Whether the organisation sits at the table, its membership row locked until the commit
    (`locked_membership`)."""
    return session.exec(locked_membership(table_id, organisation_id)).first() is not None


def reads_table(principal: Principal, table: OutflowTable) -> bool:
    """Whether a member of `table` reads it as a whole (every case and dwelling, the table
    view): its chair, or a municipality. The caller has checked the membership (the table's
    dependency); `reader_table_ids` is the same rule as a query over every table."""
    return (
        principal.organisation_id == table.chair_organisation_id
        or principal.organisation_kind == OrganisationKind.municipality
    )


def reader_table_ids(principal: Principal) -> SelectOfScalar[uuid.UUID]:
    """Subquery: tables whose cases and vacancies the caller may read as a whole.

    The chair reads its table; municipalities read the tables they are members of.
    """
    org_id = principal.require_organisation()
    chaired = select(OutflowTable.id).where(OutflowTable.chair_organisation_id == org_id)
    if principal.organisation_kind == OrganisationKind.municipality:
        return select(TableMember.table_id).where(
            or_(col(TableMember.organisation_id) == org_id, col(TableMember.table_id).in_(chaired))
        )
    return chaired


def _check_organisations(
    session: Session, chair_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    wanted = {chair_id, *member_ids}
    found = set(session.exec(select(col(Organisation.id)).where(col(Organisation.id).in_(wanted))))
    if chair_id not in found:
        raise Unprocessable("chair_organisation_id", "no such organisation", "unknown_organisation")
    missing = [str(m) for m in member_ids if m not in found]
    if missing:
        raise Unprocessable(
            "member_organisation_ids",
            f"no such organisation(s): {', '.join(missing)}",
            "unknown_organisation",
        )
    return sorted(wanted)


def _claim_municipalities(session: Session, table_id: uuid.UUID, codes: Sequence[str]) -> bool:
    """Make `codes` the table's municipalities (409 when another table has one); whether that
    changed them."""
    taken = session.exec(
        select(TableMunicipality).where(
            col(TableMunicipality.municipality_code).in_(codes),
            TableMunicipality.table_id != table_id,
        )
    ).all()
    if taken:
        listed = ", ".join(sorted(t.municipality_code for t in taken))
        raise Conflict(
            f"Municipalities already belong to another table: {listed}.",
            code="municipality_taken",
        )
    current = session.exec(
        select(TableMunicipality.municipality_code).where(TableMunicipality.table_id == table_id)
    ).all()
    if set(current) == set(codes):
        return False
    leaving = set(current) - set(codes)
    if leaving:
        session.exec(
            delete(TableMunicipality).where(
                col(TableMunicipality.table_id) == table_id,
                col(TableMunicipality.municipality_code).in_(leaving),
            )
        )
        _refuse_leaving_open_dwellings(session, table_id, leaving)
    # In code order: the unit of work inserts new rows in the order they were added, and two
    # tables claiming codes in opposite orders each held one key and waited for the other's.
    session.add_all(
        TableMunicipality(municipality_code=c, table_id=table_id)
        for c in sorted(codes)
        if c not in set(current)
    )
    return True


def _refuse_leaving_open_dwellings(
    session: Session, table_id: uuid.UUID, leaving: set[str]
) -> None:
    """409 `municipality_has_open_dwellings` when the table still has dwellings available or
    proposed in a municipality it gives up: they stayed on its agenda while the municipality
    was no longer the table's (another table could claim it), until the corporation's next
    push moved them without a word. Counted after the municipalities' rows are deleted, as
    `_refuse_removing_open_files` counts after the members' (a push holds the rows it reads)."""
    counts = session.exec(
        select(col(Vacancy.address_municipality_code), func.count())
        .where(
            col(Vacancy.table_id) == table_id,
            col(Vacancy.status).in_(OPEN_DWELLINGS),
            col(Vacancy.address_municipality_code).in_(leaving),
        )
        .group_by(col(Vacancy.address_municipality_code))
    ).all()
    if counts:
        listed = "; ".join(f"{n} in {code}" for code, n in sorted(counts))
        raise Conflict(
            "The table still has available or proposed dwellings in a municipality it would "
            f"give up: {listed}. Let, withdraw or move them first.",
            code="municipality_has_open_dwellings",
        )


def _set_members(
    session: Session,
    table_id: uuid.UUID,
    organisation_ids: Sequence[uuid.UUID],
    current: Sequence[uuid.UUID] = (),
) -> None:
    """The table's members become `organisation_ids`: the rows of those leaving deleted, of
    those joining added, the others' rows left alone (a registration holding a staying member's
    row, `cases.service._require_membership`, neither waits nor fails)."""
    leaving, joining = set(current) - set(organisation_ids), set(organisation_ids) - set(current)
    if leaving:
        session.exec(
            delete(TableMember).where(
                col(TableMember.table_id) == table_id,
                col(TableMember.organisation_id).in_(leaving),
            )
        )
    session.add_all(
        TableMember(table_id=table_id, organisation_id=o) for o in organisation_ids if o in joining
    )


def create_table(session: Session, data: TableCreate) -> OutflowTable:
    if session.exec(select(OutflowTable).where(OutflowTable.name == data.name)).first():
        raise Conflict(f"A table named {data.name!r} exists already.", code="duplicate_name")
    members = _check_organisations(
        session, data.chair_organisation_id, data.member_organisation_ids
    )
    table = OutflowTable(
        name=data.name,
        chair_organisation_id=data.chair_organisation_id,
        policy=data.policy.model_dump(mode="json"),
    )
    session.add(table)
    session.flush()
    _claim_municipalities(session, table.id, data.municipality_codes)
    _set_members(session, table.id, members)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("The table conflicts with one created at the same time.") from exc
    return table


def get_table(session: Session, principal: Principal, table_id: uuid.UUID) -> OutflowTable:
    """The table if the caller is the operator or a member; otherwise 404 as if it did not exist."""
    table = session.get(OutflowTable, table_id)
    if table is None:
        raise NotFound("No such table.")
    if principal.is_operator:
        return table
    org_id = principal.require_organisation()
    member = session.get(TableMember, (table_id, org_id))
    if member is None:
        raise NotFound("No such table.")
    return table


def list_tables(
    session: Session, principal: Principal, *, after: uuid.UUID | None, limit: int
) -> list[OutflowTable]:
    query = select(OutflowTable)
    if not principal.is_operator:
        query = query.where(
            col(OutflowTable.id).in_(member_table_ids(principal.require_organisation()))
        )
    if after is not None:
        query = query.where(OutflowTable.id > after)
    return list(session.exec(query.order_by(col(OutflowTable.id)).limit(limit)))


def refuse_chair_fields(fields: Iterable[str]) -> None:
    """403 for the chair changing `fields` of its table when one is the operator's: the chair
    changes the policy, the operator the rest (`TableUpdate`)."""
    if set(TableUpdate.model_fields).intersection(fields) - {"policy"}:
        raise Forbidden("The chair may change the policy; the operator manages the rest.")


def update_table(
    session: Session,
    principal: Principal,
    table: OutflowTable,
    data: TableUpdate,
    if_match: str | None,
    *,
    if_none_match: str | None = None,
) -> OutflowTable:
    # FOR NO KEY UPDATE: a registration at the table holds its membership row (FOR KEY SHARE)
    # and then its foreign key waits for this row FOR KEY SHARE, which FOR UPDATE refused
    # while the DELETE of a leaving member's row below waited for that registration: a
    # deadlock. A new name (a key column) makes the row's UPDATE take FOR UPDATE; autoflush
    # sends it before that DELETE, so it waits only for registrations past their membership.
    table = lock_checked(session, table, "table", if_match, if_none_match, no_key=True)
    changes = data.model_fields_set
    other_rows_changed = False
    is_chair = principal.organisation_id == table.chair_organisation_id
    if not principal.is_operator:
        if not is_chair:
            raise Forbidden("Only the chair or the operator may change a table.")
        refuse_chair_fields(changes)
    for name in changes:
        if getattr(data, name) is None:
            raise Unprocessable(name, "cannot be null; leave it out to keep the current value")
    if data.name is not None and data.name != table.name:
        if session.exec(select(OutflowTable).where(OutflowTable.name == data.name)).first():
            raise Conflict(f"A table named {data.name!r} exists already.", code="duplicate_name")
        table.name = data.name
    if data.chair_organisation_id is not None or data.member_organisation_ids is not None:
        chair = data.chair_organisation_id or table.chair_organisation_id
        current_members = [m.organisation_id for m in _members(session, table.id)]
        wanted = (
            data.member_organisation_ids
            if data.member_organisation_ids is not None
            else current_members
        )
        members = _check_organisations(session, chair, wanted)
        table.chair_organisation_id = chair
        if set(members) != set(current_members):
            # The leaving members' rows first: their DELETE waits for registrations holding
            # them, so the count after it sees what those registered.
            _set_members(session, table.id, members, current_members)
            session.flush()
            _refuse_removing_open_files(session, table.id, set(current_members) - set(members))
            mail.forget_table_notices(session, table.id, set(current_members) - set(members))
            other_rows_changed = True
    if data.municipality_codes is not None:
        other_rows_changed |= _claim_municipalities(session, table.id, data.municipality_codes)
    if data.policy is not None:
        table.policy = merge_policy(table.policy, data.policy).model_dump(mode="json")
    if other_rows_changed:
        touch(table)  # members and municipalities live in their own rows; the version covers them
    session.add(table)
    flush(session, if_match, "table")
    return table


def _refuse_removing_open_files(
    session: Session, table_id: uuid.UUID, removed: set[uuid.UUID]
) -> None:
    """409 `member_has_open_files` when an organisation leaving the table still has open cases
    (not housed or withdrawn), dwellings (available or proposed) or actions it owns at it: they
    would stay on its agenda, read by the chair and editable by an organisation that is no
    member any more (an open action would stay on the agenda with an owner that can no longer
    reach it). Its closed files stay as history (the monitor counts them). Counted after the
    leaving members' rows are deleted, in the same transaction (which the 409 rolls back): a
    registration holds the membership row it checks (FOR KEY SHARE: `locked_membership`, and
    `vacancies.service._tables_for`),
    so the DELETE waits for it and the count sees what it registered, and a registration after
    the DELETE finds no membership. The registration's foreign key on the table's row does not
    wait for `update_table`, which holds that row FOR NO KEY UPDATE, so the two cannot wait
    for each other."""
    if not removed:
        return
    kinds = (
        (
            "open case(s)",
            Case.care_provider_id,
            and_(col(Case.table_id) == table_id, col(Case.status).not_in(CLOSED_STATUSES)),
        ),
        (
            "available or proposed dwelling(s)",
            Vacancy.corporation_id,
            and_(col(Vacancy.table_id) == table_id, col(Vacancy.status).in_(OPEN_DWELLINGS)),
        ),
        (
            "open action(s)",
            Action.owner_organisation_id,
            and_(col(Action.table_id) == table_id, col(Action.status) == ActionStatus.open),
        ),
    )
    files = []
    for what, owner, open_here in kinds:
        counts = session.exec(
            select(owner, func.count())
            .where(open_here, col(owner).in_(removed))
            .group_by(col(owner))
        ).all()
        files += [f"{n} {what} of {org}" for org, n in sorted(counts, key=str)]
    if files:
        raise Conflict(
            "An organisation leaving the table still has files at it: "
            + "; ".join(files)
            + ". Move them to another table, withdraw or close them first.",
            code="member_has_open_files",
        )


def _members(session: Session, table_id: uuid.UUID) -> list[TableMember]:
    return list(session.exec(select(TableMember).where(TableMember.table_id == table_id)))


def table_public(session: Session, table: OutflowTable) -> TablePublic:
    rows = session.exec(
        select(Organisation)
        .join(TableMember, col(TableMember.organisation_id) == col(Organisation.id))
        .where(TableMember.table_id == table.id)
        .order_by(Organisation.name)
    ).all()
    codes = session.exec(
        select(TableMunicipality.municipality_code)
        .where(TableMunicipality.table_id == table.id)
        .order_by(TableMunicipality.municipality_code)
    ).all()
    return TablePublic(
        id=table.id,
        name=table.name,
        municipality_codes=list(codes),
        chair_organisation_id=table.chair_organisation_id,
        member_organisation_ids=sorted(o.id for o in rows),
        members=[
            TableMemberPublic(id=o.id, name=o.name, kind=OrganisationKind(o.kind)) for o in rows
        ],
        policy=TablePolicy.model_validate(table.policy),
        version=table.version,
        created_at=table.created_at,
        updated_at=table.updated_at,
    )
