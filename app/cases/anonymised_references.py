"""The references retention took from case files (`app.cases.retention`), kept as digests only:
a push of such a reference must not register the long-closed client again unseen.

A system that pushes all its clients reads 409 as "known" (README): a closed case's reference
answers 409 `duplicate_external_ref`, but once retention replaced it nothing said it was
known, and the push registered the client anew, ready since the old date. A row here holds the
care provider and a SHA-256 digest of the reference, and nothing of the case: no id, no date,
so it does not link the anonymised file back to the person (the rows of one round are inserted
in the digests' order, not the cases')."""

import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import Column, ColumnElement, String, exists
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Field, Session, SQLModel, col, select

from app.problems import Conflict
from app.sqltypes import table_of


class AnonymisedReference(SQLModel, table=True):
    __tablename__ = "anonymised_references"

    care_provider_id: uuid.UUID = Field(foreign_key="organisations.id", primary_key=True)
    digest: str = Field(sa_column=Column(String(64), primary_key=True))


REFERENCES = table_of(AnonymisedReference)


def reference_digest(care_provider_id: uuid.UUID, external_ref: str) -> str:
    """SHA-256 of the care provider's id and its reference (case-sensitive, as references are)."""
    return hashlib.sha256(f"{care_provider_id}\x00{external_ref}".encode()).hexdigest()


def remember(session: Session, references: Iterable[tuple[uuid.UUID, str]]) -> None:
    """Keep the digests of (care provider, reference) pairs retention is taking; one kept
    already (a returning client's reference, anonymised twice) stays as it is."""
    rows = sorted(
        {(org, reference_digest(org, ref)) for org, ref in references}, key=lambda r: r[1]
    )
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(REFERENCES)
        .values([{"care_provider_id": org, "digest": digest} for org, digest in rows])
        .on_conflict_do_nothing()
    )


def taken(session: Session, care_provider_id: uuid.UUID, refs: Iterable[str]) -> set[str]:
    """Those of `refs` that name a case file of the care provider retention anonymised."""
    by_digest = {reference_digest(care_provider_id, ref): ref for ref in refs}
    if not by_digest:
        return set()
    found = session.exec(
        select(AnonymisedReference.digest).where(
            AnonymisedReference.care_provider_id == care_provider_id,
            col(AnonymisedReference.digest).in_(sorted(by_digest)),
        )
    )
    return {by_digest[digest] for digest in found}


def not_taken(
    provider: BindParameter[uuid.UUID], digest: BindParameter[str]
) -> ColumnElement[bool]:
    """SQL: no anonymised case file of `provider` had the reference whose digest is `digest`."""
    return ~exists().where(REFERENCES.c.care_provider_id == provider, REFERENCES.c.digest == digest)


class AnonymisedReferenceTaken(Conflict):
    """409 `external_ref_anonymised`: the reference was a case file's that retention anonymised.
    It names no case (the link is gone on purpose)."""

    def __init__(self, external_ref: str) -> None:
        super().__init__(
            f"external_ref {external_ref!r} was the reference of a case file your organisation "
            "closed, which was anonymised after the retention period. To register the client "
            "again, as a new case that knows nothing of the earlier one, send "
            "returning_after_retention: true.",
            code="external_ref_anonymised",
        )
