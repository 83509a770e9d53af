"""Per-caller rate limits on the expensive endpoints: a token bucket per (caller, endpoint class)
in the database, taken from with one conditional UPDATE, so the limit holds across server
processes (a process-local counter would multiply the limit by the number of replicas).

A bucket holds at most `per_minute` tokens and refills at `per_minute` per minute; a request
takes one. The UPDATE refills and takes in one statement and only where a whole token is left, so
two processes cannot both take the last token (each row update is atomic on SQLite and
PostgreSQL); the first request of a caller inserts its bucket (ON CONFLICT DO NOTHING, then the
UPDATE again if another request inserted it first).
"""

import math
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.rate_limits.models import RateBucket
from app.settings import Settings
from app.sqltypes import table_of

BUCKETS = table_of(RateBucket)


ORGANISATION_BUDGETS = 10
"""An organisation's keys and people together draw at most this many budgets: as many as the
unrevoked keys it may hold (`app.organisations.service.MAX_ACTIVE_API_KEYS`)."""


class EndpointClass(StrEnum):
    """What a request costs the service; each has its own budget (settings)."""

    agenda = "agenda"  # computing an agenda (live or frozen) or a page or file of it
    publish = "publish"  # publishing a meeting: an agenda computed and written
    why_not = "why_not"  # explanations: cheap, but each one reveals rule outcomes of a case
    monitor = "monitor"  # the monitor's aggregations over years of history
    batch = "batch"  # batch ingest of vacancies
    # hashing a password (argon2, about a third of a second of CPU): a new person, a new password
    password = "password"


def per_minute(settings: Settings, endpoint_class: EndpointClass) -> int:
    """The budget of `endpoint_class` in requests per minute (also the burst size)."""
    return int(getattr(settings, f"rate_limit_{endpoint_class.value}_per_minute"))


@dataclass(frozen=True, slots=True)
class Refusal:
    retry_after: int  # whole seconds until a token is back


def take(
    session: Session, subject: str, endpoint_class: EndpointClass, budget: int, now: float
) -> Refusal | None:
    """Take one token from the caller's bucket; None when allowed, else when to retry.

    `now` is Unix time in seconds. A clock that goes back (another process's) refills nothing.
    """
    capacity, rate = float(budget), budget / 60.0
    key = (BUCKETS.c.subject == subject) & (BUCKETS.c.endpoint_class == endpoint_class.value)
    elapsed = case((BUCKETS.c.refilled_at < now, now - BUCKETS.c.refilled_at), else_=0.0)
    refilled = BUCKETS.c.tokens + elapsed * rate
    level = case((refilled > capacity, capacity), else_=refilled)
    taken = (
        update(BUCKETS)
        .where(key, level >= 1)
        .values(
            tokens=level - 1,
            refilled_at=case((BUCKETS.c.refilled_at < now, now), else_=BUCKETS.c.refilled_at),
        )
    )
    if session.exec(taken).rowcount == 1:
        return None
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = (
        insert(BUCKETS)
        .values(
            subject=subject,
            endpoint_class=endpoint_class.value,
            tokens=capacity - 1,
            refilled_at=now,
        )
        .on_conflict_do_nothing()
        .returning(BUCKETS.c.subject)
    )
    if session.execute(created).first() is not None:  # inserted (rowcount is not reliable here)
        return None
    if session.exec(taken).rowcount == 1:
        return None  # the row appeared meanwhile, or tokens came back
    current = session.execute(select(level).where(key)).scalar_one()
    return Refusal(retry_after=max(1, math.ceil((1 - float(current)) / rate)))


FULL_AFTER_SECONDS = 60.0 + 300.0
"""A bucket refills from empty to full in a minute (its budget per minute, `per_minute`); five
minutes more allow for server clocks that disagree. Past that its row says nothing a missing row
would not (a first request inserts a full bucket)."""


def forget_full_buckets(session: Session, now: float) -> int:
    """Delete the buckets untouched for `FULL_AFTER_SECONDS` (`now` is Unix time in seconds);
    returns how many. Run by the retention job: without it every key, person and organisation
    that ever made a request kept a row per endpoint class, revoked keys and deleted people
    too. A request taking from a bucket at the same moment sets its `refilled_at` to now, so the
    DELETE, which re-checks the condition on the row it waited for, leaves that one alone."""
    stale = delete(BUCKETS).where(BUCKETS.c.refilled_at < now - FULL_AFTER_SECONDS)
    return int(session.exec(stale).rowcount)
