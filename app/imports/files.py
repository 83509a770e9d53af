# Size: one reading of a file in order (sniff, XLSX or CSV, header, columns); a seam: CSV and XLSX.
"""Turning an uploaded file into a grid of cells with the row numbers a spreadsheet shows, or a
precise refusal: not a spreadsheet, an old or protected Excel file, the wrong sheet, merged
cells, unknown, missing or repeated columns, text that is not UTF-8, a comma where semicolons
belong, too many rows.

XLSX is read with python-calamine (a Rust reader, about 14x faster than openpyxl on a 5,000-row
file) when the sheets hold only plain values, and with openpyxl (with defusedxml installed, so
XML bombs are refused) when a sheet has formulas, error values or merged cells, which need its
cell-level detail for their messages; both give the same values for the same file. CSV is
semicolon-separated UTF-8, with or without a byte-order mark, as Dutch spreadsheet programs
write it ("CSV UTF-8").
"""

import contextlib
import csv
import difflib
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from app.imports.cells import ErrorValue, Formula, is_empty
from app.imports.columns import LAYOUTS, Column, Layout, normalise_header, trim
from app.imports.extent import (
    MAX_CELLS,
    MAX_RANGED_CELLS,
    Measures,
    holds_sheet_data,
    measure,
    overstates_strings,
)
from app.imports.messages import quoted
from app.problems import PayloadTooLarge

# An XLSX is a zip of XML: bound what it may unpack to, whatever its compressed size.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
EXPLANATION_SHEET = "Toelichting"
TITLE_ROWS = 3  # rows above the header passed over (a title, a date)
# Column headers that ask for what a case file must never hold (domain.md: no names, no BSN,
# no free text); named in the refusal so that nobody "fixes" it by renaming the column.
FORBIDDEN_HEADERS = frozenset(
    [
        "naam",
        "voornaam",
        "achternaam",
        "roepnaam",
        "bsn",
        "burgerservicenummer",
        "geboortedatum",
        "adres",
        "telefoon",
        "telefoonnummer",
        "e-mail",
        "email",
        "opmerking",
        "opmerkingen",
        "toelichting",
        "notitie",
        "notities",
        "diagnose",
    ]
)


@dataclass(slots=True)
class Issue:
    """One thing wrong with the file, a row or a cell; `message` is Dutch."""

    code: str
    message: str
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    field: str | None = None


@dataclass(slots=True)
class Grid:
    format: str  # xlsx | csv
    sheet: str | None
    columns: list[tuple[int, str, Column]] = field(default_factory=list)  # (index, header, column)
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells)
    skipped_empty_rows: int = 0
    date1904: bool = False  # the workbook counts dates from 1904 (Mac Excel), not 1900


class FileRefused(Exception):
    """The file as a whole cannot be imported; nothing of it was read into the database."""

    def __init__(self, issues: list[Issue], format: str | None = None, sheet: str | None = None):
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues
        self.format = format
        self.sheet = sheet


def refuse(code: str, message: str, **where: Any) -> FileRefused:
    return FileRefused([Issue(code, message, **where)])


def size_text(size: int) -> str:
    """`2 kB`, `5 MB`: a byte count as people read it."""
    return f"{size / 1024 / 1024:.3g} MB" if size >= 1024 * 1024 else f"{size // 1024} kB"


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """The uploaded file, read no further than `limit` bytes.

    Raises `PayloadTooLarge` (413, `file_too_large`) beyond the limit (`import_max_bytes`)."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge(
            f"The file is larger than {size_text(limit)} ({limit} bytes); split it.",
            code="file_too_large",
        )
    return content


def letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A)."""
    return get_column_letter(index + 1)


