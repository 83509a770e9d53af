"""`Idempotency-Key` for POSTs: a retried request gets the first answer instead of a duplicate.

The record is written in the same transaction as the effect, so either both exist or neither.
A replay of a creation answers 200 (nothing was created by the replay) with the stored body,
plus `Idempotent-Replayed: true`. The same key with another request is refused with 422.
"""

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import JSON, UniqueConstraint, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select

from app.auth import CurrentPrincipal
from app.db import SessionDep, app_settings
from app.ids import uuid7
from app.problems import Conflict, ProblemError
from app.sqltypes import UTCDateTime, utcnow

REPLAY_HEADERS = ("Location", "ETag")


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    scope: str = Field(max_length=64, description="Organisation id, or 'operator'.")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: Any = Field(sa_type=JSON)
    response_headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class IdempotencyKeyReused(ProblemError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key reused"


class Idempotency:
    def __init__(self, session: SessionDep, scope: str, key: str | None, request: Request):
        self.session = session
        self.scope = scope
        self.key = key
        self.request = request
        self.request_hash = ""

    def replay(self, payload: BaseModel) -> JSONResponse | None:
        """The stored answer when this key was used before, else None (go ahead)."""
        if not self.key:
            return None
        fingerprint = f"{self.request.method} {self.request.url.path}\n{payload.model_dump_json()}"
        self.request_hash = hashlib.sha256(fingerprint.encode()).hexdigest()
        ttl = timedelta(hours=app_settings(self.request).idempotency_ttl_hours)
        self.session.exec(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - ttl)  # type: ignore[arg-type]
        )
        record = self.session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == self.scope, IdempotencyRecord.key == self.key
            )
        ).first()
        if record is None:
            return None
        if record.request_hash != self.request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        status = 200 if record.status_code == 201 else record.status_code
        headers = {**record.response_headers, "Idempotent-Replayed": "true"}
        return JSONResponse(record.response_body, status_code=status, headers=headers)

    def respond(
        self, body: Any, status_code: int, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        """Answer, and remember the answer under the key (same transaction as the effect)."""
        # A model serialises itself (pydantic's own encoder): the same JSON as jsonable_encoder,
        # which would walk the dumped dict once more, at a cost on 1000-item batch answers.
        if isinstance(body, BaseModel):
            content = body.model_dump(mode="json", by_alias=True)
        else:
            content = jsonable_encoder(body)
        headers = headers or {}
        if self.key:
            self.session.add(
                IdempotencyRecord(
                    scope=self.scope,
                    key=self.key,
                    request_hash=self.request_hash,
                    status_code=status_code,
                    response_body=content,
                    response_headers={k: v for k, v in headers.items() if k in REPLAY_HEADERS},
                )
            )
            try:
                self.session.flush()
            except IntegrityError as exc:
                raise Conflict(
                    "Another request with this Idempotency-Key is being processed; retry later."
                ) from exc
        return JSONResponse(content, status_code=status_code, headers=headers)


def idempotency(
    session: SessionDep,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Makes a retried POST safe: the same key returns the first answer.",
        ),
    ] = None,
) -> Idempotency:
    scope = "operator" if principal.is_operator else str(principal.organisation_id)
    return Idempotency(session, scope, idempotency_key, request)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
