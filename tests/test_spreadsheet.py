"""Text bound for a spreadsheet: what Excel or LibreOffice would run as a formula is neutralised
in every CSV export (CSV injection), the numbers stay numbers."""

import csv
import io

import pytest

from app.monitor.export import to_csv
from app.spreadsheet import _NUMBER, safe_cell


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("https://x.example")', "+1+1", "@SUM(A1)", "-2+3", "-inf", "+nan", "-1_0"],
)
def test_text_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["-3", "1.234,5", "-1.234,5", "+31612345678", "-2.5e3", "Gemeente Utrecht", ""]
)
def test_numbers_and_plain_text_stay_as_they_are(text):
    assert safe_cell(text) == text


def test_the_monitor_csv_neutralises_a_formula_in_a_group_name():
    rows = [{"group": "=1+1", "housed": 3, "waiting": None, "delta": -2}]
    assert to_csv(rows, ["group", "housed", "waiting", "delta"]) == (
        "group,housed,waiting,delta\n'=1+1,3,,-2\n"
    )


@pytest.mark.parametrize("locale_separator", [",", ";"])
def test_the_monitor_csv_opens_without_a_formula_whatever_the_locale_splits_on(locale_separator):
    # A spreadsheet splits on its locale's separator (Dutch Excel: `;`), not the file's.
    text = to_csv([{"group": "Zorg;=1+1", "housed": 1}, {"group": "Zorg,=1+1"}], ["group"])
    for line in io.StringIO(text):
        for field in next(csv.reader([line], delimiter=locale_separator)):
            assert not field.startswith(("=", "+", "-", "@")), field


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("Zorg;=1+1", "Zorg;'=1+1"),
        ("a,@SUM(A1)", "a,'@SUM(A1)"),
        ("a, =1", "a, =1"),
        ("b,-3", "b,-3"),
    ],
)
def test_a_formula_after_a_separator_inside_the_text_gets_an_apostrophe(text, safe):
    assert safe_cell(text) == safe


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        (
            '-1,5+HYPERLINK("https://x.example";"klik")',
            '\'-1,5+HYPERLINK("https://x.example";"klik")',
        ),
        ("-1;5+1", "'-1;5+1"),
        ("+1,5+1", "'+1,5+1"),
        ("x;-1,5+1", "x;'-1,5+1"),
    ],
)
def test_a_number_and_a_formula_joined_by_a_separator_get_an_apostrophe(text, safe):
    # `-1,5+1` is a formula to a spreadsheet that reads the cell whole (the file's own
    # separator, or another one) with a decimal comma, though its parts `-1` and `5+1` are not.
    assert safe_cell(text) == safe


@pytest.mark.parametrize("text", ["-1,5+1", "-1;5+1", "x;-1,5+1", "-1,5;=1", "-3;-4"])
def test_no_cell_of_the_monitor_csv_starts_a_formula_whatever_the_locale_splits_on(text):
    csv_text = to_csv([{"group": text}], ["group"])
    for separator in (",", ";", "\x00"):  # "\x00": a spreadsheet that reads the cell whole
        for row in csv.reader(io.StringIO(csv_text), delimiter=separator):
            for field in row:
                starts_formula = field[:1] in ("=", "+", "-", "@")
                assert not starts_formula or _NUMBER.fullmatch(field), (separator, field)
