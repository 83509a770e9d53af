"""The table a contingent agreement's write names, loaded and authorised before the body is
validated: a care provider or corporation at the table was told which fields of the agreement
were wrong (400), and only once it had fixed them that it may not record one at all."""

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.access_log.deps import AccessContextDep, MonitorContext
from app.db import SessionDep
from app.monitor import contingent
from app.monitor.contingent import require_corporation_at
from app.monitor.models import ContingentAgreement
from app.problems import Forbidden
from app.schemas import YearDigits
from app.tables.models import OutflowTable
from app.tables.service import get_table, reads_table


def recording_table(
    table_id: uuid.UUID, context: AccessContextDep, session: SessionDep
) -> OutflowTable:
    """The table, for a municipality at it (the chair among them) recording what a corporation
    agreed: 404 as for a table that does not exist for a caller not at it, then 403 for the
    other members."""
    table = get_table(session, context.principal, table_id)
    if not reads_table(context.principal, table):
        raise Forbidden("Municipalities at the table record contingent agreements.")
    return table


RecordingTableDep = Annotated[OutflowTable, Depends(recording_table)]


def recording_corporation(
    corporation_id: uuid.UUID, table: RecordingTableDep, session: SessionDep
) -> uuid.UUID:
    """The corporation a contingent agreement's write names, for a caller that may record one:
    404 before the body is judged when it is no corporation at the table (the chair was told
    which fields of the agreement were wrong, and only once it had fixed them that there is
    no such corporation)."""
    require_corporation_at(session, table, corporation_id)
    return corporation_id


RecordingCorporationDep = Annotated[uuid.UUID, Depends(recording_corporation)]


def readable_agreement(
    table_id: uuid.UUID,
    year: Annotated[YearDigits, Path()],
    corporation_id: uuid.UUID,
    context: MonitorContext,
    session: SessionDep,
) -> ContingentAgreement:
    """The contingent agreement a read names, for a reader that may see it: 404 when there is
    none or it is another corporation's, before the query is judged (another corporation was
    told the route's query keys first, 400, and 404 only without them)."""
    table = get_table(session, context.principal, table_id)
    return contingent.visible_agreement(session, context, table, year, corporation_id)


ReadableAgreementDep = Annotated[ContingentAgreement, Depends(readable_agreement)]