def read_grid(content: bytes, layout: Layout, *, sheet: str | None, max_rows: int) -> Grid:
    """The file's header and non-empty rows, checked against `layout`'s columns.

    Raises `FileRefused` with every structural problem found (not only the first)."""
    if not content:
        raise refuse("empty_file", "Het bestand is leeg.")
    if content.startswith(b"PK\x03\x04"):
        return _xlsx(content, layout, sheet, max_rows)
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise refuse(
            "legacy_or_protected_excel",
            "Dit is een oud Excel-bestand (.xls) of een bestand met een wachtwoord. Sla het op als "
            "Excel-werkmap (.xlsx) zonder wachtwoord, of als CSV UTF-8.",
        )
    if content.startswith(b"%PDF"):
        raise refuse(
            "not_a_spreadsheet", "Dit is een PDF, geen spreadsheet. Gebruik .xlsx of CSV UTF-8."
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse(
            "utf16_text",
            "Dit is tekst in UTF-16 (Excel: 'Unicode-tekst'). Sla het op als 'CSV UTF-8 "
            "(door komma's gescheiden)' of als .xlsx.",
        )
    if b"\x00" in content[:8192]:
        raise refuse(
            "not_a_spreadsheet",
            "Dit bestand is geen spreadsheet (.xlsx) en geen tekst (CSV). Gebruik het sjabloon.",
        )
    if markup := _markup(content):
        raise refuse(
            "not_a_spreadsheet",
            f"Dit is {markup}, geen Excel-werkmap of CSV (zo exporteren veel systemen naar "
            "'Excel', ook onder de naam .xls). Open het in Excel en sla het op als "
            "Excel-werkmap (.xlsx) of als CSV UTF-8.",
        )
    return _csv(content, layout, max_rows)


def _markup(content: bytes) -> str | None:
    """What a text file that starts with a tag is, in Dutch (a web page, Excel 2003's XML
    spreadsheet, other XML); None for any other text. Read as CSV, its first line was refused
    as an unknown column '<html>', and every required column as missing."""
    start = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not start.startswith(b"<"):
        return None
    if b"urn:schemas-microsoft-com:office:spreadsheet" in start:
        return "een XML-spreadsheet (Excel 2003)"
    if any(tag in start for tag in (b"<html", b"<!doctype html", b"<table")):
        return "een webpagina (HTML)"
    return "een XML-bestand" if start.startswith(b"<?xml") else "een webpagina of XML-bestand"


# --- XLSX ----------------------------------------------------------------------------------

# What unpacking a damaged zip raises: a bad checksum or a part longer than it declares
# (BadZipFile), damaged compressed data (zlib.error), a compression method zipfile does not
# know (NotImplementedError), a part cut short (EOFError).
_UNZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    EOFError,
    RuntimeError,
    OSError,
    ValueError,
)


def _xlsx(content: bytes, layout: Layout, wanted: str | None, max_rows: int) -> Grid:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
            encrypted = any(info.flag_bits & 0x1 for info in archive.infolist())
            mimetype = b""
            if "mimetype" in names and not encrypted:
                mimetype = archive.read("mimetype")[:80]
    except _UNZIP_ERRORS:
        raise refuse(
            "unreadable_file", "Het bestand is beschadigd of geen Excel-werkmap (.xlsx)."
        ) from None
    if encrypted:
        raise refuse(
            "legacy_or_protected_excel",
            "Dit is een zip-bestand met een wachtwoord. Sla de gegevens op als Excel-werkmap "
            "(.xlsx) zonder wachtwoord, of als CSV UTF-8.",
        )
    if b"opendocument" in mimetype:
        raise refuse(
            "opendocument",
            "Dit is een OpenDocument-bestand (.ods). Sla het op als Excel-werkmap (.xlsx) of als "
            "CSV UTF-8.",
        )
    if "xl/workbook.xml" not in names:
        what = "een Word-document" if "word/document.xml" in names else "een zip-bestand"
        raise refuse("not_a_spreadsheet", f"Dit is {what}, geen Excel-werkmap (.xlsx).")
    if unpacked > MAX_UNPACKED_BYTES:
        raise refuse(
            "file_too_large",
            f"Uitgepakt is dit bestand groter dan {MAX_UNPACKED_BYTES // 1024 // 1024} MB; "
            "splits het op.",
        )
    try:
        # Each part unpacked whole, and so checked against its checksum and declared size,
        # before either reader opens the file.
        overstated, spans = _measure_parts(content, names)
    except _UNZIP_ERRORS:
        raise refuse(
            "unreadable_file", "Het bestand is beschadigd en kan niet worden gelezen."
        ) from None
    if overstated:
        raise refuse("unreadable_file", "Het bestand is beschadigd of geen Excel-werkmap (.xlsx).")
    if any(merged > MAX_RANGED_CELLS for _, merged, _ in spans):
        raise refuse(
            "merged_cells",
            f"Samengevoegde cellen over meer dan {MAX_RANGED_CELLS} cellen: elke cel heeft een "
            "eigen waarde nodig. Maak de samenvoeging ongedaan.",
        )
    if any(linked > MAX_RANGED_CELLS for _, _, linked in spans):
        raise refuse(
            "too_many_links",
            f"Koppelingen (hyperlinks) over meer dan {MAX_RANGED_CELLS} cellen. Verwijder de "
            "koppelingen of gebruik het sjabloon.",
        )
    if any(span > MAX_CELLS for span, _, _ in spans):
        raise refuse(
            "sheet_too_large",
            f"Een werkblad loopt over meer dan {MAX_CELLS} cellen (van A1 tot de verste "
            "cel), vrijwel allemaal leeg. Kopieer de gegevens naar een nieuw werkblad of "
            "gebruik het sjabloon.",
        )
    grid = None
    if _plain_values(content, names):
        # On CalamineError openpyxl says what is wrong with the file, or reads it after all.
        with contextlib.suppress(CalamineError):
            grid = _calamine_grid(content, layout, wanted, max_rows)
    grid = grid or _openpyxl_grid(content, layout, wanted, max_rows)
    grid.date1904 = _date1904(content)
    return grid


