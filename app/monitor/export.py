"""The monitor's figures as CSV."""

import csv
import io
from typing import Any

from app.spreadsheet import safe_cell


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """CSV with one header line; an empty cell is suppressed or does not apply. Text that a
    spreadsheet would run as a formula (a group's name: an organisation or area name) is
    neutralised as the pages' CSVs are (`app.spreadsheet.safe_cell`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_value(row.get(c)) for c in columns])
    return buffer.getvalue()


def _value(value: Any) -> Any:
    if value is None:
        return ""
    return safe_cell(value) if isinstance(value, str) else value
