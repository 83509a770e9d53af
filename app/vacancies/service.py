# Size: the batch upsert (locks, ON CONFLICT, lifecycle) and the filtered listing share the
# row mapping and the visibility rule; the next concern that arrives splits it.
"""Vacancies: upserted by the corporation's own reference, placed in the table that covers the
municipality and has the corporation as a member."""

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from operator import attrgetter, itemgetter
from typing import Any, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    tuple_,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.cases.models import Case
from app.database import LostRace
from app.ids import uuid7s
from app.jsonrows import converted, driver_rows, json_rows, recordset
from app.organisations.models import OrganisationKind
from app.principal import VACANCIES_FOR_ORGANISATIONS, Principal
from app.problems import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    ProblemError,
    error_reason,
    field_name,
)
from app.proposals import broken_matches
from app.proposals.models import Proposal
from app.sqltypes import holds, table_of, utcnow
from app.tables.models import TableMember, TableMunicipality
from app.tables.service import reader_table_ids
from app.vacancies import lifecycle
from app.vacancies.lifecycle import VacancyEvent
from app.vacancies.models import NOT_AN_OBJECT, Vacancy, VacancyIn, VacancyStatus
from app.versioning import check_if_match, flush, lock, lock_checked

VACANCY_TABLE = table_of(Vacancy)
MUNICIPALITY = re.compile(r"^GM[0-9]{4}$")
# What a push may change: everything but the identity, the bookkeeping and the status (which
# only the lifecycle moves).
CONTENT_COLUMNS = tuple(
    c.name
    for c in VACANCY_TABLE.columns
    if c.name
    not in ("id", "corporation_id", "external_ref", "status", "version", "created_at", "updated_at")
)


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    external_ref: str | None
    name: str
    code: str
    reason: str


class InvalidVacancies(ProblemError):
    """400 listing every invalid item; nothing of the request was stored."""

    status, code, title = 400, "validation_error", "Invalid request"

    def __init__(self, errors: list[ItemError], batch: bool):
        def param(e: ItemError) -> dict[str, str]:
            name = (
                (f"items[{e.index}].{e.name}" if e.name else f"items[{e.index}]")
                if batch
                else e.name
            )
            return {"name": name, "in": "body", "code": e.code, "reason": e.reason}

        extra: dict[str, Any] = {"invalidParams": [param(e) for e in errors]}
        if batch:
            by_index: dict[int, list[ItemError]] = {}
            for e in errors:
                by_index.setdefault(e.index, []).append(e)
            extra["invalidItems"] = [
                {
                    "index": i,
                    "external_ref": errs[0].external_ref,
                    "invalidParams": [param(e) for e in errs],
                }
                for i, errs in sorted(by_index.items())
            ]
        detail = f"{len(errors)} invalid field(s)"
        if batch:
            detail += f" in {len(extra['invalidItems'])} item(s); nothing was stored"
        super().__init__(detail, **extra)


@dataclass(frozen=True, slots=True)
class UpsertOutcome:
    id: uuid.UUID
    external_ref: str
    outcome: str  # created | updated | unchanged


def _plain(value: Any) -> Any:
    """An enum as its value, a list of them as a list of values (as the columns store them)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [v.value if isinstance(v, Enum) else v for v in value]
    return value


def _field_paths() -> tuple[tuple[str, Callable[[Any], Any], bool], ...]:
    """(column, getter, holds enums) for each content column of `VacancyIn`
    (`address_street` is `address.street`), read once: the columns are read from the
    attributes directly."""
    paths: list[tuple[str, Callable[[Any], Any], bool]] = []
    for name, field in VacancyIn.model_fields.items():
        if name == "external_ref":
            continue
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            fields = [
                (f"{name}_{sub}", f"{name}.{sub}", f) for sub, f in group.model_fields.items()
            ]
        else:
            fields = [(name, name, field)]
        for column, path, info in fields:
            kind = info.annotation
            enums = get_origin(kind) is list or (isinstance(kind, type) and issubclass(kind, Enum))
            paths.append((column, attrgetter(path), enums))
    return tuple(paths)


FIELD_PATHS = _field_paths()


def content_columns(items: Sequence[VacancyIn]) -> dict[str, list[Any]]:
    """The items' content columns, {column: [value of each item, in order]}, enums as their
    values. Column by column: one getter per column, and an enum column's conversion once
    per distinct value."""
    columns: dict[str, list[Any]] = {}
    for column, getter, enums in FIELD_PATHS:
        values = list(map(getter, items))
        columns[column] = converted(_plain, values) if enums else values
    return columns


def _columns(item: VacancyIn) -> dict[str, Any]:
    """One item's content columns ({column: value}, enums as their values)."""
    return {column: values[0] for column, values in content_columns([item]).items()}