_DATE1904 = re.compile(rb"""<(?:\w+:)?workbookPr\b[^>]*\sdate1904\s*=\s*["'](?:1|true)["']""")


def _date1904(content: bytes) -> bool:
    """Whether the workbook counts its dates from 1 January 1904 (Mac Excel's date system):
    both readers read its date cells by it; a number in a date column names the date it would
    be by it too."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return _DATE1904.search(archive.read("xl/workbook.xml")) is not None


def _openpyxl_grid(content: bytes, layout: Layout, wanted: str | None, max_rows: int) -> Grid:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops on reading (data validation, styles);
            # they do not change the values.
            warnings.simplefilter("ignore")
            workbook = load_workbook(
                io.BytesIO(content), read_only=False, data_only=False, keep_links=False
            )
    except Exception:  # openpyxl raises many kinds on a malformed workbook; all mean "unreadable"
        raise refuse(
            "unreadable_file", "Het Excel-bestand is beschadigd en kan niet worden gelezen."
        ) from None
    try:
        worksheet = _pick_sheet(workbook, layout, wanted)
        return _xlsx_grid(worksheet, layout, max_rows)
    finally:
        workbook.close()


# What only openpyxl reports cell by cell: a formula (`<f>`), an error value (`t="e"`) or a
# merged range (`<mergeCell>`), in any worksheet of the file.
_CELL_DETAIL = re.compile(rb'<(?:\w+:)?(?:f|mergeCell)[\s>/]|\st="e"')


def _measure_parts(content: bytes, names: set[str]) -> tuple[bool, list[Measures]]:
    """Whether any part of the XLSX overstates its shared strings (`overstates_strings`), and
    the `Measures` of every worksheet (`app.imports.extent`): every part with sheet data,
    wherever the relations put it. Each part is unpacked once for both."""
    overstated, spans = False, []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in sorted(names):
            if name.endswith("/"):
                continue
            xml = archive.read(name)
            overstated = overstated or overstates_strings(xml)
            if holds_sheet_data(xml):
                spans.append(measure(xml))
    return overstated, spans


def _plain_values(content: bytes, names: set[str]) -> bool:
    """Whether every worksheet of the XLSX holds only plain values (no `_CELL_DETAIL`)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return not any(
            _CELL_DETAIL.search(archive.read(name))
            for name in names
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        )


@dataclass(frozen=True, slots=True)
class _SheetName:
    title: str
    sheet_state: str  # visible | hidden | veryHidden, as openpyxl names it


@dataclass(frozen=True, slots=True)
class _Sheets:
    """What `_pick_sheet` asks of a workbook, for a calamine one."""

    worksheets: list[_SheetName]


