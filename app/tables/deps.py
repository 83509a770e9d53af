"""The table a route names by `table_id`, loaded and authorised for the caller (the HTTP edge of
`app.tables.service.get_table`)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth import CurrentPrincipal
from app.db import SessionDep
from app.tables import service
from app.tables.models import OutflowTable


def valid_table(
    table_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> OutflowTable:
    """The table if the caller is the operator or one of its members; otherwise 404 as if it did
    not exist (never 403, which would tell another organisation that it exists)."""
    return service.get_table(session, principal, table_id)


TableDep = Annotated[OutflowTable, Depends(valid_table)]
