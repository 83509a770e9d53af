"""Writing and reading the case access log."""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, TextClause, bindparam, insert, text
from sqlalchemy import select as core_select
from sqlalchemy.sql.selectable import NamedFromClause
from sqlmodel import Session, col, select

from app.access_log.models import AccessAction, AccessLogEntry
from app.ids import id_window, window_uuid7s
from app.principal import Principal
from app.sqltypes import utcnow


class Moment:
    """The moment of an answer's first access-log entry and a window of ids of it, which every
    later entry of that answer takes too: a page logs its cases, its proposals and its actions
    a call each, and each call's own moment (and ids of it) put the time the answer took to
    log and load the others' between two of a care provider's own entries."""

    __slots__ = ("_at", "_window")

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._window: int | None = None

    def __call__(self) -> datetime:
        if self._at is None:
            self._at = utcnow()
        return self._at

    def ids(self, count: int) -> list[uuid.UUID]:
        """`count` ids of the answer's one window, each with random bits of its own, in no
        order among themselves nor with those of the answer's other calls."""
        if self._window is None:
            self._window = id_window(self())
        return window_uuid7s(self._window, count)


@dataclass(frozen=True, slots=True)
class AccessContext:
    """Who accesses, through which endpoint (route template, never the URL with its values),
    and the moment its answer's entries carry (one context per answer)."""

    principal: Principal
    endpoint: str
    person_id: uuid.UUID | None = None
    moment: Moment = field(default_factory=Moment, compare=False, repr=False)


