"""How many cells a worksheet spans, read from its XML before any reader loads it: both readers
give every position from A1 to the farthest cell a place in memory, so two cells far apart (A1
and XFD1048576: 17 billion) made python-calamine ask for 512 GB and abort the whole server
process; openpyxl also makes an object of every cell of a merged range and of a hyperlink's.
"""

import re
import sys
from typing import NamedTuple

MAX_CELLS = 5_000_000
"""The most cells a sheet may span. Filling a sheet takes some 20 bytes of XML a cell, so the
unpacked size limit (64 MB) holds about 3 million; the largest import (100,000 rows of some 40
columns) spans 4 million. A larger span is mostly empty."""

MAX_RANGED_CELLS = 100_000
"""The most cells a sheet's merged ranges, and apart its hyperlinks' ranges, may cover (a range
over the whole sheet hung the import with its memory growing); a few title rows merged across
the whole width (16,384 cells each) stay under it."""

UNBOUNDED = sys.maxsize
"""A measure this module cannot read (a reference written with character references, an XML
encoding other than UTF-8 or UTF-16): refused as too large."""


class Measures(NamedTuple):
    spanned: int  # rows times columns from A1 to the farthest cell, merged or linked one
    merged: int  # cells the merged ranges cover
    linked: int  # cells the hyperlinks' ranges cover


def measure(sheet_xml: bytes) -> Measures:
    """A sheet's `Measures`. A row or a cell without a reference (`r`) follows the one before
    it, as the readers place it; a tag with several references counts the farthest."""
    xml = _utf8(sheet_xml)
    if xml is None:
        return Measures(UNBOUNDED, UNBOUNDED, UNBOUNDED)
    cells = _cell_extent(xml)
    merged, linked = _ranges(xml, b"mergeCell"), _ranges(xml, b"hyperlink")
    if cells is None or merged is None or linked is None:
        return Measures(UNBOUNDED, UNBOUNDED, UNBOUNDED)
    rows = max(cells[0], merged[1], linked[1])
    columns = max(cells[1], merged[2], linked[2])
    return Measures(rows * columns, merged[0], linked[0])


_SHEET_DATA = [b"sheetData", "sheetData".encode("utf-16-le"), "sheetData".encode("utf-16-be")]


def holds_sheet_data(part: bytes) -> bool:
    """Whether a part of the workbook (in UTF-8 or UTF-16) holds a sheet's cells."""
    return any(marker in part for marker in _SHEET_DATA)


_UNIQUE_COUNT = re.compile(rb"""<(?:\w+:)?sst\b[^>]*?\suniqueCount\s*=\s*["']\+?([0-9]+)""")


def overstates_strings(part: bytes) -> bool:
    """Whether a part declares more shared strings (`<sst uniqueCount>`) than it has bytes for
    (each takes at least `<si/>`): python-calamine reserves room for the number declared, and
    `uniqueCount="4000000000"` asked for 96 GB and aborted the server process."""
    xml = _utf8(part)
    if xml is None:
        return b"sst" in part.replace(b"\x00", b"")
    if b"uniqueCount" not in xml:  # the pattern needs it; skip its pass over a whole sheet
        return False
    declared = _UNIQUE_COUNT.search(xml)
    return declared is not None and int(declared[1]) > len(xml) // 5 + 1


# --- cells ---------------------------------------------------------------------------------

