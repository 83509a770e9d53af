"""The live agenda: loads a table's inputs for a meeting date, runs the engine outside any
transaction, and cuts the result down to the caller's view.

The parts: `app.agenda.inputs` (what the engine is given), `app.agenda.document` (the table's
document), `app.agenda.views` (the views and their access log), `app.agenda.why_not`.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session

from app.access_log.service import AccessContext
from app.aftercare import agenda as aftercare
from app.agenda import open_proposals
from app.agenda.document import WHOLE, Encoded, Scope, compute_loaded
from app.agenda.inputs import Loaded, Owners, load, owners_of
from app.agenda.models import AgendaView
from app.agenda.paging import AgendaPage, cut
from app.agenda.views import log_cases_shown, restrict, scope_of, view_for
from app.database import outside_transaction
from app.tables.models import OutflowTable


def compute(
    session: Session,
    table: OutflowTable,
    on: date,
    top_k: int,
    time_budget: float,
    scope: Callable[[Owners], Scope] = lambda _: WHOLE,
    reuse: bool = False,
    encoded: Encoded | None = None,
) -> tuple[dict[str, Any], Owners, Loaded]:
    """The full (table-view) document for `on`, with the owners needed to cut views from it and
    what it was computed from; `scope` (given the owners) may leave out candidate entries the
    caller's view drops.

    Loads in the request's transaction, then commits it and computes outside any transaction
    (`app.db.outside_transaction`), so a big or slow table never holds the SQLite write lock or
    a PostgreSQL transaction while the engine runs; what the caller writes afterwards (the access
    log) goes into a new, short transaction. `reuse`: for a caller who sees every case only (see
    `app.agenda.inputs.run_engine`); `encoded`: see `app.agenda.document.compute_loaded`.
    """
    loaded = load(session, table, on)
    owners = owners_of(loaded.inputs)
    with outside_transaction(session):
        document = compute_loaded(loaded, top_k, time_budget, scope(owners), reuse, encoded)
    return document, owners, loaded


def with_open_proposals(
    session: Session, table: OutflowTable, document: dict[str, Any], on: date
) -> None:
    """Add the open proposals of the meetings before `on` to a (table-view) document, and send
    `proposal.stalled` for any newly stalled (`app.agenda.open_proposals`); the same for the
    aftercare section and `aftercare.checkpoint_due` (`app.aftercare.agenda`)."""
    document["open_proposals"] = open_proposals.open_proposals(session, table, before=on)
    open_proposals.record_stalls(session, table)
    document["aftercare"] = aftercare.section(session, table, on)
    aftercare.record_due(session, table)


def agenda(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    on: date,
    top_k: int,
    time_budget: float,
    page: AgendaPage,
) -> dict[str, Any]:
    """`page` of the live agenda for `on` as the caller may see it (`app.agenda.paging`),
    logging the cases it shows; `time_budget` is the solver's budget in seconds (see
    `app.agenda.inputs.run_engine`). Raises Conflict (`agenda_changed`) for a cursor made when
    the caller's view read otherwise, Unprocessable (`invalid_cursor`) for one of another
    agenda."""
    view = view_for(context, table)
    me = context.principal.require_organisation()
    encoded: Encoded = {}
    document, owners, _ = compute(
        session,
        table,
        on,
        top_k,
        time_budget,
        lambda owners: scope_of(view, me, owners),
        reuse=view == AgendaView.table,
        encoded=encoded,
    )
    with_open_proposals(session, table, document, on)
    scope = f"table {table.id} {on.isoformat()} {view.value} {me} {top_k}"
    restricted = cut(restrict(document, view, me, owners, live=True), page, scope, encoded)
    log_cases_shown(session, context, restricted, table.id)
    return restricted
