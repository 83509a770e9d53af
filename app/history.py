"""A subject's history, one row after another: a proposal's decisions, a case's and an action's
status changes, a person's changes. Each new row sorts after the subject's last one, by id and
by moment, also when another server wrote that one."""

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, select
from sqlmodel import Session, SQLModel

from app.ids import after_last, uuid7_after


class Next(NamedTuple):
    """The id and moment of a subject's next history row."""

    id: uuid.UUID
    at: datetime


def next_after_last(
    session: Session, model: type[SQLModel], subject: ColumnElement[bool], moment: datetime
) -> Next:
    """The id and moment for a new row of `model` (a table with `id` and `at`) among the rows
    `subject` selects: `uuid7_after` the last row's id, and `moment` or, when that is not after
    the last row's, a microsecond after it (`after_last`). Two servers' ids within one
    millisecond are unordered and their clocks differ, so a row written just after another
    server's commit would otherwise list before it.

    Read while the caller holds the subject's row lock, or before it writes the subject with a
    version check that a later commit fails: the last row read is then the last committed. Read
    without autoflush: the caller flushes its pending change where it maps that change's
    constraint errors (`dates.flush_dates`: 409), not here (500)."""
    id_column, at_column = getattr(model, "id"), getattr(model, "at")  # noqa: B009
    with session.no_autoflush:
        last = session.execute(
            select(id_column, at_column).where(subject).order_by(id_column.desc()).limit(1)
        ).first()
    if last is None:
        return Next(uuid7_after(None), moment)
    return Next(uuid7_after(last[0]), after_last(moment, last[1]))