def record(
    session: Session,
    context: AccessContext,
    action: AccessAction,
    cases: Iterable[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    """Log one entry per (case_id, table_id), in the caller's transaction."""
    organisation_id = context.principal.organisation_id
    if organisation_id is None:  # the operator never reaches case files
        return
    _insert(
        session,
        cases,
        moment=context.moment,
        action=action,
        organisation_id=organisation_id,
        api_key_id=context.principal.api_key_id,
        person_id=context.person_id,
        endpoint=context.endpoint,
    )


def insert_from(cases: NamedFromClause) -> Insert:
    """`record`'s INSERT for the cases in `cases` (a CTE with `id` and `table_id` columns, at
    most one row: the log row's id is one parameter), as one INSERT ... SELECT, so that it can
    travel in the statement that makes the case. Its values are the parameters `values_of`
    gives."""
    columns = AccessLogEntry.__table__.c  # type: ignore[attr-defined]
    given = ("id", "at", "action", "organisation_id", "api_key_id", "person_id", "endpoint")
    value = [bindparam(f"log_{name}", type_=columns[name].type) for name in given]
    return insert(AccessLogEntry).from_select(
        ["case_id", "table_id", *given], core_select(cases.c.id, cases.c.table_id, *value)
    )


def values_of(context: AccessContext, action: AccessAction) -> dict[str, object]:
    """`insert_from`'s parameters: the row `record` would write for `context` and `action`.
    Raises ValueError for the operator, whose reads of case files are never logged (it never
    reaches one)."""
    organisation_id = context.principal.organisation_id
    if organisation_id is None:
        raise ValueError("the operator reaches no case file")
    return {
        "log_id": context.moment.ids(1)[0],
        "log_at": context.moment(),
        "log_action": action.value,
        "log_organisation_id": organisation_id,
        "log_api_key_id": context.principal.api_key_id,
        "log_person_id": context.person_id,
        "log_endpoint": context.endpoint,
    }


def record_disclosure(
    session: Session,
    organisation_id: uuid.UUID,
    action: AccessAction,
    cases: Iterable[tuple[uuid.UUID, uuid.UUID]],
    endpoint: str,
) -> None:
    """Log case ids handed to an organisation without its asking (a webhook), by no key."""
    _insert(
        session,
        cases,
        moment=Moment(),
        action=action,
        organisation_id=organisation_id,
        api_key_id=None,
        person_id=None,
        endpoint=endpoint[:200],
    )


def _insert(
    session: Session,
    cases: Iterable[tuple[uuid.UUID, uuid.UUID]],
    *,
    moment: Moment,
    action: AccessAction,
    organisation_id: uuid.UUID,
    api_key_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    endpoint: str,
) -> None:
    """One INSERT ... SELECT for all `cases`, whatever their number: the (id, case, table)
    triples travel as one JSON array, the rest as single values. A row per case through the
    ORM's bulk insert took 16-17% of the server's CPU time for the country's agendas (most of it
    turning each row's values into parameters, not the database's work)."""
    pairs = list(cases)
    if not pairs:
        return
    # Ids of one moment with random bits each: made one after another in case order, each
    # counted on from the last by a small random step, so the distance between two entries
    # of a care provider's own cases counted the others' cases logged between them.
    at, ids = moment(), moment.ids(len(pairs))
    triples = json.dumps([[i.hex, c.hex, t.hex] for i, (c, t) in zip(ids, pairs, strict=True)])
    values = {
        "rows": triples,
        "at": at,
        "action": action.value,
        "organisation_id": organisation_id,
        "api_key_id": api_key_id,
        "person_id": person_id,
        "endpoint": endpoint,
    }
    session.connection().execute(_insert_statement(session.get_bind().dialect.name), values)


@cache
def _insert_statement(dialect: str) -> TextClause:
    """The many-row insert for `dialect`: PostgreSQL reads the JSON array as `jsonb` and casts
    the hex ids to `uuid`; SQLite stores them as the hex it keeps for `Uuid` columns."""
    if dialect == "postgresql":
        source = "jsonb_array_elements(CAST(:rows AS jsonb)) AS r(v)"
        ids = [f"CAST(r.v->>{n} AS uuid)" for n in range(3)]
    else:
        source = "json_each(:rows) AS r"
        ids = [f"json_extract(r.value, '$[{n}]')" for n in range(3)]
    columns = AccessLogEntry.__table__.c  # type: ignore[attr-defined]
    scalars = ("at", "action", "organisation_id", "api_key_id", "person_id", "endpoint")
    return text(
        "INSERT INTO access_log (id, case_id, table_id, at, action, organisation_id, "
        f"api_key_id, person_id, endpoint) SELECT {', '.join(ids)}, :at, :action, "
        f":organisation_id, :api_key_id, :person_id, :endpoint FROM {source}"
    ).bindparams(*(bindparam(name, type_=columns[name].type) for name in scalars))


def record_export(
    session: Session, context: AccessContext, action: AccessAction, table_id: uuid.UUID
) -> None:
    """Log an export of a table's figures (no single case involved)."""
    if context.principal.organisation_id is None:
        return
    session.add(
        AccessLogEntry(
            id=context.moment.ids(1)[0],
            at=context.moment(),
            action=action.value,
            case_id=None,
            table_id=table_id,
            organisation_id=context.principal.organisation_id,
            api_key_id=context.principal.api_key_id,
            person_id=context.person_id,
            endpoint=context.endpoint,
        )
    )


def list_entries(
    session: Session,
    *,
    table_id: uuid.UUID | None,
    case_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
    newest_first: bool = False,
) -> list[AccessLogEntry]:
    """Entries of one table (`table_id`), one case (`case_id`, at every table), or one case at
    one table, by id (their order of writing; `newest_first` the other way round)."""
    query = select(AccessLogEntry)
    if table_id is not None:
        query = query.where(AccessLogEntry.table_id == table_id)
    if case_id is not None:
        query = query.where(AccessLogEntry.case_id == case_id)
    if after is not None:
        query = query.where(AccessLogEntry.id > after)
    order = col(AccessLogEntry.id).desc() if newest_first else col(AccessLogEntry.id)
    return list(session.exec(query.order_by(order).limit(limit)))
