"""Which dates a party may ask the live agenda for.

A care provider or corporation sees the live agenda only on the table's meeting dates. With any
date at will, stepping it one day at a time and comparing answers shows when a case starts or
stops fitting a dwelling (a registration period completed, a birthday, a hold lifted) and how
the table's counts move, which together reveal case details the views themselves hide. Meeting
dates are set by the chair, who sees the whole table anyway. The chair and municipalities keep
any date: they plan with it.
"""

import datetime as dt

from sqlmodel import Session, col, select

from app.agenda.models import AgendaView
from app.meetings.models import Meeting
from app.problems import Forbidden, NotFound
from app.tables.models import OutflowTable


def agenda_date(
    session: Session,
    view: AgendaView,
    table: OutflowTable,
    requested: dt.date | None,
    today: dt.date,
) -> dt.date:
    """The date the caller's live agenda is computed for.

    The table's view (its chair, municipalities): `requested`, else `today`. The parties' views:
    `requested` if the table has a meeting on it, else (no date asked) the first meeting on or
    after `today`.

    Raises:
        Forbidden: a party asked for a date on which the table has no meeting.
        NotFound: a party asked for no date and the table has no meeting from `today` on.
    """
    if view == AgendaView.table:
        return requested or today
    if requested is not None:
        held = select(Meeting.id).where(Meeting.table_id == table.id, Meeting.date == requested)
        if session.exec(held).first() is None:
            raise Forbidden(
                "Care providers and corporations see the agenda of the table's meeting dates "
                f"only; the table has no meeting on {requested.isoformat()}."
            )
        return requested
    upcoming = (
        select(Meeting.date)
        .where(Meeting.table_id == table.id, Meeting.date >= today)
        .order_by(col(Meeting.date))
    )
    next_date = session.exec(upcoming).first()
    if next_date is None:
        raise NotFound(
            f"The table has no meeting planned on or after {today.isoformat()}; "
            "the chair plans one (POST /v1/tables/{id}/meetings)."
        )
    return next_date
