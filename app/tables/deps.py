"""The table a route names by `table_id`, loaded and authorised for the caller (the HTTP edge of
`app.tables.service.get_table`)."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth import CurrentPrincipal
from app.db import SessionDep
from app.json_body import BodyMembers
from app.problems import Forbidden
from app.tables import service
from app.tables.models import OutflowTable


def valid_table(
    table_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> OutflowTable:
    """The table if the caller is the operator or one of its members; otherwise 404 as if it did
    not exist (never 403, which would tell another organisation that it exists)."""
    return service.get_table(session, principal, table_id)


TableDep = Annotated[OutflowTable, Depends(valid_table)]


def chaired_table(table: TableDep, principal: CurrentPrincipal) -> OutflowTable:
    """The table, for a route only its chair may use: 404 as `valid_table` for a caller not at
    it, then 403 for a member that does not chair it, before the body is validated (a member
    was told which fields were wrong, and only once it had fixed them that it may not write
    there at all)."""
    if principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("Only the table's chair may do this.")
    return table


ChairedTableDep = Annotated[OutflowTable, Depends(chaired_table)]


def table_to_change(
    table: TableDep, principal: CurrentPrincipal, body: BodyMembers
) -> OutflowTable:
    """The table, for a change of the table itself (its chair: the policy; the operator:
    anything): 404 as `valid_table`, then 403 for another member, and for the chair sending a
    field the operator manages (its name, chair, members, municipalities), before the body is
    validated."""
    if principal.is_operator:
        return table
    if principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("Only the chair or the operator may change a table.")
    service.refuse_chair_fields(body)
    return table


ChangeableTableDep = Annotated[OutflowTable, Depends(table_to_change)]
