"""`Idempotency-Key` for POSTs: a retried request gets the first answer instead of a duplicate.

The key is claimed before the effect, with an insert that conflicts on (scope, key), in the
request's own transaction:
- A second request with the same key while the first is still running waits on that insert
  (PostgreSQL holds it on the first one's uncommitted row; SQLite runs one writer at a time).
  When the first commits, the second replays its answer; when the first fails, its claim rolls
  back with everything else and the second goes ahead. A failed request never leaves the key
  claimed. After `UITSTROOM_IDEMPOTENCY_WAIT_SECONDS` the second gives up with 409
  `idempotency_key_in_progress` and `Retry-After`.
- The answer is written into the claimed record in the same transaction as the effect, so
  either both exist or neither, and no other request ever sees a claim without its answer.

A replay of a creation answers 200 (nothing was created by the replay) with
`Idempotent-Replayed: true`. The same key with another request is refused with 422. Records
expire after `UITSTROOM_IDEMPOTENCY_TTL_HOURS` (an expired key is claimed afresh) and are
deleted by the retention job. The table and its purge live in `app.idempotency_records`.

Answers that carry case data (a case file, a proposal with score components) are not stored:
their record keeps the request's hash, status, `Location` and the resource's id, and a replay
reads the resource again through the route's own read, with its access check and access-log
entry. So no copy of a case file outlives the file's own anonymisation or escapes the log.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, null, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.db import app_settings
from app.idempotency_records import IDEMPOTENCY_TABLE, IdempotencyRecord
from app.idempotency_records import purge_expired as purge_expired  # re-exported for the tests
from app.ids import uuid7
from app.people.security import verify_password
from app.principal import Principal
from app.problems import ProblemError
from app.sqltypes import utcnow

REPLAY_HEADERS = ("Location", "ETag")
# What a creating operation documents beside its 201: a replay created nothing, so it is a 200.
REPLAY_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "Replay of an earlier request with the same Idempotency-Key"}
}
LOCK_NOT_AVAILABLE = "55P03"
IN_PROGRESS_RETRY_AFTER = 1  # seconds


class InvalidIdempotencyKey(ProblemError):
    status, code, title = 400, "validation_error", "Invalid request"


class IdempotencyKeyReused(ProblemError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key reused"


class IdempotencyKeyInProgress(ProblemError):
    status, code, title = 409, "idempotency_key_in_progress", "Idempotency-Key in progress"

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry after "
            "Retry-After seconds to get its answer.",
            headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)},
        )


class NoBody(BaseModel):
    """What a POST that takes no body is fingerprinted with: the request is its path alone."""


NO_BODY = NoBody()


class Replayed(Exception):
    """Raised by a route's claim deep inside its service (`Idempotency.replay` at the point
    where the write's transaction begins) to hand the earlier request's answer back to it."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("replayed")
        self.response = response


Earlier = JSONResponse | None
"""An earlier request's answer to replay, or None (no earlier answer: go ahead)."""

Reread = Callable[[uuid.UUID], tuple[BaseModel, dict[str, str]]]
"""resource id -> (body, headers such as the current ETag), read with the caller's access."""


