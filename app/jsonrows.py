"""Many rows as one JSON parameter, read back by PostgreSQL's `jsonb_populate_recordset`.

A multi-row `INSERT ... VALUES` of 1000 rows carries 28,000 parameters, which the driver and
the server take several times longer to handle than the same rows as one JSON document typed by
the table's own row type (measured in docs/benchmarks.md, ingest section).
"""

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, cast, func, literal_column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeDecorator


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date | datetime):  # a timestamp keeps its offset
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# The dialect the rows are read back on (no driver needed: our conversions only look at the
# value).
_POSTGRESQL = make_url("postgresql://").get_dialect()()


def json_rows(table: Table, rows: list[dict[str, Any]]) -> str:
    """`rows` ({column: value}) as a JSON array, each value as its column type stores it
    (a `TypeDecorator`'s own conversion applied: money as integer cents, UTC timestamps)."""
    converters = {
        c.name: c.type.process_bind_param
        for c in table.columns
        if isinstance(c.type, TypeDecorator)
        and type(c.type).process_bind_param is not TypeDecorator.process_bind_param
    }
    converted = [
        {
            name: converters[name](value, _POSTGRESQL) if name in converters else value
            for name, value in row.items()
        }
        for row in rows
    ]
    return json.dumps(converted, default=_default, separators=(",", ":"))


def recordset(table: Table, parameter: BindParameter[Any]) -> TableValuedAlias:
    """`jsonb_populate_recordset(NULL::<table>, CAST(:parameter AS jsonb))`: the JSON rows as
    rows of `table`'s type, with its column names (PostgreSQL only)."""
    rows = func.jsonb_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(parameter, JSONB)
    )
    return rows.table_valued(*(c.name for c in table.columns)).alias(f"given_{table.name}")