def _tables_for(
    session: Session, corporation_id: uuid.UUID, codes: set[str]
) -> dict[str, uuid.UUID]:
    """municipality code -> the table covering it where the corporation is a member. The
    membership and municipality rows stay locked (FOR KEY SHARE) until the commit, so that a
    concurrent removal of the corporation, or of the municipality from the table, waits and
    then counts the dwellings this transaction put there (`tables.service.update_table`)."""
    rows = session.exec(
        select(TableMunicipality.municipality_code, TableMunicipality.table_id)
        .join(TableMember, col(TableMember.table_id) == col(TableMunicipality.table_id))
        .where(
            TableMember.organisation_id == corporation_id,
            col(TableMunicipality.municipality_code).in_(codes),
        )
        .with_for_update(read=True, key_share=True, of=[TableMember, TableMunicipality])
    ).all()
    return dict(rows)


ITEMS = TypeAdapter(list[VacancyIn])


def parse_items(raw_items: Sequence[Any]) -> tuple[list[VacancyIn], list[ItemError]]:
    """Validate all items of a batch in one call, collecting the errors of every item (an
    error's location starts with the item's index); an item that is no object is one error
    (`dict_type`, named by its index alone)."""
    objects = [i for i, raw in enumerate(raw_items) if isinstance(raw, dict)]
    errors: list[ItemError] = [
        ItemError(i, None, "", "dict_type", NOT_AN_OBJECT)
        for i, raw in enumerate(raw_items)
        if not isinstance(raw, dict)
    ]
    try:
        items = ITEMS.validate_python([raw_items[i] for i in objects])
        return (items, []) if not errors else ([], errors)
    except ValidationError as exc:
        for error in exc.errors():
            # Every error is an item's: the callers pass a list (the route bounds its length).
            position, *loc = error["loc"]
            assert isinstance(position, int)
            index = objects[position]
            ref = raw_items[index].get("external_ref")
            errors.append(
                ItemError(
                    index,
                    ref if isinstance(ref, str) else None,
                    field_name(tuple(loc)),
                    error["type"],
                    error_reason(dict(error)),
                )
            )
        return [], sorted(errors, key=lambda e: e.index)


def _raw_key(raw: Any) -> tuple[str | None, str | None]:
    """(external_ref, municipality_code) of an item, read leniently from unvalidated input."""
    if isinstance(raw, VacancyIn):
        return raw.external_ref, raw.address.municipality_code
    if not isinstance(raw, dict):
        return None, None
    ref = raw.get("external_ref")
    address = raw.get("address")
    code = address.get("municipality_code") if isinstance(address, dict) else None
    valid_code = isinstance(code, str) and MUNICIPALITY.match(code) is not None
    return (ref if isinstance(ref, str) else None), (code if valid_code else None)


def _domain_errors(
    session: Session, corporation_id: uuid.UUID, keys: Sequence[tuple[str | None, str | None]]
) -> tuple[dict[str, uuid.UUID], list[ItemError]]:
    """Repeated references and municipalities no table of the corporation covers; `keys` are
    the items' (external_ref, municipality_code), None where invalid (`_raw_key`)."""
    tables = _tables_for(session, corporation_id, {code for _, code in keys if code})
    errors: list[ItemError] = []
    first_index: dict[str, int] = {}
    for index, (ref, code) in enumerate(keys):
        if ref is not None and ref in first_index:
            errors.append(
                ItemError(
                    index,
                    ref,
                    "external_ref",
                    "duplicate_in_batch",
                    f"repeats items[{first_index[ref]}]",
                )
            )
        if ref is not None:
            first_index.setdefault(ref, index)
        if code is not None and code not in tables:
            errors.append(
                ItemError(
                    index,
                    ref,
                    "address.municipality_code",
                    "no_table",
                    "no outflow table with your organisation as member covers this municipality",
                )
            )
    return tables, errors


