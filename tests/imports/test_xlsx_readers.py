"""An XLSX with plain values is read by python-calamine, one with formulas, error values or
merged cells by openpyxl (app/imports/files.py): for the same file both must give the same
grid, or a file's report would depend on which reader it met."""

import io
import zipfile
from datetime import date, datetime, time
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES

from app.imports import files
from app.imports.columns import CASES
from tests.imports.sheets import case_row, table, xlsx
from tests.properties import examples

# Text openpyxl writes as a formula ("=...") or an error value ("#N/A") is no plain value.
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12).filter(
    lambda text: not (len(text) > 1 and text.startswith("=")) and text not in ERROR_CODES
)
CELLS = st.one_of(
    st.none(),
    TEXT,
    st.sampled_from(["ja", "nee", "16.250,00", "31-02-2026", "GM0344", "0", " "]),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    st.booleans(),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
HEADERS = [c.header for c in CASES.columns]


def _workbook(title_rows: list[list[Any]], lines: list[list[Any]], empty_tail: int) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = CASES.sheet
    for line in [*title_rows, *lines]:
        worksheet.append(line)
    for _ in range(empty_tail):  # rows people blanked rather than deleted
        worksheet.append(["", " ", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _read(reader: Any, content: bytes) -> Any:
    try:
        grid = reader(content, CASES, None, 10_000)
    except files.FileRefused as refused:
        return refused.issues
    return grid.sheet, grid.columns, grid.rows, grid.skipped_empty_rows


def _plain(content: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return files._plain_values(content, set(archive.namelist()))


def _both(content: bytes) -> tuple[Any, Any]:
    return _read(files._calamine_grid, content), _read(files._openpyxl_grid, content)


@settings(max_examples=examples(40), database=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(st.lists(CELLS, min_size=len(HEADERS), max_size=len(HEADERS)), max_size=6),
    title=st.lists(
        st.lists(st.sampled_from(["Wachtlijst", None, "november"]), max_size=3), max_size=2
    ),
    empty_tail=st.integers(0, 3),
)
def test_calamine_and_openpyxl_read_a_plain_sheet_alike(rows, title, empty_tail):
    content = _workbook(title, [HEADERS, *rows], empty_tail)
    assume(_plain(content))
    calamine, openpyxl = _both(content)
    assert calamine == openpyxl


def test_empty_rows_count_between_data_rows_and_not_in_the_blank_tail():
    """openpyxl reads a trailing row of empty cells that calamine leaves out; neither counts
    it, and both count the empty row between two data rows."""
    blank = [None] * (len(HEADERS) - 1) + [""]
    first, second = (["K-1"] + [None] * (len(HEADERS) - 1)), (["K-2"] + [None] * (len(HEADERS) - 1))
    content = _workbook([], [HEADERS, first, blank, second, blank, blank], 0)
    calamine, openpyxl = _both(content)
    assert calamine == openpyxl
    assert calamine[3] == 1


def test_a_template_written_sheet_is_read_alike():
    content = xlsx(table([case_row(f"K-{i}") for i in range(20)]))
    calamine, openpyxl = _both(content)
    assert calamine == openpyxl
    assert len(calamine[2]) == 20


@pytest.mark.parametrize(
    "detail",
    ["formula", "error", "merged"],
)
def test_a_sheet_with_cell_detail_goes_to_openpyxl(detail):
    lines = table([case_row("K-1"), case_row("K-2")])
    if detail == "formula":
        lines[1][3] = "=1990+1"
    elif detail == "error":
        lines[1][3] = "#N/A"
    content = xlsx(lines, merge=["A5:B5"] if detail == "merged" else ())
    if detail == "error":
        content = content.replace(b't="s"', b't="e"', 1)  # openpyxl writes "#N/A" as text
    assert not files._plain_values(content, {"xl/worksheets/sheet1.xml"})


def test_a_time_of_day_reads_alike():
    content = _workbook([], [HEADERS, ["K-1", time(9, 30), *[None] * (len(HEADERS) - 2)]], 0)
    calamine, openpyxl = _both(content)
    assert calamine == openpyxl
