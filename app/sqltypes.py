"""Column types that behave the same on SQLite and PostgreSQL."""

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    DateTime,
    Dialect,
    String,
    Table,
    func,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

# Named constraints, so migrations can drop and alter them on both dialects. Set here because
# every model module imports this one before it defines a table.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Cents(TypeDecorator[Decimal]):
    """Money as a Decimal with two places in Python, stored as integer cents.

    Integer cents are exact on SQLite (which has no decimal type) and fast to compare.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_exact())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both dialects (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC timestamps")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StatusType(TypeDecorator[StrEnum]):
    """A status column: VARCHAR in the database (with a CHECK, see `one_of`), the StrEnum member
    in Python; binding a value outside the enum fails before it reaches the database."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def sql_in(column: str, values: Iterable[StrEnum]) -> str:
    """`column IN ('a', 'b')`, in the enum's order: for CHECKs and partial-index predicates,
    which must read the same in the models and the migrations."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def one_of(column: str, values: Iterable[StrEnum], name: str | None = None) -> CheckConstraint:
    """`CHECK (column IN (...))`, named `ck_<table>_<name or column>` by the naming convention."""
    return CheckConstraint(sql_in(column, values), name=name or column)


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[SQLModel]) -> Table:
    """The Core `Table` of a table model (its `__table__`), for statements on the table itself.

    The one place that reads `__table__`: SQLAlchemy sets it when the class is mapped, but
    SQLModel types its classes without it.
    """
    table: Table = model.__table__  # type: ignore[attr-defined]  # SQLModel's stubs omit it
    return table


def holds(session: Session, column: Any, part: str) -> ColumnElement[bool]:
    """`column` holds `part`, case and all, as a reference is keyed (`ABC-1` and `abc-1` are
    two): SQLite's LIKE ignores the case of ASCII letters."""
    if session.connection().dialect.name == "postgresql":
        return func.strpos(column, part) > 0
    return func.instr(column, part) > 0
