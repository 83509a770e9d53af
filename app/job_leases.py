"""Which replica runs a periodic job this round: one lease row per job in the database.

Every server process (every `serve --workers` worker, every replica on one PostgreSQL) starts
the same periodic jobs. Jobs whose work is the same wherever it runs (the retention job, the
stall sweep) claim the job's lease first: a conditional update moves the row's `due_at` one
interval ahead only if it is due, so of the processes that look in the same round exactly one
sees its update match a row and runs; the others wait for the next round. The database decides,
not a process lock, so this holds across processes and machines.

A process that claims and then dies before it finishes leaves the work to the next round (one
interval later); the jobs are idempotent, so a round that ran partly is completed then.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from app.sqltypes import UTCDateTime, table_of


class JobLease(SQLModel, table=True):
    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=40, description="The periodic job's name.")
    due_at: datetime = Field(
        sa_type=UTCDateTime, description="When the next round may start (UTC)."
    )
    holder: str | None = Field(
        default=None, max_length=80, description="The process that claimed the last round."
    )
    claimed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When the last round was claimed (UTC)."
    )


PROCESS_ID = f"{uuid.uuid4().hex[:12]}"
"""This process's name in `holder` (pid numbers repeat across machines and restarts)."""


def claim_round(session: Session, name: str, interval: timedelta, now: datetime) -> bool:
    """Claim this round of job `name` for this process; True if it is ours to run.

    The round is ours when the lease is due (`due_at <= now`, or no lease yet) and our
    conditional update moved `due_at` to `now + interval` first. The caller commits (with the
    job's work, or right away for long jobs: until the commit other processes wait on the row's
    lock on PostgreSQL, and on SQLite on the write lock).
    """
    leases = table_of(JobLease)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.connection().execute(
        insert(leases).values(name=name, due_at=now).on_conflict_do_nothing(index_elements=["name"])
    )
    claimed = session.connection().execute(
        update(leases)
        .where(leases.c.name == name, leases.c.due_at <= now)
        .values(due_at=now + interval, holder=PROCESS_ID, claimed_at=now)
    )
    return claimed.rowcount == 1