def upsert_vacancies(
    session: Session,
    principal: Principal,
    raw_items: Sequence[dict[str, Any] | VacancyIn] | Sequence[Any],
    *,
    batch: bool,
    if_match: str | None = None,
    if_none_match: str | None = None,
    read_versions: Mapping[str, int] | None = None,
) -> list[UpsertOutcome]:
    """Create or update each item by (corporation, external_ref); all or nothing.

    Returns one outcome per item, in the request's order: `created`, `updated` (a content field
    differs; the version goes up by one) or `unchanged`. Raises `InvalidVacancies` (400) listing
    every invalid item, and `LostRace` when a concurrent request inserted one of the new
    references first (the request then runs again and finds it: app/transient.py).

    Safe against concurrent batches with overlapping references on PostgreSQL: the known rows
    are locked before they are compared, the new ones inserted with `ON CONFLICT DO NOTHING`,
    both in reference order, so two batches take their locks in the same order (no deadlock)
    and the report says what this batch did to the rows as they were when it changed them.

    `if_match` (one item only): the ETag the caller last read of the dwelling with that
    reference; 412 when the dwelling changed since (or does not exist), checked on the locked
    row, so no concurrent write slips between the check and this one. `if_none_match` (one
    item only): 412 when it is `*` and the dwelling exists, or names its current ETag.

    `read_versions`: the version of each dwelling the caller read to build its items (a
    spreadsheet's left-out columns keep what it read). When a dwelling's locked row is at
    another version, or one is there that the caller did not find, `LostRace`: the request runs
    again on the dwellings as they are, instead of writing back what another request changed.
    """
    corporation_id = principal.require_kind(OrganisationKind.housing_corporation)
    unparsed = [r for r in raw_items if not isinstance(r, VacancyIn)]
    if unparsed:
        items, errors = parse_items(unparsed)
        keys = [_raw_key(raw) for raw in unparsed] if errors else []
    else:
        items, errors = [r for r in raw_items if isinstance(r, VacancyIn)], []
    columns = content_columns(items)
    refs = [item.external_ref for item in items]
    if not errors:
        keys = list(zip(refs, columns["address_municipality_code"], strict=True))
    tables, domain_errors = _domain_errors(session, corporation_id, keys)
    errors = sorted([*errors, *domain_errors], key=lambda e: e.index)
    if errors:
        raise InvalidVacancies(errors, batch)
    columns["table_id"] = [tables[code] for code in columns["address_municipality_code"]]

    # The cases of the dwellings' undecided proposals first (the lock order: case, proposal,
    # dwelling): a push that makes such a pair break a hard rule withdraws the proposal.
    proposed_cases = list(
        session.exec(
            select(Proposal.case_id)
            .join(Vacancy, col(Vacancy.id) == col(Proposal.vacancy_id))
            .where(
                Vacancy.corporation_id == corporation_id,
                _one_of(session, VACANCY_TABLE.c.external_ref, refs),
                col(Proposal.status).in_(broken_matches.UNDECIDED),
            )
        )
    )
    lock(session, Case, proposed_cases)
    # Core rows of the columns compared, not ORM objects: building 1000 ORM instances costs
    # more than the upsert itself. Locked (PostgreSQL; SQLite runs one writer at a time), so
    # nobody changes them between the comparison below and our commit; in id order, as every
    # writer locks dwellings (`app.versioning`): in reference order, a push held one dwelling
    # while it waited for another a publication (`create_from_agenda`) held, which waited for it.
    existing = {
        row[0]: row
        for row in session.connection().execute(
            sa_select(*_LOOKUP)
            .where(
                VACANCY_TABLE.c.corporation_id == corporation_id,
                _one_of(session, VACANCY_TABLE.c.external_ref, refs),
            )
            .order_by(VACANCY_TABLE.c.id)
            .with_for_update()
        )
    }
    if if_match is not None or if_none_match is not None:
        _check_version(existing, items, if_match, if_none_match)
    if read_versions is not None:
        _check_read_versions(existing, refs, read_versions)
    # Each item's content as a tuple in the lookup's column order: compared in one step.
    contents = list(zip(*(columns[c] for c in CONTENT_COLUMNS), strict=True))
    new_indexes: list[int] = []
    updated: list[int] = []
    on_offer: dict[int, uuid.UUID] = {}
    outcomes: list[UpsertOutcome | None] = [None] * len(items)
    for index, ref in enumerate(refs):
        current = existing.get(ref)
        if current is None:
            new_indexes.append(index)
            continue
        current_id, status = current[1], current[2]
        if current[_TABLE_AT] != columns["table_id"][index]:
            lifecycle.check_move(status, ref)
        day = columns["available_from"][index]
        later = day > current[_AVAILABLE_FROM_AT]
        after = lifecycle.status_after_push(status, later)
        # Offered (again), or its day moved back: it must lie after any tenant's move-in (a
        # day moved later than a stored one that did stays after it).
        if after != VacancyStatus.let and (after != status or day < current[_AVAILABLE_FROM_AT]):
            on_offer[index] = current_id
        if after != status or current[4:] != contents[index]:
            updated.append(index)
            outcomes[index] = UpsertOutcome(current_id, ref, "updated")
        else:
            outcomes[index] = UpsertOutcome(current_id, ref, "unchanged")
    if on_offer and (errors := _before_move_in(session, on_offer, refs, columns["available_from"])):
        raise InvalidVacancies(errors, batch)
    # The new dwellings before any known one is updated: a reference registered between two
    # batches' lookups is known to one (locked, not yet updated) and new to the other, whose
    # ON CONFLICT then does not wait for a lock-only row. Updated first, the one held it
    # while waiting for the other's new ones, which waited for the update: a deadlock, as
    # the case imports had (tests/imports/test_import_races.py, the dwelling writers).
    if new_indexes:
        new_indexes.sort(key=refs.__getitem__)  # the insert's lock order
        ids = uuid7s(len(new_indexes))
        for index, new_id in zip(new_indexes, ids, strict=True):
            outcomes[index] = UpsertOutcome(new_id, refs[index], "created")
        _insert_new(session, corporation_id, columns, refs, new_indexes, ids)
    if updated:
        # The status and the version are computed from the row as it is when updated, so a
        # decision taken meanwhile on a proposed dwelling is neither overwritten nor lost;
        # `updated_at` follows from the column's onupdate.
        statement = (
            update(VACANCY_TABLE)
            .where(VACANCY_TABLE.c.id == bindparam("_id"))
            .values(
                {
                    **{c: bindparam(c) for c in CONTENT_COLUMNS},
                    # The right-hand side reads the row before this UPDATE: the stored date.
                    "status": lifecycle.status_after_push_sql(
                        VACANCY_TABLE.c.status,
                        bindparam("available_from", type_=VACANCY_TABLE.c.available_from.type)
                        > VACANCY_TABLE.c.available_from,
                    ),
                    "version": VACANCY_TABLE.c.version + 1,
                }
            )
        )
        parameters = [
            {"_id": existing[refs[i]][1], **{c: columns[c][i] for c in CONTENT_COLUMNS}}
            for i in updated
        ]
        session.connection().execute(statement, parameters)
        # Also when none was found above: a publish may have proposed one of these dwellings
        # (as they were before this push) since that look (`LostRace`: the request runs again).
        broken_matches.withdraw_for_dwellings(
            session,
            AccessContext(principal, "vacancies.upsert"),
            {existing[refs[i]][1]: existing[refs[i]] for i in updated},
            proposed_cases,
        )
    return [outcome for outcome in outcomes if outcome is not None]


