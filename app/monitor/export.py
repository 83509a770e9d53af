"""The monitor's figures as CSV."""

import csv
import io
from typing import Any


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """CSV with one header line; an empty cell is suppressed or does not apply."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()