class Idempotency:
    """A request's `Idempotency-Key` (None: not sent). The route hands it the session and the
    caller in `replay`; the dependency (`idempotency`) reads the request alone."""

    def __init__(self, key: str | None, request: Request):
        self.key = key
        self.request = request
        self.session: Session | None = None
        self.scope = ""
        self.request_hash = ""
        self.record_id: uuid.UUID | None = None
        self.secret: str | None = None
        self.secret_checked = False

    def replay(
        self,
        session: Session,
        principal: Principal,
        payload: BaseModel,
        reread: Reread | None = None,
        *,
        secret: str | None = None,
    ) -> JSONResponse | None:
        """Claim the key for `principal` (keys are per organisation, or the operator's) in the
        request's `session`, and return None (go ahead), or the answer of the request that used
        it. Call it before the effect; `respond` then writes the answer into the claim.

        `reread` turns a stored resource id back into an answer; routes whose answers carry
        case data pass it (and `resource_id` to `respond`). Raises 422 for the key used with
        another request, 409 when the other request does not finish within the wait.

        `secret` is a part of the request the fingerprint leaves out (a new person's password:
        the record would keep an unsalted hash of it): `respond` stores its salted hash as the
        effect made it (`secret_hash`), and a replay needs the same secret (422 otherwise), so
        the answer depends on the first request alone, never on what the secret protects now.
        `secret_checked` then says a replay checked it.
        """
        self.secret = secret
        if not self._fingerprint(session, principal, payload):
            return None
        self.record_id = self._claim()
        if self.record_id is not None:
            return None
        record = session.exec(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.scope) == self.scope, col(IdempotencyRecord.key) == self.key
            )
        ).one()
        return self._answer(record, reread)

    def answered(self, session: Session, principal: Principal, payload: BaseModel) -> Earlier:
        """The answer of an earlier request with the key, as `replay` gives it, but without
        claiming the key: None when no live record has an answer yet. For a route that commits
        midway (`outside_transaction`, publishing a meeting): a claim before that commit would
        be committed without its answer (a key stuck in progress, also after a failure), so it
        claims (`replay`) in the transaction that writes, and asks this first, so that a retry
        is answered before the route's own checks refuse it (409 `already_published`)."""
        if not self._fingerprint(session, principal, payload):
            return None
        settings = app_settings(self.request)
        live = col(IdempotencyRecord.created_at) >= utcnow() - timedelta(
            hours=settings.idempotency_ttl_hours
        )
        record = session.exec(
            select(IdempotencyRecord).where(
                col(IdempotencyRecord.scope) == self.scope,
                col(IdempotencyRecord.key) == self.key,
                live,
            )
        ).first()
        if record is None or record.status_code is None:
            return None
        return self._answer(record, None)  # (a route that stores its answer whole)

    def _fingerprint(self, session: Session, principal: Principal, payload: BaseModel) -> bool:
        """Take the session and the key's scope, and hash the request; False without a key."""
        self.session = session
        self.scope = "operator" if principal.is_operator else str(principal.organisation_id)
        if not self.key:
            return False
        fingerprint = f"{self.request.method} {self._canonical_path()}\n{payload.model_dump_json()}"
        self.request_hash = hashlib.sha256(fingerprint.encode()).hexdigest()
        return True

    def _answer(self, record: IdempotencyRecord, reread: Reread | None) -> JSONResponse:
        """The answer an earlier request with the key stored, or 422 for another request."""
        if record.request_hash != self.request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        if record.secret_hash is not None:
            if self.secret is None or not verify_password(record.secret_hash, self.secret):
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used for a different request; use a new key."
                )
            self.secret_checked = True
        if record.status_code is None:
            # Committed before its answer: a route that commits midway (`outside_transaction`)
            # after claiming. Its answer may still come; until then, or until the record
            # expires, it is in progress.
            raise IdempotencyKeyInProgress()
        status = 200 if record.status_code == 201 else record.status_code
        headers = {**record.response_headers, "Idempotent-Replayed": "true"}
        if record.resource_id is None:
            return JSONResponse(record.response_body, status_code=status, headers=headers)
        if reread is None:
            raise RuntimeError(f"{self.request.url.path} stores a resource id but cannot reread")
        body, current = reread(record.resource_id)
        return JSONResponse(_content(body), status_code=status, headers={**headers, **current})

    def _canonical_path(self) -> str:
        """The path with every id in the path written as the route reads it: an organisation
        id in capitals or without hyphens names the same organisation, so a retry written so
        is the same request (a 422 before). For ids in their usual form this is the path."""
        template = getattr(self.request.scope.get("route"), "path_format", None)
        if template is None:
            return self.request.url.path
        return str(template).format(
            **{name: _canonical_id(value) for name, value in self.request.path_params.items()}
        )

    def _claim(self) -> uuid.UUID | None:
        """Insert the record, or take over an expired one; None when a live one exists.

        The insert waits for an uncommitted record with the same key; on PostgreSQL for at most
        the configured wait (a lock timeout for this one statement).
        """
        settings = app_settings(self.request)
        now = utcnow()
        assert self.session is not None  # set by `replay`
        connection = self.session.connection()
        postgres = connection.dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        statement = insert(IDEMPOTENCY_TABLE).values(
            id=uuid7(),
            scope=self.scope,
            key=self.key,
            request_hash=self.request_hash,
            status_code=None,
            response_body=null(),
            response_headers={},
            resource_id=None,
            secret_hash=None,
            created_at=now,
        )
        expired = IDEMPOTENCY_TABLE.c.created_at < now - timedelta(
            hours=settings.idempotency_ttl_hours
        )
        claim = statement.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={
                "request_hash": statement.excluded.request_hash,
                "status_code": None,
                "response_body": null(),
                "response_headers": statement.excluded.response_headers,
                "resource_id": None,
                "secret_hash": None,
                "created_at": statement.excluded.created_at,
            },
            where=expired,
        ).returning(IDEMPOTENCY_TABLE.c.id)
        if not postgres:
            return connection.execute(claim).scalar()
        previous = connection.execute(text("SELECT current_setting('lock_timeout')")).scalar()
        wait_ms = max(1, round(settings.idempotency_wait_seconds * 1000))
        connection.execute(
            text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": f"{wait_ms}ms"}
        )
        try:
            claimed = connection.execute(claim).scalar()
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise IdempotencyKeyInProgress() from exc
            raise
        connection.execute(
            text("SELECT set_config('lock_timeout', :previous, true)"), {"previous": previous}
        )
        return claimed

    def release(self) -> None:
        """Give up the claim in the request's transaction: for a route that answers a refusal
        without raising (a page showing it), which stored nothing. A later request with the key
        then runs afresh, as after a refusal that rolls the claim back."""
        if self.record_id is not None:
            assert self.session is not None  # claimed by `replay`
            self.session.connection().execute(
                delete(IDEMPOTENCY_TABLE).where(IDEMPOTENCY_TABLE.c.id == self.record_id)
            )
            self.record_id = None

    def respond(
        self,
        body: Any,
        status_code: int,
        headers: dict[str, str] | None = None,
        *,
        resource_id: uuid.UUID | None = None,
        secret_hash: str | None = None,
    ) -> JSONResponse:
        """Answer, and write the answer into the claimed record (same transaction as the
        effect). With `resource_id`, the body is not stored: a replay reads it again. With
        `secret_hash` (the salted hash the effect made of `replay`'s `secret`), a replay
        checks its secret against it."""
        headers = headers or {}
        stored = self.record_id is not None and resource_id is None
        if isinstance(body, BaseModel):
            # A model serialises itself to JSON in one step (pydantic's own encoder), rather
            # than to a dict for the standard library to encode: the same document, at a
            # fraction of the cost on a 1000-item batch answer.
            rendered = body.model_dump_json(by_alias=True).encode()
            content = json.loads(rendered) if stored else None
            response: JSONResponse = _RenderedJSON(rendered, status_code, headers)
        else:
            content = jsonable_encoder(body)
            response = JSONResponse(content, status_code=status_code, headers=headers)
        if self.record_id is not None:
            assert self.session is not None  # claimed by `replay`
            self.session.connection().execute(
                update(IDEMPOTENCY_TABLE)
                .where(IDEMPOTENCY_TABLE.c.id == self.record_id)
                .values(
                    status_code=status_code,
                    response_body=content if stored else null(),
                    response_headers={k: v for k, v in headers.items() if k in REPLAY_HEADERS},
                    resource_id=resource_id,
                    secret_hash=secret_hash,
                )
            )
        return response


def _canonical_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


class _RenderedJSON(JSONResponse):
    """A JSON answer whose body is already encoded."""

    def render(self, content: Any) -> bytes:
        assert isinstance(content, bytes)
        return content


def _content(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(body)


async def idempotency(
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
    """The request's key, claimed later by `Idempotency.replay`. Async: no I/O here, so no
    hand-over to the thread pool (`app.db.request_settings`). It takes no session or caller:
    FastAPI 0.142 walks a dependency's whole subtree again on every path to it (the cache only
    spares the calls), so depending on the caller here walked authentication's subtree a second
    time on every POST; the route hands both to `replay`.

    Raises InvalidIdempotencyKey (400) when the header comes more than once: FastAPI would
    read one of them, so a retry carrying the other could run twice. (An empty one is a 400
    from the header's own `min_length`.)"""
    given = request.headers.getlist("idempotency-key")
    if len(given) > 1:
        raise InvalidIdempotencyKey(
            "Idempotency-Key given more than once.",
            invalidParams=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "code": "repeated_parameter",
                    "reason": "This header takes one key; give it once.",
                }
            ],
        )
    return Idempotency(idempotency_key, request)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