def _calamine_value(value: Any) -> Any:
    """A calamine value as `_value` reads the same cell with openpyxl: empty or blank as None
    (calamine drops a blank string's spaces), a whole number as int (calamine reads every
    number as float), a date as a datetime at midnight."""
    if is_empty(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _calamine_grid(content: bytes, layout: Layout, wanted: str | None, max_rows: int) -> Grid:
    """The grid openpyxl would read (a tail of rows whose cells only carry formatting, which
    calamine does not see, is no part of it: `_split`)."""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    try:
        sheets = _Sheets(
            [
                _SheetName(m.name, "visible" if m.visible == SheetVisibleEnum.Visible else "hidden")
                for m in workbook.sheets_metadata
                # Worksheets only, as openpyxl's `worksheets`: a chart sheet holds no cells.
                if m.typ == SheetTypeEnum.WorkSheet
            ]
        )
        title = _pick_sheet(sheets, layout, wanted).title
        values = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    grid = Grid("xlsx", title)
    records = ((n, [_calamine_value(v) for v in row]) for n, row in enumerate(values, start=1))
    header_row, header, rows = _split(records, layout, grid, max_rows)
    if header_row is None:
        raise refuse("no_header", "Het werkblad is leeg: er staan geen kolomkoppen in.")
    grid.columns, issues = _columns(layout, header, rows, header_row)
    if issues:
        raise FileRefused(issues, "xlsx", title)
    grid.rows = rows
    return grid


def _pick_sheet(workbook: Any, layout: Layout, wanted: str | None) -> Any:
    sheets = workbook.worksheets
    names = [ws.title for ws in sheets]
    listed = ", ".join(f"'{n}'" for n in names)
    by_name = {ws.title.strip().casefold(): ws for ws in sheets}
    if wanted:
        found = by_name.get(wanted.strip().casefold())
        if found is None:
            raise refuse(
                "sheet_not_found",
                f"Het werkblad '{wanted}' staat niet in het bestand; het heeft: {listed}.",
            )
        return found
    named = by_name.get(layout.sheet.casefold())
    if named is not None and named.sheet_state == "visible":
        return named
    # A hidden sheet of that name (an old copy of the data, hidden rather than deleted) is not
    # the one the person sees and means: the only visible one is, as below.
    for other in LAYOUTS.values() if named is None else ():
        if other is not layout and other.sheet.casefold() in by_name:
            raise refuse(
                "wrong_sheet",
                f"Dit bestand heeft een werkblad '{other.sheet}' en geen werkblad "
                f"'{layout.sheet}': gebruik de import voor {other.title}, of het sjabloon voor "
                f"{layout.title}.",
            )
    candidates = [
        ws for ws in sheets if ws.title.strip().casefold() != EXPLANATION_SHEET.casefold()
    ]
    if len(candidates) == 1 and named is None:
        return candidates[0]
    # A hidden sheet (of choices for drop-down lists, say) is none the person means: the only
    # sheet they see is.
    shown = [ws for ws in candidates if ws.sheet_state == "visible"]
    if len(shown) == 1:
        return shown[0]
    if named is not None:
        raise refuse(
            "wrong_sheet",
            f"Het werkblad '{named.title}' is verborgen, en het bestand heeft niet één ander "
            f"zichtbaar werkblad ({listed}). Maak het werkblad met de gegevens zichtbaar en noem "
            f"het '{layout.sheet}', of kies het werkblad bij het inlezen.",
        )
    raise refuse(
        "wrong_sheet",
        f"Het bestand heeft meerdere werkbladen ({listed}) en geen werkblad '{layout.sheet}'. "
        f"Noem het werkblad met de gegevens '{layout.sheet}', of kies het werkblad bij het "
        "inlezen.",
    )


def _value(cell: Any) -> Any:
    if cell.data_type == "f":
        text = cell.value.text if isinstance(cell.value, ArrayFormula) else cell.value
        return Formula(str(text))
    if cell.data_type == "e":
        return ErrorValue(str(cell.value))
    return None if is_empty(cell.value) else cell.value


def _xlsx_grid(worksheet: Any, layout: Layout, max_rows: int) -> Grid:
    grid = Grid("xlsx", worksheet.title)
    records = (([_value(c) for c in cells], cells[0].row) for cells in worksheet.iter_rows())
    header_row, header, rows = _split(((n, v) for v, n in records), layout, grid, max_rows)
    if header_row is None:
        raise refuse("no_header", "Het werkblad is leeg: er staan geen kolomkoppen in.")
    issues = _merged(worksheet, header_row)
    grid.columns, column_issues = _columns(layout, header, rows, header_row)
    issues += column_issues
    if issues:
        raise FileRefused(issues, "xlsx", worksheet.title)
    grid.rows = rows
    return grid


def _merged(worksheet: Any, header_row: int) -> list[Issue]:
    issues = []
    for merged in sorted(worksheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        if merged.max_row < header_row:
            continue  # a title above the header does not matter
        if merged.min_row <= header_row:
            issues.append(
                Issue(
                    "merged_header",
                    f"Samengevoegde kolomkoppen in {merged.coord}: elke kolom heeft een eigen kop "
                    "nodig. Maak de samenvoeging ongedaan.",
                    row=header_row,
                    cell=merged.coord,
                )
            )
        else:
            issues.append(
                Issue(
                    "merged_cells",
                    f"Samengevoegde cellen {merged.coord}: elke cel heeft een eigen waarde nodig. "
                    "Maak de samenvoeging ongedaan.",
                    row=merged.min_row,
                    cell=merged.coord,
                )
            )
    return issues


# --- CSV -----------------------------------------------------------------------------------


def _csv(content: bytes, layout: Layout, max_rows: int) -> Grid:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise refuse(
            "not_utf8",
            f"Regel {line} is geen UTF-8 (waarschijnlijk opgeslagen als 'CSV (gescheiden door "
            "lijstscheidingsteken)'). Sla het bestand op als 'CSV UTF-8' of als .xlsx.",
            row=line,
        ) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    if ";" not in first and ("," in first or "\t" in first):
        separator = "komma's" if "," in first else "tabs"
        raise refuse(
            "wrong_delimiter",
            f"De kolommen zijn gescheiden door {separator}; verwacht worden puntkomma's (;), zoals "
            "Nederlandse spreadsheetprogramma's CSV opslaan. Gebruik het sjabloon.",
            row=1,
        )
    grid = Grid("csv", None)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    read = [0]  # records read so far, for the message on an unreadable one

    def records() -> Iterator[tuple[int, list[Any]]]:
        for record in reader:
            read[0] += 1
            yield read[0], [Formula(v) if v.startswith("=") else v for v in record]

    try:
        header_row, header, rows = _split(records(), layout, grid, max_rows)
    except csv.Error as exc:
        number = read[0] + 1
        raise refuse(
            "unreadable_csv", f"Rij {number} kan niet worden gelezen: {exc}.", row=number
        ) from None
    if header_row is None:
        raise refuse("no_header", "Het bestand is leeg: er staan geen kolomkoppen in.")
    grid.columns, issues = _columns(layout, header, rows, header_row)
    if issues:
        raise FileRefused(issues, "csv")
    grid.rows = rows
    return grid


def _split(
    records: Iterable[tuple[int, list[Any]]], layout: Layout, grid: Grid, max_rows: int
) -> tuple[int | None, list[Any], list[tuple[int, list[Any]]]]:
    """(header row number, header cells, data rows) of the non-empty records; the empty rows
    between data rows are counted in `grid.skipped_empty_rows`, those after the last are not
    (a sheet's blank tail is no skipped row, and the readers see different amounts of it:
    openpyxl reads rows that only carry formatting, calamine leaves them out at the end).

    The header is the first row with a cell naming a column of `layout`; up to `TITLE_ROWS`
    rows above it (a title, a date, as people put above a table) are passed over. When none of
    the first rows names a column, the first is taken as the header, so its cells are reported
    as unknown columns. Raises `FileRefused` beyond `max_rows` data rows."""
    header_row: int | None = None
    header: list[Any] = []
    rows: list[tuple[int, list[Any]]] = []
    above: list[tuple[int, list[Any]]] = []
    empty = 0  # empty rows since the last data row: skipped, and counted once a row follows
    for number, values in records:
        if len(values) > MAX_COLUMNS:  # no sheet's row: its column letters do not exist
            raise refuse("too_many_columns", _too_wide(number), row=number)
        if all(is_empty(v) for v in values):
            if header_row is not None:
                empty += 1
            continue
        grid.skipped_empty_rows += empty if header_row is not None else 0
        empty = 0
        if header_row is None:
            if _names_a_column(layout, values):
                header_row, header = number, values
            elif len(above) < TITLE_ROWS:
                above.append((number, values))
            else:  # no header in sight: the first row is the header, the rest are data
                (header_row, header), rows = above[0], [*above[1:], (number, values)]
            continue
        rows.append((number, values))
        if len(rows) > max_rows:
            raise refuse("too_many_rows", _too_many(max_rows), row=number)
    if header_row is None and above:
        (header_row, header), rows = above[0], above[1:]
    return header_row, header, rows


def _names_a_column(layout: Layout, values: list[Any]) -> bool:
    return any(isinstance(v, str) and layout.column_for(v) is not None for v in values)


def _too_many(max_rows: int) -> str:
    return f"Meer dan {max_rows} rijen; splits het bestand op."


MAX_COLUMNS = 16_384
"""Columns of a spreadsheet (A to XFD in Excel and LibreOffice)."""


def _too_wide(row: int) -> str:
    return (
        f"Rij {row} heeft meer dan {MAX_COLUMNS} kolommen, meer dan een spreadsheet kent. "
        "Gebruik het sjabloon."
    )


# --- the header ----------------------------------------------------------------------------


def _columns(
    layout: Layout, header: list[Any], rows: list[tuple[int, list[Any]]], header_row: int
) -> tuple[list[tuple[int, str, Column]], list[Issue]]:
    """Match the header cells to the layout's columns; every problem with them as an issue."""
    found: list[tuple[int, str, Column]] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    # As wide as the widest row: a CSV's header line ends at its last header, so a cell right
    # of it is a column without a header (an XLSX row is as wide as the sheet's used range).
    width = max([len(header), *(len(cells) for _, cells in rows)])
    for index in range(width):
        raw = header[index] if index < len(header) else None
        cell = f"{letter(index)}{header_row}"
        if isinstance(raw, Formula | ErrorValue):
            issues.append(
                Issue("formula_in_header", "Een formule als kolomkop.", row=header_row, cell=cell)
            )
            continue
        text = "" if raw is None else trim(str(raw))
        if not text:
            if any(index < len(cells) and not is_empty(cells[index]) for _, cells in rows):
                issues.append(
                    Issue(
                        "column_without_header",
                        f"Kolom {letter(index)} heeft gegevens maar geen kolomkop.",
                        row=header_row,
                        column=letter(index),
                        cell=cell,
                    )
                )
            continue
        column = layout.column_for(text)
        shown = quoted(text)  # as the issues of the column name it
        if column is None:
            issues.append(
                Issue(
                    "unknown_column",
                    _unknown(layout, text),
                    row=header_row,
                    column=shown,
                    cell=cell,
                )
            )
            continue
        if column.name in seen:
            issues.append(
                Issue(
                    "duplicate_column",
                    f"De kolom '{column.header}' staat twee keer in het bestand (kolom "
                    f"{letter(seen[column.name])} en {letter(index)}).",
                    row=header_row,
                    column=shown,
                    cell=cell,
                    field=column.name,
                )
            )
            continue
        seen[column.name] = index
        found.append((index, shown, column))
    for column in layout.columns:
        if column.required and column.name not in seen:
            issues.append(
                Issue(
                    "missing_column",
                    f"De verplichte kolom '{column.header}' ontbreekt.",
                    row=header_row,
                    column=column.header,
                    field=column.name,
                )
            )
    return found, issues


def _unknown(layout: Layout, text: str) -> str:
    if normalise_header(text) in FORBIDDEN_HEADERS:
        return (
            f"De kolom '{quoted(text)}' hoort niet in de uitstroomtafel: geen namen, BSN, "
            "adressen van cliënten of vrije tekst. Verwijder de kolom."
        )
    headers = [c.header for c in layout.columns]
    close = difflib.get_close_matches(text, headers, n=1, cutoff=0.6)
    hint = f" Bedoelt u '{close[0]}'?" if close else ""
    return (
        f"Onbekende kolom '{quoted(text)}'.{hint} Gebruik de kolomkoppen van het sjabloon, of "
        "verwijder de kolom."
    )
