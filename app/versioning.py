"""Optimistic versions, ETags and row locks: how a write knows it saw the row it changes.

Every versioned table maps its `version` column as SQLAlchemy's `version_id_col`, so the ORM
writes each UPDATE as `... SET version = :v + 1 WHERE id = :id AND version = :v` and raises
`StaleDataError` when another transaction changed the row first. `updated_at` is set by the
column's `onupdate`. Writers that read, decide and then write lock the rows they change first
(`lock`), always in one order (meeting, case, proposal, vacancy; each by id), so two
transactions on PostgreSQL wait for each other instead of deadlocking, and decide on the row as
committed. SQLite serialises writers with `BEGIN IMMEDIATE`, where the lock is a no-op.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Field, Session, SQLModel, select

from app.problems import Conflict, PreconditionFailed, ProblemError
from app.sqltypes import UTCDateTime, utcnow

M = TypeVar("M", bound=SQLModel)


class Versioned:
    """Mixin for a table model with `version` and `updated_at`: the ORM bumps both on every
    UPDATE of the row and refuses an UPDATE of a row someone else changed meanwhile."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # The mixin itself has no table; the table class it is mixed into does.
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]  # the mixin has none; SQLAlchemy calls this on the mapped table class

    def model_post_init(self, context: Any, /) -> None:
        """A new row was last changed when it was made: `updated_at` is its `created_at`
        unless the writer gave one. Each came from a default of its own, some microseconds
        apart, so a row nobody had changed read as changed after it was made (pydantic calls
        this once the fields are set, SQLModel's table models included)."""
        fields_set: set[str] = self.__pydantic_fields_set__  # type: ignore[attr-defined]  # a pydantic model's, as the mixin is only used in table models
        created = getattr(self, "created_at", None)
        if created is not None and "updated_at" not in fields_set:
            self.updated_at = created


def updated_at_field() -> Any:
    """`updated_at`: set on insert, and by the database layer on every UPDATE of the row."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


def touch(row: Any) -> None:
    """Count this write as a change of the row although none of its columns changed (a table's
    members live in other rows, which its ETag covers): the ORM then issues the versioned
    UPDATE, which moves `version` and `updated_at`. A write that changes nothing at all keeps
    both (the ORM leaves a row whose values are unchanged alone), so a PATCH that repeats the
    current values answers with the same ETag."""
    row.updated_at = utcnow()


def etag(row: Any) -> str:
    """The strong ETag of a versioned row: its version in quotes (`"3"`)."""
    return f'"{row.version}"'


def document_etag(row: Any, document: dict[str, Any]) -> str:
    """The strong ETag of a read that shows more than `row` does: `row`'s version and a digest
    of `document`, what the read shows. For a document that changes without the row (it counts
    from today, or from rows a write of which does not move `row`'s version): `row`'s ETag
    alone let `If-None-Match` answer 304 to a copy that no longer reads so."""
    text = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return f'"{row.version}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"'


def read_condition(
    header: str | None, row: Any, read_etag: Callable[[], str], *, weak: bool = False
) -> tuple[str | None, str | None]:
    """`If-Match` (or, `weak`, `If-None-Match`) of a write to `row` whose read answers
    `document_etag`: a client sends back the ETag it read, and a write takes that as well as
    `row`'s own. Returns the header to check against `row` (`row`'s ETag when it names the
    read's current ETag, `read_etag()`, else as sent: a stale read's ETag matches nothing) and
    that read's ETag when it was named (else None), for a writer to compare once more after
    locking when what it shows can change without `row`'s version."""
    if header is None:
        return None, None
    tags = listed_tags(header, weak=weak)
    if "*" in tags or etag(row) in tags:
        return header, None
    current = read_etag()
    if current in tags:
        return etag(row), current
    return header, None


def lock_checked_as_read(
    session: Session,
    row: M,
    what: str,
    if_match: str | None,
    if_none_match: str | None,
    read_etag: Callable[[M], str],
) -> M:
    """`lock_checked` for a row whose read answers `document_etag` (`read_etag` of the locked
    row): `If-Match` and `If-None-Match` may name the version's ETag or the read's, compared
    with the row as it reads now, locked: a copy that no longer reads so is stale (412)."""
    locked = lock_one(session, row)
    current = cache(lambda: read_etag(locked))
    if_match, _ = read_condition(if_match, locked, current)
    if_none_match, _ = read_condition(if_none_match, locked, current, weak=True)
    check_if_match(if_match, etag(locked), what, if_none_match, shown=current)
    return locked


def listed_tags(header: str, *, weak: bool) -> set[str]:
    """The ETags and `*` a conditional header lists; with `weak`, each tag's `W/` dropped.

    `If-Match` compares strongly (RFC 9110 section 13.1.1): a weak tag (`W/"3"`) never
    matches, so it is kept as sent, equal to none of our ETags (all strong). `If-None-Match`
    compares weakly (section 13.1.2): `W/"3"` names the version `"3"`."""
    tags = {c.strip() for c in header.split(",")}
    return {t.removeprefix("W/") for t in tags} if weak else tags