def _before_move_in(
    session: Session, on_offer: dict[int, uuid.UUID], refs: list[str], available: list[date]
) -> list[ItemError]:
    """The items that offer a known dwelling from a new day, or again (`on_offer`: item index
    -> dwelling id: a let one with a later day, a withdrawn one, or one on offer whose day
    moves back), from a day that is not after its last tenant's move-in (the proposal's
    `housed_on`): the dwelling cannot come free before, or on the day, its tenant moved in,
    and offering it so would put an occupied dwelling on the agenda. Not only the push that
    offers a let dwelling again: a later push of an older day (a stale system, an old
    spreadsheet) moved it back before the move-in. 400 `available_before_move_in` on
    `available_from`."""
    moved_in = dict(
        session.exec(
            select(Proposal.vacancy_id, func.max(Proposal.housed_on))
            .where(col(Proposal.vacancy_id).in_(set(on_offer.values())))
            .group_by(col(Proposal.vacancy_id))
        ).all()
    )
    return [
        ItemError(
            index,
            refs[index],
            "available_from",
            "available_before_move_in",
            f"the dwelling is let to a tenant who moved in on {day.isoformat()}; it comes "
            "free after that day",
        )
        for index, dwelling_id in sorted(on_offer.items())
        if (day := moved_in.get(dwelling_id)) is not None and available[index] <= day
    ]


