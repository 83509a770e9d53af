"""The order of a case's dates: ready, then the meeting that proposed it, then the move-in or the
exit. Checked where the dates are written, so that every history the API accepts adds up in the
monitor (backlog_end = previous backlog_end + new ready - housed - other exits, and waiting days
are never negative).

1. A move-in (`house` with `effective_date`) is never before the case's `ready_since`: 400
   `date_before_ready_since`. The database holds the same rule for a housed case
   (`ck_cases_housed_after_ready`), so two requests racing cannot break it either.
2. While the case is in an open proposal, `ready_since` cannot move past that proposal's meeting
   date (400 `ready_since_after_meeting`): the agenda proposed it because it was ready then, and
   the move-in, which is never before the meeting, stays after the ready date.
3. A withdrawal's `exit_date` is not before `ready_since` once the case is ready (400
   `exit_before_ready_since`). A case withdrawn while not yet ready (`ready_since` after today)
   left before it was ever ready: it never enters the figures.
4. While the case is in an open proposal it stays at its table (409 `case_in_proposal`): a
   housing is counted at the table of its case. The case lifecycle refuses the move
   (`app.cases.lifecycle`, event `move` in `proposed` and `nominated`).
5. A closed case (housed or withdrawn) changes no more (409 `case_closed`, in the case service),
   so neither date moves after the fact.
"""

from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.cases.models import Case
from app.meetings.models import Meeting
from app.problems import Conflict, Unprocessable
from app.proposals.models import OPEN_PROPOSAL, Proposal
from app.timeutil import today
from app.versioning import flush

HOUSED_AFTER_READY = "ck_cases_housed_after_ready"  # the CHECK constraint on `cases`


def check_move_in(case: Case, moved_in: date) -> None:
    """Rule 1: 400 `date_before_ready_since` when the move-in precedes the ready date."""
    if moved_in < case.ready_since:
        raise Unprocessable(
            "effective_date",
            f"before the case's ready date {case.ready_since}",
            "date_before_ready_since",
        )


def _first_open_meeting(session: Session, case: Case) -> date | None:
    return session.exec(
        select(col(Meeting.date))
        .join(Proposal, col(Proposal.meeting_id) == col(Meeting.id))
        .where(col(Proposal.case_id) == case.id, col(Proposal.status).in_(OPEN_PROPOSAL))
        .order_by(col(Meeting.date))
    ).first()


def check_ready_since(session: Session, case: Case, ready_since: date) -> None:
    """Rule 2: 400 `ready_since_after_meeting` when an open proposal's meeting precedes the new
    ready date."""
    if ready_since <= case.ready_since:
        return  # earlier is always possible: the case was ready at the meeting all the more
    meeting = _first_open_meeting(session, case)
    if meeting is not None and ready_since > meeting:
        raise Unprocessable(
            "ready_since",
            f"after the meeting of {meeting} that proposed the case; it was ready then",
            "ready_since_after_meeting",
        )


def check_exit_date(exit_date: date, ready_since: date) -> None:
    """Rule 3: 400 `exit_before_ready_since` for an exit before the ready date of a ready case."""
    if exit_date < ready_since <= today():
        raise Unprocessable(
            "exit_date",
            f"before the case's ready date {ready_since}",
            "exit_before_ready_since",
        )


def flush_dates(session: Session, if_match: str | None = None, what: str = "case") -> None:
    """Flush (`app.versioning.flush`: a lost race with `If-Match` is a 412), turning a race
    that broke rule 1 in the database into a 409 `dates_changed`."""
    try:
        flush(session, if_match, what)
    except IntegrityError as exc:
        if HOUSED_AFTER_READY not in str(exc.orig):
            raise
        raise Conflict(
            "The case's dates changed at the same time; reload the case and try again.",
            code="dates_changed",
        ) from exc
