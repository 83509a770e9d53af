"""The trail of changes to people's accounts (`PersonChange`): written in the transaction that
makes the change, so it holds exactly the changes that were committed; read by the
organisation (its key, or its admin on the pages) and the operator.

Without it an admin could give a colleague a new password, sign in as them and leave no trace
but the colleague's ended sessions (breaker 41)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.ids import uuid7_after
from app.mail.account import queue_account_notice
from app.people.models import Person, PersonChange, PersonChangeKind, PersonChangePublic
from app.principal import Principal

Change = tuple[PersonChangeKind, str | None]


@dataclass(frozen=True, slots=True)
class ChangedBy:
    """Who changes an account: an organisation's key or person, the operator, or the command
    line (no organisation, no key); and through which endpoint (a route template, or `CLI ...`)."""

    endpoint: str
    organisation_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None

    @classmethod
    def of(cls, context: AccessContext) -> "ChangedBy":
        """The caller of a request, as its access-log context names it."""
        principal = context.principal
        return cls(
            context.endpoint, principal.organisation_id, principal.api_key_id, context.person_id
        )


def flag(value: bool) -> str:
    """A flag's new value as the trail stores it (`value` is text: `true` or `false`)."""
    return "true" if value else "false"


def record(session: Session, person: Person, by: ChangedBy, changes: Iterable[Change]) -> None:
    """Add one row per change of `person`, in the caller's transaction (it commits or rolls
    back with the change itself). Their ids ascend in the order given, after the person's last
    change (`uuid7_after`), also one another server made in the same millisecond: the caller
    writes the person's row with its version, so a change committed after this one read the
    person fails instead. The trail then reads as recorded."""
    made = list(changes)
    if not made:
        return
    with session.no_autoflush:  # the caller flushes the person (and maps a stale version)
        last = session.scalar(
            select(col(PersonChange.id))
            .where(col(PersonChange.person_id) == person.id)
            .order_by(col(PersonChange.id).desc())
            .limit(1)
        )
    ids = []
    for _ in made:
        last = uuid7_after(last)
        ids.append(last)
    for (change, value), row_id in zip(made, ids, strict=True):
        session.add(
            PersonChange(
                id=row_id,
                person_id=person.id,
                change=change.value,
                value=value,
                by_organisation_id=by.organisation_id,
                by_api_key_id=by.api_key_id,
                by_person_id=by.person_id,
                endpoint=by.endpoint[:200],
            )
        )
    if made[0][0] != PersonChangeKind.created:
        queue_account_notice(session, person, made, _who(person, by), str(ids[0]))


def _who(person: Person, by: ChangedBy) -> str:
    """Who changed the account, in the notice's codes."""
    if by.person_id is not None:
        return "self" if by.person_id == person.id else "person"
    if by.organisation_id is not None:
        return "api_key"
    return "command_line" if by.endpoint.startswith("CLI") else "operator"


def list_changes(
    session: Session,
    person: Person,
    *,
    after: uuid.UUID | None,
    limit: int,
    newest_first: bool = False,
) -> list[PersonChange]:
    """The person's changes, oldest first (ids are time-ordered UUIDv7), `limit` after `after`;
    or the newest `limit` first (a page, which shows the recent ones)."""
    query = select(PersonChange).where(PersonChange.person_id == person.id)
    if after is not None:
        query = query.where(PersonChange.id > after)
    order = col(PersonChange.id).desc() if newest_first else col(PersonChange.id)
    return list(session.exec(query.order_by(order).limit(limit)))


def public(row: PersonChange, reader: Principal) -> PersonChangePublic:
    """The row as `reader` may see it: the operator's key ids are the operator's to know, so an
    organisation reads only that the operator (no organisation) made the change."""
    shown = row.model_dump()
    if row.by_organisation_id is None and not reader.is_operator:
        shown["by_api_key_id"] = None
    return PersonChangePublic.model_validate(shown)
