"""The stall sweep: `proposal.stalled` goes out when a proposal crosses its limit, and
`aftercare.checkpoint_due` when a follow-up checkpoint comes due, not only when someone happens
to read an agenda or the minutes of its table.

Every `UITSTROOM_STALL_SWEEP_SECONDS` each server process looks at every table with an open
proposal or a tenancy that has not ended, and records its stalls
(`open_proposals.record_stalls`) and due checkpoints (`aftercare.agenda.record_due`), one short
transaction per table. Every replica may sweep at once: the alert's primary key (proposal,
status) and the notice's (case, months) let one transaction insert the row and send the event,
the others find it there and send nothing.
"""

import logging

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.aftercare import agenda as aftercare
from app.aftercare.models import Tenancy, TenancyStatus
from app.agenda.open_proposals import record_stalls
from app.periodic import PeriodicJob
from app.proposals.models import OPEN_PROPOSAL, Proposal
from app.tables.models import OutflowTable

log = logging.getLogger(__name__)


def tables_with_open_proposals(session: Session) -> list[OutflowTable]:
    """The tables that have at least one open proposal or a tenancy that has not ended, in id
    order."""
    proposing = select(Proposal.table_id).where(col(Proposal.status).in_(OPEN_PROPOSAL))
    following = select(Tenancy.table_id).where(col(Tenancy.status) != TenancyStatus.ended)
    return list(
        session.exec(
            select(OutflowTable)
            .where(col(OutflowTable.id).in_(proposing) | col(OutflowTable.id).in_(following))
            .order_by(col(OutflowTable.id))
        )
    )


class StallSweep(PeriodicJob):
    """Sends the due `proposal.stalled` and `aftercare.checkpoint_due` events of every table
    every `interval` seconds (the first round at start), in a background thread of the server
    processes, one process per round (the job's lease, see `app.periodic`)."""

    name = "stall-sweep"
    leased = True

    def __init__(self, engine: Engine, interval: float) -> None:
        super().__init__(engine, interval)

    def run_once(self) -> int:
        """Record every table's new stalls and due checkpoints; returns how many events this
        run sent (a table that fails is logged and left for the next run, the others are still
        swept)."""
        with self.session() as session:
            table_ids = [t.id for t in tables_with_open_proposals(session)]
        sent = 0
        for table_id in table_ids:
            try:
                with self.session() as session:
                    table = session.get(OutflowTable, table_id)
                    if table is not None:
                        sent += record_stalls(session, table)
                        sent += aftercare.record_due(session, table)
                    session.commit()
            except Exception:
                log.exception("stall sweep of table %s failed", table_id)
        if sent:
            log.info("sent %d proposal.stalled / aftercare.checkpoint_due event(s)", sent)
        return sent