def check_if_match(
    if_match: str | None,
    current: str,
    what: str = "resource",
    if_none_match: str | None = None,
    *,
    shown: Callable[[], str] | None = None,
) -> None:
    """412 unless `If-Match` is absent, `*`, or lists the current ETag (a weak `W/` tag never
    does: the strong comparison, RFC 9110 section 13.1.1), and
    then (RFC 9110 section 13.2.2's order) unless `If-None-Match` is absent or names neither the
    current ETag nor `*`: on a write, `If-None-Match: *` asks for a resource that does not exist
    yet (section 13.1.2), so it fails on every resource this is called for.

    `shown`: for a resource whose GET answers `document_etag`, that read's current ETag, which
    a 412 names instead of the version's: the one a client can fetch against (a GET never
    answers the bare version there)."""
    if if_match is not None:
        candidates = listed_tags(if_match, weak=False)
        if "*" not in candidates and current not in candidates:
            named = current if shown is None else shown()
            if f"W/{current}" in candidates or f"W/{named}" in candidates:
                raise PreconditionFailed(
                    f"`If-Match` compares strongly, so a weak W/ ETag never matches "
                    f"(RFC 9110 section 13.1.1); send the ETag as the GET gave it: {named}."
                )
            raise PreconditionFailed(
                f"The {what} changed (current ETag {named}); fetch it again and retry."
            )
    if if_none_match is not None:
        candidates = listed_tags(if_none_match, weak=True)
        if "*" in candidates:
            named = current if shown is None else shown()
            raise PreconditionFailed(
                f"The {what} exists (current ETag {named}), and `If-None-Match: *` asks that "
                "it does not; send `If-Match` to change it."
            )
        if current in candidates:
            named = current if shown is None else shown()
            raise PreconditionFailed(
                f"The {what} is at ETag {named}, which `If-None-Match` excludes."
            )


def get_checked(
    session: Session,
    model: type[M],
    key: Any,
    what: str,
    if_match: str | None,
    if_none_match: str | None = None,
) -> M | None:
    """The row of a `PUT` that makes or replaces it: locked and reloaded (`FOR UPDATE`), its
    `If-Match` and `If-None-Match` checked (`check_if_match`, 412). None when there is none
    yet, which `If-Match` (`*` or ETags) cannot match (RFC 9110 section 13.1.1: 412).
    `key`: the primary key (a tuple for a composite one). Two requests that make the same row
    at once meet at its key: the loser's INSERT is rerun by `app.transient`, and then finds
    the winner's row here."""
    row = session.get(model, key, with_for_update=True, populate_existing=True)
    if row is None:
        if if_match is not None:
            raise PreconditionFailed(
                f"There is no {what} yet, so `If-Match` cannot match; leave it out to make it."
            )
        return None
    check_if_match(if_match, etag(row), what, if_none_match)
    return row


def changed_concurrently(if_match: str | None, what: str = "resource") -> ProblemError:
    """The answer to a write that lost a race: 412 to a client that sent If-Match (its ETag is
    stale now), else 409."""
    if if_match is not None:
        return PreconditionFailed(f"The {what} changed meanwhile; fetch it again and retry.")
    return Conflict(
        f"The {what} was changed by someone else at the same time; fetch it again and retry.",
        code="changed_concurrently",
    )


def flush(session: Session, if_match: str | None = None, what: str = "resource") -> None:
    """Flush; a lost optimistic race (`StaleDataError`) is a 412 to a client that sent
    `If-Match` (its ETag is stale: running again would only repeat that). Without If-Match the
    error goes on to `app.transient`, which runs the request again on the rows as they are now,
    and answers 409 `changed_concurrently` only when every run lost."""
    try:
        session.flush()
    except StaleDataError as exc:
        if if_match is None:
            raise
        raise changed_concurrently(if_match, what) from exc


def lock(session: Session, model: type[M], ids: Iterable[Any], *, no_key: bool = False) -> list[M]:
    """Lock the rows (`SELECT ... FOR UPDATE`, in id order) and reload them as committed.

    Call before changing rows whose current state decides the change; keep the order meeting,
    case, proposal, vacancy across a transaction. Returns the rows in id order (missing ids are
    left out). `no_key`: FOR NO KEY UPDATE (PostgreSQL), for a row whose key stays: it keeps
    other writers out as FOR UPDATE does, but lets the foreign keys of rows inserted meanwhile
    that refer to it (FOR KEY SHARE) through, so a writer that holds a row those inserts wait
    for cannot deadlock with them.
    """
    wanted: Sequence[Any] = sorted(set(ids))
    if not wanted:
        return []
    (key,) = inspect(model).primary_key
    statement = (
        select(model)
        .where(key.in_(wanted))
        .order_by(key)
        .with_for_update(key_share=no_key)
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement))


def lock_one(session: Session, row: M, *, no_key: bool = False) -> M:
    """Lock one row and reload it as committed (see `lock`)."""
    model = type(row)
    locked = lock(session, model, inspect(model).primary_key_from_instance(row), no_key=no_key)
    if not locked:
        raise Conflict("It was removed meanwhile.", code="changed_concurrently")
    return locked[0]


def lock_checked(
    session: Session,
    row: M,
    what: str,
    if_match: str | None,
    if_none_match: str | None = None,
    *,
    no_key: bool = False,
) -> M:
    """`row` locked and reloaded (`lock_one`, `no_key` as there), then its `If-Match` and
    `If-None-Match` checked (`check_if_match`, 412): against the locked row, so that no other
    writer can move its version between the check and the write."""
    locked = lock_one(session, row, no_key=no_key)
    check_if_match(if_match, etag(locked), what, if_none_match)
    return locked
