"""Reading and replacing the limits of a year."""

from sqlmodel import Session, select

from app.limits.models import YearLimits, YearLimitsFields


def list_limits(session: Session) -> list[YearLimits]:
    return list(session.exec(select(YearLimits).order_by(YearLimits.year)))


def get_limits(session: Session, year: int) -> YearLimits | None:
    return session.get(YearLimits, year)


def put_limits(session: Session, year: int, data: YearLimitsFields) -> tuple[YearLimits, bool]:
    """Create or replace a year's limits; returns the row and whether it was created."""
    row = session.get(YearLimits, year)
    created = row is None
    values = data.model_dump()
    if row is None:
        row = YearLimits(year=year, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()
    return row, created