# What the comparison reads of a known row: the key, the identity, the status, the version
# (for If-Match) and the content, as `contents` lists it.
_LOOKUP = (
    VACANCY_TABLE.c.external_ref,
    VACANCY_TABLE.c.id,
    VACANCY_TABLE.c.status,
    VACANCY_TABLE.c.version,
    *(VACANCY_TABLE.c[c] for c in CONTENT_COLUMNS),
)
_TABLE_AT = 4 + CONTENT_COLUMNS.index("table_id")
_AVAILABLE_FROM_AT = 4 + CONTENT_COLUMNS.index("available_from")


def _one_of(session: Session, column: ColumnElement[Any], values: list[str]) -> ColumnElement[bool]:
    """`column` is one of `values`, given as one parameter: on PostgreSQL `column =
    ANY(:array)` (psycopg takes longer to parse a statement with 1000 placeholders than the
    server to run it), on SQLite `column IN (SELECT value FROM json_each(:json))` (SQLAlchemy
    renders and binds an `IN` of 1000 values anew on every execution, three times as long as
    the whole lookup this way)."""
    if session.connection().dialect.name == "postgresql":
        return column == any_(bindparam("one_of", values, type_=ARRAY(String)))
    listed: Select[Any] = sa_select(literal_column("value")).select_from(
        func.json_each(bindparam("one_of", json.dumps(values)))
    )
    return column.in_(listed)


def _check_version(
    existing: dict[str, Any],
    items: list[VacancyIn],
    if_match: str | None,
    if_none_match: str | None,
) -> None:
    if len(items) != 1:
        raise ValueError("If-Match and If-None-Match apply to one dwelling")
    current = existing.get(items[0].external_ref)
    if current is None:
        if if_match is None:  # RFC 9110 13.1.2: no current representation, If-None-Match holds
            return
        # RFC 9110 13.1.1: no current representation, so no If-Match holds
        raise PreconditionFailed("No dwelling with this external_ref exists to match If-Match.")
    check_if_match(if_match, f'"{current.version}"', "dwelling", if_none_match)


def _check_read_versions(
    existing: dict[str, Any], refs: list[str], read_versions: Mapping[str, int]
) -> None:
    for ref in refs:
        current = existing.get(ref)
        if (None if current is None else current.version) != read_versions.get(ref):
            raise LostRace(f"dwelling {ref!r} changed since the request read it")


