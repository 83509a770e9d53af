"""Who reads the monitor: whole figures for the chair and municipalities, suppressed ones for
the organisations that may not see the cases; every answer is written to the access log."""

from datetime import date

from sqlmodel import Session

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.organisations.models import OrganisationKind
from app.problems import Forbidden, Unprocessable
from app.tables.models import OutflowTable

MAX_RANGE_DAYS = 366 * 10


def can_see_cases(context: AccessContext, table: OutflowTable) -> bool:
    """Chair and municipality members see whole figures; other members get suppressed ones.

    Raises Forbidden for the operator: the monitor is for the organisations at the table.
    """
    principal = context.principal
    if principal.is_operator:
        raise Forbidden("The monitor is for the organisations at the table.")
    return (
        principal.organisation_id == table.chair_organisation_id
        or principal.organisation_kind == OrganisationKind.municipality
    )


def log_export(session: Session, context: AccessContext, table: OutflowTable) -> None:
    """One access-log entry (`monitor_export`, no case) per answer."""
    access_log.record_export(session, context, AccessAction.monitor_export, table.id)


def check_range(start: date, end: date) -> None:
    """A range runs forward and spans at most ten years (422 `invalid_range`, `range_too_long`)."""
    if end < start:
        raise Unprocessable("end", "lies before start", "invalid_range", "query")
    if (end - start).days > MAX_RANGE_DAYS:
        raise Unprocessable("end", "the range is at most 10 years", "range_too_long", "query")
