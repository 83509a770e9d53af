"""One left-unhoused case's best alternative whole: the agenda lists, per case left unhoused,
only the first `candidates` of the proposals its alternative changes (`displaced`, with
`displaced_count`) and of the cases it houses besides (`also_housed`); this gives all of them.

Computed as the agenda of the date computes it (the same inputs, `app.agenda.inputs.run_engine`,
the same budget), so the entry is the agenda's own: the same dwelling, counts and trade-off, and
the agenda's `displaced` is the head of this list. Why-not on the same pair re-solves with the
pair forced and may name another alternative of equal worth; this one is the agenda's. Who may
ask is who sees the entry in the agenda: the table, and the case's own care provider (other
providers' cases without id or score, no alternative's totals, as in its agenda). Every case the
answer names is in the access log. A published meeting's frozen entry is served by
`app.meetings.alternatives` through `alternative_view`, `check_visible` and `shown`, so both
answer alike.
"""

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.agenda.document import _also_housed, _changes
from app.agenda.inputs import load, owners_of, run_engine
from app.agenda.models import AgendaView
from app.agenda.views import _hide_other_cases, view_for
from app.database import outside_transaction
from app.meetings.models import Meeting, MeetingStatus
from app.problems import Forbidden, NotFound
from app.tables.models import OutflowTable


def alternative_view(context: AccessContext, table: OutflowTable) -> AgendaView:
    """The caller's view of the table, if it may ask for a case's alternative at all.

    Raises Forbidden for a corporation: an alternative is case detail."""
    view = view_for(context, table)
    if view == AgendaView.housing_corporation:
        raise Forbidden("A case's alternative is case detail; ask the table's chair.")
    return view


def check_visible(
    context: AccessContext, view: AgendaView, case_owners: dict[str, str], case_id: uuid.UUID
) -> None:
    """Raises NotFound unless `case_id` is on an agenda whose cases belong to `case_owners`
    (case id -> care provider id) and, for a care provider, is its own: another provider's
    case answers as one not on the agenda."""
    owner = case_owners.get(str(case_id))
    me = str(context.principal.organisation_id)
    if owner is None or (view == AgendaView.care_provider and owner != me):
        raise NotFound("No such case on this agenda (see why-not for the reason).")


def shown(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    view: AgendaView,
    case_owners: dict[str, str],
    entry: dict[str, Any],
    displaced: list[dict[str, Any]],
    also_housed: list[dict[str, Any]] | None,
    on: date,
) -> dict[str, Any]:
    """The answer for `entry` (an agenda's `left_unhoused` entry as the table sees it, its own
    `displaced` and `also_housed` left aside) with `displaced`, every change of its
    alternative, and `also_housed`, every case it houses besides (None: a meeting frozen
    before they were kept), cut for `view`; every case it names goes to the access log."""
    table_view = view == AgendaView.table
    me = str(context.principal.organisation_id)

    def cut(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return (
            listed
            if table_view
            else _hide_other_cases(listed, lambda c: case_owners.get(str(c)) == me)
        )

    answer: dict[str, Any] = {
        "case_id": entry["case_id"],
        "date": on.isoformat(),
        "vacancy_id": entry["vacancy_id"],
        "score": entry["score"],
        # The table's count give or take one, and totals over others' cases: the table's only.
        "housed_if_given": entry["housed_if_given"] if table_view else None,
        "total_score_if_given": entry["total_score_if_given"] if table_view else None,
        "trade_off": entry["trade_off"],
        "displaced": cut(displaced),
        "displaced_count": len(displaced),
        "also_housed": None if also_housed is None else cut(also_housed),
        "also_housed_count": None if also_housed is None else len(also_housed),
    }
    named = {entry["case_id"]} | {
        c["case_id"] for c in (*answer["displaced"], *(answer["also_housed"] or [])) if c["case_id"]
    }
    access_log.record(
        session, context, AccessAction.agenda, [(uuid.UUID(c), table.id) for c in sorted(named)]
    )
    return answer


def read_without_entry(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    case_id: uuid.UUID,
    detail: str,
    code: str | None = None,
) -> NotFound:
    """The 404 for a case `check_visible` let through that has no (whole) entry to give. Its
    detail differs from a case not on the agenda, so it tells the caller that the case is on
    it (ready and open on that date): a read of the case, logged as the answer it stands for
    would be, and committed now, as the refused request is rolled back."""
    access_log.record(session, context, AccessAction.agenda, [(case_id, table.id)])
    session.commit()
    return NotFound(detail, code=code)


def best_alternative(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    case_id: uuid.UUID,
    on: date,
    time_budget: float,
) -> dict[str, Any]:
    """The agenda of `on`'s `left_unhoused` entry of `case_id` with every proposal its
    alternative changes: {case_id, date, vacancy_id, score, housed_if_given,
    total_score_if_given, trade_off, displaced: [{case_id, vacancy_id, score,
    moves_to_vacancy_id}], displaced_count, also_housed: [{case_id, vacancy_id, score}],
    also_housed_count}. `time_budget`: the solver's, in seconds.

    Raises Forbidden for a corporation (no case detail), NotFound when the case is not on the
    agenda of `on` or, for a care provider, not its own (the same answer), and NotFound when the
    agenda has no such entry for it (it is proposed, no dwelling fits it, the check was cut
    short: the agenda's `summary.passed_over_complete`, or the date's meeting is published; the
    detail then names the meeting's own endpoint).
    """
    view = alternative_view(context, table)
    loaded = load(session, table, on)
    owners = owners_of(loaded.inputs)["cases"]
    check_visible(context, view, owners, case_id)
    with outside_transaction(session):
        # One candidate each: the lists are not part of the answer.
        result = run_engine(loaded.inputs, loaded.usage, 1, time_budget, view == AgendaView.table)
    entry = next((u for u in result.left_unhoused if u.case_id == str(case_id)), None)
    if entry is None:
        raise read_without_entry(
            session, context, table, case_id, _not_left_unhoused(session, table, on, case_id)
        )
    found = {
        "case_id": entry.case_id,
        "vacancy_id": entry.dwelling_id,
        "score": entry.score,
        "housed_if_given": entry.housed_if_given,
        "total_score_if_given": entry.total_score_if_given,
        "trade_off": entry.trade_off,
    }
    displaced, also_housed = _changes(entry.displaced), _also_housed(entry.also_housed)
    return shown(session, context, table, view, owners, found, displaced, also_housed, on)


def _not_left_unhoused(session: Session, table: OutflowTable, on: date, case_id: uuid.UUID) -> str:
    published = session.exec(
        select(Meeting.id).where(
            Meeting.table_id == table.id,
            Meeting.date == on,
            Meeting.status == MeetingStatus.published,
        )
    ).first()
    if published is not None:
        return (
            "The date's meeting is published and its proposals hold the dwellings, so the live "
            "agenda of this date leaves this case out of `left_unhoused`. The agenda frozen at "
            "publication gives the case's whole alternative: "
            f"GET /v1/meetings/{published}/agenda/cases/{case_id}/alternative."
        )
    return (
        "The agenda of this date leaves this case out of `left_unhoused`: it is proposed, "
        "no dwelling fits it, or the check was cut short (see the agenda's "
        "`passed_over_complete`)."
    )
