"""The stored answers of `Idempotency-Key` requests, and their purge.

FastAPI-free, so the retention job can purge them; `app.idempotency` claims keys and replays
answers for the routes.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, UniqueConstraint, delete
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