def _insert_new(
    session: Session,
    corporation_id: uuid.UUID,
    columns: dict[str, list[Any]],
    refs: list[str],
    indexes: list[int],
    ids: list[uuid.UUID],
) -> None:
    """Insert the items at `indexes` (in that order: by reference) as new rows with `ids`:
    `INSERT ... ON CONFLICT (corporation_id, external_ref) DO NOTHING`. Raises `LostRace`
    when a concurrent request inserted one of them first (it was not there when we looked), so
    that the request runs again and updates it instead."""
    connection = session.connection()
    count = len(indexes)
    pick = itemgetter(*indexes) if count > 1 else lambda values: (values[indexes[0]],)
    now = utcnow()
    rows: dict[str, Sequence[Any]] = {
        **{name: pick(values) for name, values in columns.items()},
        "id": ids,
        "external_ref": pick(refs),
        "corporation_id": [corporation_id] * count,
        "status": [lifecycle.status_after_push(None)] * count,
        "version": [1] * count,  # core rows: the ORM's version counter starts here too
        "created_at": [now] * count,
        "updated_at": [now] * count,
    }
    if connection.dialect.name == "postgresql":
        # The rows as one JSON parameter, typed by the table's own row type: a statement of a
        # few kilobytes instead of a VALUES list with 28 parameters per row.
        given = recordset(VACANCY_TABLE, bindparam("rows"))
        names = [c.name for c in VACANCY_TABLE.columns]
        statement = (
            pg_insert(VACANCY_TABLE)
            .from_select(
                names,
                sa_select(*(given.c[name] for name in names)).order_by(given.c.external_ref),
            )
            .on_conflict_do_nothing(index_elements=["corporation_id", "external_ref"])
            .returning(VACANCY_TABLE.c.external_ref)
        )
        parameters = {"rows": json_rows(VACANCY_TABLE, rows)}
        inserted = len(connection.execute(statement, parameters).all())
    else:
        # The driver's executemany of ready-made tuples, in this order: SQLAlchemy's own
        # executemany builds and converts a parameter dict per row, which cost more than
        # SQLite's insert itself (docs/benchmarks.md, ingest section).
        # The driver sums the rows each statement inserted (a conflict inserts none).
        inserted = connection.exec_driver_sql(
            _SQLITE_INSERT, driver_rows(VACANCY_TABLE, connection.dialect, rows)
        ).rowcount
    if inserted != count:
        raise LostRace(f"{count - inserted} new vacancy reference(s) inserted concurrently")


_SQLITE_INSERT = (
    f"INSERT INTO {VACANCY_TABLE.name} ({', '.join(c.name for c in VACANCY_TABLE.columns)}) "
    f"VALUES ({', '.join('?' for _ in VACANCY_TABLE.columns)}) "
    "ON CONFLICT (corporation_id, external_ref) DO NOTHING"
)


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    """Own dwellings, plus all dwellings of tables the caller reads as chair or municipality."""
    if principal.is_operator:
        raise Forbidden(VACANCIES_FOR_ORGANISATIONS)
    org_id = principal.require_organisation()
    return or_(
        col(Vacancy.corporation_id) == org_id,
        col(Vacancy.table_id).in_(reader_table_ids(principal)),
    )


def get_vacancy(session: Session, principal: Principal, vacancy_id: uuid.UUID) -> Vacancy:
    vacancy = session.exec(
        select(Vacancy).where(Vacancy.id == vacancy_id, visible_clause(principal))
    ).first()
    if vacancy is None:
        raise NotFound("No such vacancy.")
    return vacancy


def get_by_refs(session: Session, corporation_id: uuid.UUID, refs: list[str]) -> dict[str, Vacancy]:
    rows = session.exec(
        select(Vacancy).where(
            tuple_(Vacancy.corporation_id, Vacancy.external_ref).in_(
                [(corporation_id, r) for r in refs]
            )
        )
    )
    return {v.external_ref: v for v in rows}


class VacancySort(StrEnum):
    """List orders. A dwelling waits from `available_from`: `-waitingTime` is the longest
    waiting (earliest available) first, `waitingTime` the latest; without a sort, the order in
    which the dwellings were first offered."""

    waiting_time = "waitingTime"
    longest_waiting_first = "-waitingTime"


def sort_date(vacancy: Vacancy) -> date:
    """A dwelling's place in a sorted list, which a sorted page's cursor carries."""
    return vacancy.available_from


@dataclass(frozen=True, slots=True)
class VacancyFilters:
    """What a dwelling list is narrowed to; None means no narrowing.

    `reference`: part of the corporation's own reference, case-sensitive as the reference is
    a key (`ABC-1` and `abc-1` are two dwellings). `room_ranges`:
    table id -> (min rooms, max rooms or None), the rooms the table's policy gives a household
    size (a dwelling of a table not named is left out). `vacancy_ids`: only these (a
    blocking-reason filter computes them, `app.registry.service`).
    """

    table_id: uuid.UUID | None = None
    status: VacancyStatus | None = None
    external_ref: str | None = None
    corporation_id: uuid.UUID | None = None
    reference: str | None = None
    room_ranges: dict[uuid.UUID, tuple[int, int | None]] | None = None
    vacancy_ids: frozenset[uuid.UUID] | None = None
    sort: VacancySort | None = None


