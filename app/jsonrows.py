"""Many rows in one statement: as one JSON parameter, read back by PostgreSQL's
`jsonb_populate_recordset`, or as the driver's own parameter tuples for an `executemany`.

A multi-row `INSERT ... VALUES` of 1000 rows carries 28,000 parameters, which the driver and
the server take several times longer to handle than the same rows as one JSON document typed by
the table's own row type (measured in docs/benchmarks.md, ingest section).
"""

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Dialect, Table, cast, func, literal_column
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


def json_rows(table: Table, columns: Mapping[str, Sequence[Any]]) -> str:
    """The rows given as columns ({column: [value of each row]}, the same length each) as a
    JSON array of objects, each value as its column type stores it (a `TypeDecorator`'s own
    conversion applied: money as integer cents, UTC timestamps), converted column by column
    like `driver_rows`."""
    names = list(columns)
    converted_columns = []
    for name in names:
        kind = table.c[name].type
        convert: Callable[[Any], Any] = _json_scalar
        if (
            isinstance(kind, TypeDecorator)
            and type(kind).process_bind_param is not TypeDecorator.process_bind_param
        ):
            convert = _stored(kind)
        converted_columns.append(converted(convert, columns[name]))
    rows = [
        dict(zip(names, values, strict=True)) for values in zip(*converted_columns, strict=True)
    ]
    return json.dumps(rows, separators=(",", ":"))


def _json_scalar(value: Any) -> Any:
    return _default(value) if isinstance(value, uuid.UUID | date | datetime) else value


def _stored(kind: TypeDecorator[Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return _json_scalar(kind.process_bind_param(value, _POSTGRESQL))

    return convert


def driver_rows(
    table: Table, dialect: Dialect, columns: Mapping[str, Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """The rows given as columns ({column: [value of each row]} for every column of `table`,
    the same length each) as the driver's parameter tuples in the table's column order, each
    value converted as SQLAlchemy would bind it on `dialect`.

    Column by column: a conversion is looked up once per column, not once per value, and a
    column with one value in all rows (a timestamp, the owner) is converted once."""
    converted_columns: list[Sequence[Any]] = []
    for column in table.columns:
        values = columns[column.name]
        process = column.type._cached_bind_processor(dialect)  # SQLAlchemy's own cache
        converted_columns.append(values if process is None else converted(process, values))
    return list(zip(*converted_columns, strict=True))


def converted(process: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """`process` applied to each value, once per distinct value (most columns of a batch
    repeat a few values: flags, dates, the table); lists are told apart by their items. The
    values are told apart and looked up by dict operations in C, not one by one in Python."""
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # lists (unhashable): keyed by their items
        keys = [(list, *value) if isinstance(value, list) else value for value in values]
        done: dict[Any, Any] = {}
        try:
            for key, value in zip(keys, values, strict=True):
                if key not in done:
                    done[key] = process(value)
        except TypeError:  # unhashable inside a list too: convert every value
            return [process(value) for value in values]
        return list(map(done.__getitem__, keys))
    if len(distinct) == len(values):  # all different (ids): nothing to share
        return list(map(process, values))
    table = {value: process(value) for value in distinct}
    return list(map(table.__getitem__, values))


def recordset(table: Table, parameter: BindParameter[Any]) -> TableValuedAlias:
    """`jsonb_populate_recordset(NULL::<table>, CAST(:parameter AS jsonb))`: the JSON rows as
    rows of `table`'s type, with its column names (PostgreSQL only)."""
    rows = func.jsonb_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(parameter, JSONB)
    )
    return rows.table_valued(*(c.name for c in table.columns)).alias(f"given_{table.name}")
