"""A titled table of plain strings: the unit the agenda and minutes pages share with the PDF
and the CSV."""

from dataclasses import dataclass, field


@dataclass
class Section:
    """A titled table of plain strings: what the PDF prints and the CSV lists."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    ids: list[tuple[str, str]] = field(default_factory=list)
    """Per row the full case and dwelling id (or ""), for the CSV."""
    weights: list[float] | None = None
    """Relative column widths in print (equal when not given)."""