_ANY_TAG = re.compile(rb"<(?:\w+:)?(?:row|c)\b")
# As Excel, LibreOffice and openpyxl write them: the reference first, in double quotes.
_PLAIN_ROW = re.compile(rb'<(?:\w+:)?row r="[0-9]{1,7}"[\s/>]')
_PLAIN_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]{1,3})([0-9]{1,7})"[\s/>]')
_ANY_REFERENCE = re.compile(rb"\sr\s*=")
# A row's or a cell's start tag (`<row ...>`, `<c ...>`; not `<cols>`, `<col>` or `<cfRule>`),
# its attributes read whole even where a quoted value holds a `>`.
_ROW_OR_CELL = re.compile(rb"""<(?:\w+:)?(row|c)\b((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_REFERENCE = re.compile(rb"""\sr\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_PLACE = re.compile(rb"([A-Za-z]{0,7})([0-9]{0,10})")


def _cell_extent(xml: bytes) -> tuple[int, int] | None:
    """(farthest row, farthest column) of the cells; None when a reference cannot be read."""
    cells = _PLAIN_CELL.findall(xml)
    plain = len(cells) + len(_PLAIN_ROW.findall(xml))
    # Each tag plainly referenced, and no `r` anywhere else (a second one in a tag): a
    # 5,000-row file in a third of the time of reading it tag by tag.
    if plain == len(_ANY_TAG.findall(xml)) == len(_ANY_REFERENCE.findall(xml)):
        if not cells:
            return 0, 0
        farthest = max({letters for letters, _ in cells}, key=lambda c: (len(c), c))
        return max(map(int, {digits for _, digits in cells})), _column_number(farthest)
    rows = columns = row = column = 0
    for tag in _ROW_OR_CELL.finditer(xml):
        places = [_PLACE.fullmatch(a or b) for a, b in _REFERENCE.findall(tag[2])]
        if any(place is None for place in places):
            return None
        letters = max((_column_number(p[1]) for p in places if p and p[1]), default=0)
        digits = max((int(p[2]) for p in places if p and p[2]), default=0)
        if tag[1] == b"row":
            row = digits or row + 1
            column = 0
            continue
        column = letters or column + 1
        rows = max(rows, digits or row)
        columns = max(columns, column)
    return rows, columns


# --- ranges --------------------------------------------------------------------------------

_RANGED = {
    name: re.compile(rb"<(?:\w+:)?" + name + rb"""\b((?:[^>"']|"[^"]*"|'[^']*')*)>""")
    for name in (b"mergeCell", b"hyperlink")
}
_RANGE = re.compile(rb"""\sref\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CORNERS = re.compile(rb"([A-Za-z]{1,7})([0-9]{1,10})(?::([A-Za-z]{1,7})([0-9]{1,10}))?")


def _ranges(xml: bytes, element: bytes) -> tuple[int, int, int] | None:
    """(cells covered, farthest row, farthest column) of the ranges (`ref`) of the sheet's
    `element`s (`mergeCell` or `hyperlink`); None when a range cannot be read."""
    covered = rows = columns = 0
    if element not in xml:  # most sheets have none: skip the pattern's pass over every `<`
        return covered, rows, columns
    for tag in _RANGED[element].finditer(xml):
        found = [_CORNERS.fullmatch(a or b) for a, b in _RANGE.findall(tag[1])]
        if not found:
            return None
        for corners in found:
            if corners is None:
                return None
            first_column, first_row = _column_number(corners[1]), int(corners[2])
            last_column = _column_number(corners[3]) if corners[3] else first_column
            last_row = int(corners[4]) if corners[4] else first_row
            covered += (abs(last_column - first_column) + 1) * (abs(last_row - first_row) + 1)
            rows = max(rows, first_row, last_row)
            columns = max(columns, first_column, last_column)
    return covered, rows, columns


# --- text ----------------------------------------------------------------------------------

_DECLARED = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([^"']*)["']""")


def _utf8(xml: bytes) -> bytes | None:
    """The XML as UTF-8 (UTF-16 by its byte-order mark is decoded); None in any other
    encoding, whose tags these patterns cannot see."""
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return xml.decode("utf-16").encode()
        except UnicodeDecodeError:
            return None
    declared = _DECLARED.match(xml.lstrip(b"\xef\xbb\xbf"))
    if declared and declared[1].lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return None
    return xml


def _column_number(letters: bytes) -> int:
    """`A` -> 1, `Z` -> 26, `AA` -> 27, for any number of letters."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number
