"""The stored answers of `Idempotency-Key` requests, and their purge.

FastAPI-free, so the retention job can purge them; `app.idempotency` claims keys and replays
answers for the routes.
"""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, UniqueConstraint, delete, select, update
from sqlmodel import Field, Session, SQLModel

from app.ids import uuid7
from app.sqltypes import UTCDateTime, table_of, utcnow


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    scope: str = Field(max_length=64, description="Organisation id, or 'operator'.")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = Field(
        default=None, description="Set with the answer, in the transaction that claimed the key."
    )
    response_body: Any = Field(
        default=None,
        sa_type=JSON,
        nullable=True,
        description="None when the answer is read again on replay.",
    )
    response_headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    resource_id: uuid.UUID | None = Field(
        default=None, description="The resource a replay reads again (answers with case data)."
    )
    secret_hash: str | None = Field(
        default=None,
        max_length=255,
        description=(
            "The salted (argon2) hash of a secret the request gave and its fingerprint leaves "
            "out (a new person's password): a retry must give the same one."
        ),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


IDEMPOTENCY_TABLE = table_of(IdempotencyRecord)


def purge_expired(session: Session, now: datetime, ttl_hours: int) -> int:
    """Delete the records older than the TTL (they replay nothing any more); returns how many."""
    result = session.connection().execute(
        delete(IDEMPOTENCY_TABLE).where(
            IDEMPOTENCY_TABLE.c.created_at < now - timedelta(hours=ttl_hours)
        )
    )
    return result.rowcount


def rename_case_references(
    session: Session, scope: str, renamed: dict[str, tuple[str, str]]
) -> int:
    """Replace the references of anonymised cases in the stored answers of `scope` (the care
    provider's): an import report, replayed for its key for up to the TTL, names each case by
    the care provider's own reference (`items[].external_ref`, and quoted in an issue's
    message), which links the file back to the person. `renamed` maps a case id (str) to its
    (old, new) reference; an item is the case's by its id, or by the old reference when a dry
    run named it before the case existed (no id). An issue's message is rewritten by the old
    reference alone, so one about a returning client's open case under that reference loses
    it too (more hidden, never less). Returns how many records changed."""
    by_ref = dict(renamed.values())
    changed = 0
    for record_id, body in session.connection().execute(
        select(IDEMPOTENCY_TABLE.c.id, IDEMPOTENCY_TABLE.c.response_body).where(
            IDEMPOTENCY_TABLE.c.scope == scope,
            IDEMPOTENCY_TABLE.c.response_body.is_not(None),
        )
    ):
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            continue
        text = json.dumps(body)
        if not any(old in text for old in by_ref) and not any(i in text for i in renamed):
            continue
        for item in body["items"]:
            if not isinstance(item, dict):
                continue
            # By id first: a returning client's open case has the reference of the closed
            # case it follows, and keeps it when that one is anonymised.
            if (pair := renamed.get(str(item.get("id")))) is not None:
                item["external_ref"] = pair[1]
            elif item.get("id") is None and (ref := item.get("external_ref")) in by_ref:
                item["external_ref"] = by_ref[ref]
        for issue in body.get("issues") or []:
            if isinstance(issue, dict) and isinstance(issue.get("message"), str):
                for old, new in by_ref.items():
                    issue["message"] = issue["message"].replace(f"'{old}'", f"'{new}'")
        session.connection().execute(
            update(IDEMPOTENCY_TABLE)
            .where(IDEMPOTENCY_TABLE.c.id == record_id)
            .values(response_body=body)
        )
        changed += 1
    return changed