def _rooms_clause(ranges: dict[uuid.UUID, tuple[int, int | None]]) -> ColumnElement[bool]:
    clauses = []
    for table_id, (low, high) in ranges.items():
        clause = and_(col(Vacancy.table_id) == table_id, col(Vacancy.rooms) >= low)
        clauses.append(clause if high is None else and_(clause, col(Vacancy.rooms) <= high))
    return or_(false(), *clauses)


def list_vacancies(
    session: Session,
    principal: Principal,
    filters: VacancyFilters,
    *,
    after: uuid.UUID | None,
    limit: int,
    after_key: date | None = None,
) -> list[Vacancy]:
    """Up to `limit` visible dwellings; `after` is the last dwelling of the previous page (the
    cursor): with a sort, the page continues after that dwelling's place in the order, at
    `after_key` (its date when the page was cut, which the cursor carries) when given."""
    query = select(Vacancy).where(visible_clause(principal))
    if filters.table_id is not None:
        query = query.where(Vacancy.table_id == filters.table_id)
    if filters.status is not None:
        query = query.where(Vacancy.status == filters.status.value)
    if filters.external_ref is not None:
        query = query.where(Vacancy.external_ref == filters.external_ref)
    if filters.corporation_id is not None:
        query = query.where(Vacancy.corporation_id == filters.corporation_id)
    if filters.reference:
        query = query.where(holds(session, col(Vacancy.external_ref), filters.reference))
    if filters.room_ranges is not None:
        query = query.where(_rooms_clause(filters.room_ranges))
    if filters.vacancy_ids is not None:
        query = query.where(col(Vacancy.id).in_(sorted(filters.vacancy_ids)))
    if filters.sort is None:
        if after is not None:
            query = query.where(Vacancy.id > after)
        query = query.order_by(col(Vacancy.id))
    else:
        ascending = filters.sort == VacancySort.longest_waiting_first
        key = col(Vacancy.available_from)
        if after is not None:
            # Only a dwelling the caller sees places the page (another's date would follow).
            visible = visible_clause(principal)
            last: ColumnElement[date] = (
                select(col(Vacancy.available_from))
                .where(Vacancy.id == after, visible)
                .scalar_subquery()
                if after_key is None
                else bindparam("after_key", after_key)
            )
            if ascending:
                query = query.where(or_(key > last, and_(key == last, col(Vacancy.id) > after)))
            else:
                query = query.where(or_(key < last, and_(key == last, col(Vacancy.id) < after)))
        if ascending:
            query = query.order_by(key, col(Vacancy.id))
        else:
            query = query.order_by(key.desc(), col(Vacancy.id).desc())
    return list(session.exec(query.limit(limit)))


def refuse_withdrawal(principal: Principal, vacancy: Vacancy) -> None:
    """403 for a caller that sees the dwelling but did not offer it."""
    if vacancy.corporation_id != principal.organisation_id:
        raise Forbidden("Only the corporation that offered the dwelling may withdraw it.")


def withdraw_vacancy(
    session: Session, context: AccessContext, vacancy: Vacancy, if_match: str | None = None
) -> Vacancy:
    """The corporation takes the dwelling off offer; its open proposal ends (the case is free
    again). Withdrawing a withdrawn dwelling changes nothing; a let one is refused (409).
    `if_match`: 412 unless it is the dwelling's current ETag (checked on the locked row)."""
    refuse_withdrawal(context.principal, vacancy)
    if if_match is not None:
        vacancy = lock_checked(session, vacancy, "dwelling", if_match)
    from app.proposals.service import close_for_vacancy

    vacancy = close_for_vacancy(session, vacancy, context)
    lifecycle.fire(session, vacancy, VacancyEvent.withdraw)
    flush(session, if_match, "dwelling")
    return vacancy
