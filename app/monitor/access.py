"""Who reads the monitor: whole figures for the chair and municipalities, suppressed ones for
the organisations that may not see the cases; every answer is written to the access log."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.monitor.facts import Facts
from app.organisations.models import OrganisationKind
from app.principal import MONITOR_FOR_ORGANISATIONS
from app.problems import Forbidden, Unprocessable
from app.tables.models import OutflowTable
from app.tables.service import reads_table
from app.timeutil import today

MAX_RANGE_DAYS = 366 * 10


def can_see_cases(context: AccessContext, table: OutflowTable) -> bool:
    """Chair and municipality members see whole figures; other members get suppressed ones.

    Raises Forbidden for the operator: the monitor is for the organisations at the table.
    """
    principal = context.principal
    if principal.is_operator:
        raise Forbidden(MONITOR_FOR_ORGANISATIONS)
    return reads_table(principal, table)


def log_export(session: Session, context: AccessContext, table: OutflowTable) -> None:
    """One access-log entry (`monitor_export`, no case) per answer."""
    access_log.record_export(session, context, AccessAction.monitor_export, table.id)


def check_range(start: date, end: date, *, end_omitted: bool = False) -> None:
    """A range runs forward and spans at most ten years (400 `invalid_range`, `range_too_long`).

    The problem names `end`, or `start` when the client omitted `end` (today then): a client
    can only correct a parameter it sent."""
    if end_omitted:
        name, before, too_long = (
            "start",
            "lies after end (today, when end is omitted)",
            "the range up to end (today, when end is omitted) is at most 10 years",
        )
    else:
        name, before, too_long = "end", "lies before start", "the range is at most 10 years"
    if end < start:
        raise Unprocessable(name, before, "invalid_range", "query")
    if (end - start).days > MAX_RANGE_DAYS:
        raise Unprocessable(name, too_long, "range_too_long", "query")


def checked_range(start: date | None, end: date | None, *, days: int) -> tuple[date, date]:
    """The range of an answer every viewer reads alike: `end` defaults to today, `start` to
    `days` before `end`; checked by `check_range`."""
    last = end or today()
    first = start or last - timedelta(days=days)
    check_range(first, last, end_omitted=end is None)
    return first, last


def viewer_range(
    viewer: "Viewer | None", start: date | None, end: date | None
) -> tuple[date, date]:
    """The range an answer covers: `end` defaults to today, `start` to 364 days before `end`; a
    range runs forward over at most ten years (`check_range`).

    A viewer who gets suppressed figures reads one calendar year at a time: `start` defaults to
    1 January of `end`'s year and the range widens to that whole year, since its answers are cut
    from one protected table per year. Two years are a 400 (`range_spans_years` on `start`), and
    so is a year after next (`year_too_late` on `end`): each year's table stands on the years
    before it."""
    if viewer is None:
        return checked_range(start, end, days=364)
    last = end or today()
    first = start or date(last.year, 1, 1)
    check_range(first, last, end_omitted=end is None)
    if first.year != last.year:
        raise Unprocessable(
            "start",
            "organisations that get suppressed figures read one calendar year at a time",
            "range_spans_years",
            "query",
        )
    check_year(last, "end")
    return date(first.year, 1, 1), date(last.year, 12, 31)


def check_year(day: date, name: str) -> None:
    """400 `year_too_late` on `name` for a day after next year (see `viewer_range`)."""
    if day.year > today().year + 1:
        raise Unprocessable(
            name,
            "figures for these organisations reach next year at most",
            "year_too_late",
            "query",
        )


@dataclass(frozen=True, slots=True)
class Viewer:
    """An organisation that gets suppressed figures, and what it knows from its own data: a care
    provider its cases (their dates, exits, housings and waiting days), a corporation the
    housings in its dwellings (not the cases' ready dates, so not their waiting days)."""

    organisation_id: uuid.UUID
    kind: OrganisationKind

    @property
    def is_care_provider(self) -> bool:
        return self.kind == OrganisationKind.care_provider

    def owns_case(self, care_provider_id: uuid.UUID) -> bool:
        return self.is_care_provider and care_provider_id == self.organisation_id

    def owns_housing(self, care_provider_id: uuid.UUID, corporation_id: uuid.UUID) -> bool:
        return self.owns_case(care_provider_id) or (
            self.kind == OrganisationKind.housing_corporation
            and corporation_id == self.organisation_id
        )

    def knows_waiting(self, care_provider_id: uuid.UUID) -> bool:
        return self.owns_case(care_provider_id)

    def own(self, facts: Facts) -> Facts:
        """The facts that are the viewer's own: its cases, the housings it took part in."""
        return Facts(
            [c for c in facts.cases if self.owns_case(c.care_provider_id)],
            [h for h in facts.housings if self.owns_housing(h.care_provider_id, h.corporation_id)],
        )


def viewer_of(context: AccessContext, table: OutflowTable) -> Viewer | None:
    """None for a viewer who sees whole figures (chair, municipalities), else the Viewer.

    Raises Forbidden for the operator.
    """
    if can_see_cases(context, table):
        return None
    principal = context.principal
    assert principal.organisation_id is not None and principal.organisation_kind is not None
    return Viewer(principal.organisation_id, principal.organisation_kind)
