"""Bad files get a precise answer, never a server error and never a partial import."""

import io
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from app.imports.cells import dutch_date
from app.imports.files import letter
from tests.api.helpers import assert_problem
from tests.clock import TODAY, day
from tests.imports.sheets import (
    CASES,
    case_row,
    csv_file,
    dwelling_row,
    nl,
    store_cases,
    table,
    upload,
    xlsx,
)


def check(client, region, content: bytes, name: str = "x.xlsx", **params) -> dict:  # type: ignore[no-untyped-def]
    """A dry run of `content`; nothing may be stored, whatever the file."""
    response = store_cases(client, region, content, name, dry_run=True, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is False and body["issues"], body
    real = store_cases(client, region, content, name, **params)
    assert_problem(real, 400, "import_rejected")
    assert client.get("/v1/cases", headers=region.care_provider.headers).json()["items"] == []
    return body


def codes(body: dict) -> list[str]:
    return [i["code"] for i in body["issues"]]


@pytest.mark.settings(import_max_bytes=2048)
def test_a_file_over_the_size_limit_is_refused_with_413(client, region):
    content = csv_file(table([case_row(f"K-{i}") for i in range(40)]))
    assert len(content) > 2048
    response = upload(client, CASES, content, region.care_provider.headers, "groot.csv")
    body = assert_problem(response, 413, "file_too_large")
    assert body["detail"] == "The file is larger than 2 kB (2048 bytes); split it."


@pytest.mark.settings(import_max_rows=3)
def test_more_rows_than_the_limit_are_refused(client, region):
    body = check(client, region, xlsx(table([case_row(f"K-{i}") for i in range(4)])))
    assert codes(body) == ["too_many_rows"]
    assert "Meer dan 3 rijen" in body["issues"][0]["message"]


def test_a_dwellings_file_sent_to_the_case_import_names_the_right_import(client, region):
    body = check(client, region, xlsx(table([dwelling_row("V-1")]), sheet="Woningen"))
    assert codes(body) == ["wrong_sheet"]
    assert "import voor woningen" in body["issues"][0]["message"]


def test_a_workbook_without_the_sheet_lists_its_sheets(client, region):
    content = xlsx(table([case_row("K-1")]), sheet="Blad1", extra_sheets=["Blad2"])
    body = check(client, region, content)
    assert codes(body) == ["wrong_sheet"]
    assert "'Blad1', 'Blad2'" in body["issues"][0]["message"]
    named = upload(
        client,
        CASES,
        content,
        region.care_provider.headers,
        table_id=region.table_id,
        sheet="blad1",
    )
    assert named.json()["valid"] is True and named.json()["sheet"] == "Blad1"


def _workbook(title: str, lines: list[list], *, merged_title: bool = False) -> Workbook:
    """A workbook whose first sheet, `title`, holds `lines` (below a merged title row, which
    sends the file to openpyxl)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = title
    if merged_title:
        first.append(["Wachtlijst"])
        first.merge_cells("A1:C1")
    for line in lines:
        first.append(line)
    return workbook


def _saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("listed", ["Ja", "=UPPER(A1)"], ids=["values", "formula"])
def test_a_hidden_sheet_beside_the_only_visible_one_is_not_asked_about(client, region, listed):
    # A hidden sheet of choices (for the cells' drop-down lists) is common; the person sees one
    # sheet, so that one is read, by either reader (a formula sends the file to openpyxl).
    workbook = _workbook("Blad1", table([case_row("K-1")]))
    choices = workbook.create_sheet("Keuzelijsten")
    choices.append([listed])
    choices.sheet_state = "hidden"
    response = store_cases(client, region, _saved(workbook))
    assert response.status_code == 200, response.text
    assert (response.json()["sheet"], response.json()["created"]) == ("Blad1", 1)


@pytest.mark.parametrize("title", [False, True], ids=["values", "merged-title"])
@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_named_like_the_data_sheet_is_not_read_for_the_visible_one(
    client, region, title, state
):
    # Last month's 'Dossiers' hidden rather than deleted, this month's on a visible sheet of
    # another name: the hidden sheet, which the person does not see, was read and imported,
    # by either reader (a merged title sends the file to openpyxl).
    workbook = _workbook("Dossiers", table([case_row("K-OLD")]))
    workbook["Dossiers"].sheet_state = state
    current = workbook.create_sheet("Dossiers december")
    if title:
        current.append(["Wachtlijst"])
        current.merge_cells("A1:C1")
    for line in table([case_row("K-1"), case_row("K-2")]):
        current.append(line)
    workbook.active = 1
    body = store_cases(client, region, _saved(workbook), dry_run=True).json()
    assert (body["sheet"], body["valid"]) == ("Dossiers december", True), body
    assert [i["external_ref"] for i in body["items"]] == ["K-1", "K-2"]
    # Named, the hidden sheet is read: the person chose it.
    named = store_cases(client, region, _saved(workbook), dry_run=True, sheet="Dossiers")
    assert [i["external_ref"] for i in named.json()["items"]] == ["K-OLD"]
    # With two visible sheets besides it, none is guessed.
    workbook.create_sheet("Dossiers november")
    refused = check(client, region, _saved(workbook))
    assert codes(refused) == ["wrong_sheet"]
    assert "'Dossiers' is verborgen" in refused["issues"][0]["message"]


@pytest.mark.parametrize("title", [False, True], ids=["values", "merged-title"])
def test_a_chart_sheet_beside_the_data_is_no_sheet_to_read(client, region, title):
    # A chart on a sheet of its own (Excel: 'Grafiek1') holds no cells. Either reader (a merged
    # title sends the file to openpyxl) reads the one sheet with data.
    workbook = _workbook("Blad1", table([case_row("K-1"), case_row("K-2")]), merged_title=title)
    data = workbook["Blad1"]
    chart = BarChart()
    chart.add_data(Reference(data, min_col=4, min_row=1, max_row=3), titles_from_data=True)
    workbook.create_chartsheet("Grafiek1").add_chart(chart)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = store_cases(client, region, buffer.getvalue())
    assert response.status_code == 200, response.text
    assert (response.json()["sheet"], response.json()["created"]) == ("Blad1", 2)


def test_a_sheet_that_does_not_exist_is_named(client, region):
    body = check(client, region, xlsx(table([case_row("K-1")])), sheet="Wachtlijst")
    assert codes(body) == ["sheet_not_found"]
    assert "'Wachtlijst'" in body["issues"][0]["message"]


def test_unknown_columns_are_refused_with_a_suggestion(client, region):
    lines = table([case_row("K-1", Geboortjaar=1990, Opmerkingen="belt graag 's ochtends")])
    body = check(client, region, xlsx(lines))
    issues = {i["column"]: i for i in body["issues"]}
    assert issues["Geboortjaar"]["code"] == "unknown_column"
    assert "Bedoelt u 'Geboortejaar'?" in issues["Geboortjaar"]["message"]
    assert "geen namen, BSN" in issues["Opmerkingen"]["message"]


def test_missing_and_repeated_columns_are_named(client, region):
    lines = table([case_row("K-1")])
    lines[0] = [h for h in lines[0]]
    header, values = lines
    drop = header.index("Begeleiding")
    header, values = header[:drop] + header[drop + 1 :], values[:drop] + values[drop + 1 :]
    body = check(client, region, xlsx([[*header, "volwassenen"], [*values, 1]]))
    assert sorted(codes(body)) == ["duplicate_column", "missing_column"]


def test_merged_header_cells_are_refused(client, region):
    lines = table([case_row("K-1")])
    body = check(client, region, xlsx(lines, merge=["A1:B1"]))
    merged = next(i for i in body["issues"] if i["code"] == "merged_header")
    assert merged["cell"] == "A1:B1" and "eigen kop" in merged["message"]


def test_merged_cells_in_the_rows_are_refused(client, region):
    lines = table([case_row("K-1"), case_row("K-2")])
    body = check(client, region, xlsx(lines, merge=["B2:B3"]))
    assert codes(body) == ["merged_cells"]
    assert body["issues"][0]["row"] == 2


def test_formulas_are_refused_per_cell(client, region):
    lines = table([case_row("K-1", Geboortejaar=f"={TODAY.year}-35")])
    body = check(client, region, xlsx(lines))
    [issue] = body["issues"]
    assert (issue["code"], issue["cell"]) == ("formula", "D2")
    assert "Plak de kolom als waarden" in issue["message"]


def test_a_date_typed_as_an_excel_serial_number_is_refused_with_the_date_it_would_be(
    client, region
):
    serial = (day(-200) - __import__("datetime").date(1899, 12, 30)).days
    lines = table([case_row("K-1", **{"Klaar voor uitstroom sinds": serial})])
    body = check(client, region, xlsx(lines))
    [issue] = body["issues"]
    assert issue["code"] == "excel_serial_date"
    assert str(day(-200).year) in issue["message"] and str(serial) in issue["message"]
    body = check(client, region, csv_file(lines), "x.csv")
    assert codes(body) == ["excel_serial_date"]


@pytest.mark.parametrize(
    ("serial", "shown"),
    [(1, "1 januari 1900"), (59, "28 februari 1900"), (61, "1 maart 1900")],
)
def test_a_small_excel_serial_number_names_the_date_excel_shows_for_it(
    client, region, serial, shown
):
    """Excel counts 1900 as a leap year (its day 60 is 29 February 1900), so the days before
    it lie one later than counting from 30 December 1899 gives: a 1 typed in a date column was
    named 31 December 1899, where Excel shows 1 January 1900."""
    lines = table([dwelling_row("W-1", **{"Beschikbaar vanaf": serial})])
    content = xlsx(lines, sheet="Woningen")
    response = upload(client, "/v1/vacancies/imports", content, region.corporation.headers)
    [issue] = response.json()["issues"]
    assert issue["code"] == "excel_serial_date"
    assert f"zou het {shown} zijn" in issue["message"], issue["message"]


@pytest.mark.parametrize("title", [False, True], ids=["values", "merged-title"])
def test_a_workbook_counting_dates_from_1904_is_read_and_named_in_its_own_date_system(
    client, region, title
):
    # Mac Excel's 1904 date system: a number in a date column was named as the date it would
    # be from 1900, four years and a day earlier than the one the workbook shows for it.
    ready = day(-200)
    lines = table([case_row("K-1"), case_row("K-2")])
    lines[1][2] = ready  # a date cell: both readers count it from 1904
    lines[2][2] = (ready - CALENDAR_MAC_1904.date()).days  # the same date, its format lost
    workbook = _workbook("Dossiers", lines, merged_title=title)
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook["Dossiers"]
    body = check(client, region, _saved(workbook))
    [issue] = body["issues"]
    assert (issue["code"], issue["row"]) == ("excel_serial_date", 3 + title), issue
    assert f"zou het {dutch_date(ready)} zijn" in issue["message"], issue["message"]
    sheet.delete_rows(3 + title)
    stored = store_cases(client, region, _saved(workbook))
    assert stored.status_code == 200, stored.text
    [case] = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    assert case["ready_since"] == ready.isoformat()


def test_empty_rows_at_the_end_are_skipped(client, region):
    """A blank tail is no part of the table: skipped and not counted (the two XLSX readers
    see different amounts of it); an empty row between data rows is counted."""
    lines = [*table([case_row("K-1")]), [None] * 5, [None] * 5, ["", "  "]]
    response = upload(
        client, CASES, xlsx(lines), region.care_provider.headers, table_id=region.table_id
    )
    body = response.json()
    assert body["valid"] and body["rows"] == 1 and body["skipped_empty_rows"] == 0, body
    gap = table([case_row("K-1"), case_row("K-2")])
    gap.insert(2, [None] * 5)  # between the header and K-1 come none; between K-1 and K-2 one
    gap.append(["", "  "])
    body = upload(
        client, CASES, xlsx(gap), region.care_provider.headers, table_id=region.table_id
    ).json()
    assert body["valid"] and body["rows"] == 2 and body["skipped_empty_rows"] == 1, body
    csv_body = upload(
        client,
        CASES,
        csv_file(lines) + b";;;\r\n\r\n",
        region.care_provider.headers,
        "x.csv",
        table_id=region.table_id,
    ).json()
    assert csv_body["valid"] and csv_body["rows"] == 1, csv_body


def test_a_byte_order_mark_is_no_part_of_the_first_header(client, region):
    content = csv_file(table([case_row("K-1")]), bom=True)
    assert content.startswith(b"\xef\xbb\xbfEigen kenmerk")
    response = upload(
        client, CASES, content, region.care_provider.headers, "x.csv", table_id=region.table_id
    )
    assert response.json()["valid"] is True, response.text


def test_an_invisible_character_in_a_header_is_no_part_of_it(client, region):
    # A byte-order mark carried into cell A1 (a CSV pasted or opened as text, then saved as
    # .xlsx) or a zero-width space copied with a header: the refusal named 'Eigen kenmerk'
    # an unknown column and asked whether 'Eigen kenmerk' was meant.
    lines = table([case_row("K-1")])
    lines[0][0] = "\ufeffEigen kenmerk"
    lines[0][1] = "Voorziening\u200b"
    response = store_cases(client, region, xlsx(lines))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1


@pytest.mark.parametrize("name", ["x.xlsx", "x.csv"])
def test_a_cell_of_the_most_characters_excel_allows_is_quoted_cut_short(client, region, name):
    # A cell holds up to 32,767 characters. Each message quoted its cell whole, and each issue
    # named its column by the header as in the file: a 435 kB file of such cells (one shared
    # string) answered a check of 66 MB and a refusal of 132 MB, a row a few kilobytes wider.
    longest = "Q" * 32_767
    header = "Voorziening" + " " * 32_000 + "*"  # read as 'Voorziening'
    lines = table([case_row(longest, Voorziening=longest, Geboortejaar=longest)] * 50)
    lines[0][lines[0].index("Voorziening")] = header
    content = xlsx(lines) if name.endswith("xlsx") else csv_file(lines)
    body = check(client, region, content, name)
    issues = {(i["code"], i["field"]) for i in body["issues"]}
    assert issues == {
        ("string_pattern_mismatch", "external_ref"),  # at most 64 characters
        ("duplicate_in_file", "external_ref"),
        ("unknown_choice", "facility"),
        ("not_an_integer", "birth_year"),
    }, issues
    for issue in body["issues"]:
        assert len(issue["message"]) < 300 and len(issue["column"]) <= 60, issue
        if "Q" in issue["message"]:
            assert f"'{'Q' * 59}…'" in issue["message"], issue
    real = store_cases(client, region, content, name)
    assert len(real.content) < 1000 * len(body["issues"]), len(real.content)


@pytest.mark.parametrize("name", ["x.xlsx", "x.csv"])
@pytest.mark.parametrize("blank", ["\u200b", "\xa0", "\ufeff", "\u200e", " \u200b\xa0"], ids=repr)
def test_a_header_cell_of_only_invisible_characters_is_no_column(client, region, name, blank):
    # A cell that shows nothing is empty, wherever it is: as a header right of the table it
    # was refused as `Onbekende kolom '​'` (nothing to see between the quotes), and a row of
    # such cells, or a reference cell ending in one, was data nobody could see.
    lines = table([case_row("K-1"), case_row("K-2", **{"Eigen kenmerk": f"K-2{blank}"})])
    lines[0].append(blank)
    lines.append([blank] * len(lines[0]))
    content = xlsx(lines) if name.endswith("xlsx") else csv_file(lines)
    response = store_cases(client, region, content, name)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["rows"]) == (2, 2), body
    assert [i["external_ref"] for i in body["items"]] == ["K-1", "K-2"]
    # Under such a header, data is a column without a header, as under an empty one.
    lines[1].append("iets")
    content = xlsx(lines) if name.endswith("xlsx") else csv_file(lines)
    body = store_cases(client, region, content, name, dry_run=True).json()
    assert [(i["code"], i["cell"]) for i in body["issues"]] == [
        ("column_without_header", f"{letter(len(lines[0]) - 1)}1")
    ]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_a_spreadsheet"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "legacy_or_protected_excel"),
        (b"PK\x03\x04 not really a zip", "unreadable_file"),
        (b"", "empty_file"),
        ("Eigen kenmerk;Voorziening\r\n".encode("utf-16"), "utf16_text"),
    ],
    ids=["pdf", "png", "xls", "broken-zip", "empty", "utf16"],
)
def test_a_file_that_is_no_spreadsheet_is_named_for_what_it_is(client, region, content, code):
    assert codes(check(client, region, content)) == [code]


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (
            b"\xef\xbb\xbf<html xmlns:x='urn:schemas-microsoft-com:office:excel'>\r\n<body>"
            b"<table><tr><td>Eigen kenmerk</td><td>Voorziening</td></tr></table>",
            "een webpagina (HTML)",
        ),
        (b"\r\n<TABLE><TR><TD>Eigen kenmerk;Voorziening</TD></TR></TABLE>", "een webpagina (HTML)"),
        (
            b'<?xml version="1.0"?>\r\n<?mso-application progid="Excel.Sheet"?>\r\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet '
            b'ss:Name="Dossiers"><Table><Row><Cell><Data ss:Type="String">Eigen kenmerk</Data>',
            "een XML-spreadsheet (Excel 2003)",
        ),
    ],
    ids=["html", "table", "xml-2003"],
)
def test_a_web_page_or_xml_saved_as_excel_is_named_for_what_it_is(client, region, content, what):
    # Many systems export 'Excel' as an HTML table or Excel 2003 XML named .xls: read as CSV,
    # its first line was refused as an unknown column '<html ...>', and every required column
    # as missing, which says nothing of what to do.
    body = check(client, region, content, "export.xls")
    assert codes(body) == ["not_a_spreadsheet"]
    assert body["issues"][0]["message"].startswith(f"Dit is {what}, geen Excel-werkmap of CSV")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _damaged(how: str) -> bytes:
    """A case workbook whose zip is damaged `how`, each header and part byte-patched."""
    content = bytearray(xlsx(table([case_row("K-1")])))
    sheet = zipfile.ZipFile(io.BytesIO(bytes(content))).getinfo("xl/worksheets/sheet1.xml")
    for signature, flags, method, size in ((b"PK\x01\x02", 8, 10, 24), (b"PK\x03\x04", 6, 8, 22)):
        at = content.find(signature)
        while at != -1:
            if how == "encrypted":  # the flag bit of a zip with a password (ZipCrypto)
                content[at + flags] |= 1
            elif how == "unknown-method":  # 99: AES, as 7-Zip writes a zip with a password
                content[at + method : at + method + 2] = (99).to_bytes(2, "little")
            elif how == "understated-size" and at in (sheet.header_offset, _central(content, at)):
                content[at + size : at + size + 4] = (100).to_bytes(4, "little")
            at = content.find(signature, at + 1)
    if how == "damaged-data":
        start = sheet.header_offset + 30 + len(sheet.filename) + len(sheet.extra)
        for at in range(start + 5, start + 40):
            content[at] ^= 0x55
    return bytes(content)


def _central(content: bytearray, at: int) -> int:
    """`at` when the central directory entry there is the sheet's, else -1."""
    length = int.from_bytes(content[at + 28 : at + 30], "little")
    return at if content[at + 46 : at + 46 + length] == b"xl/worksheets/sheet1.xml" else -1


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("encrypted", "legacy_or_protected_excel"),
        ("unknown-method", "unreadable_file"),
        ("damaged-data", "unreadable_file"),
        ("understated-size", "unreadable_file"),
    ],
)
def test_a_damaged_or_encrypted_zip_is_refused_not_a_server_error(client, region, how, code):
    # Unpacking its parts raised RuntimeError, NotImplementedError, zlib.error or BadZipFile
    # (a part longer than its declared size, as a zip bomb understates it): a 500.
    body = check(client, region, _damaged(how))
    assert codes(body) == [code], body
    expected = "wachtwoord" if how == "encrypted" else "beschadigd"
    assert expected in body["issues"][0]["message"], body


def test_opendocument_and_word_files_are_named(client, region):
    ods = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""})
    assert codes(check(client, region, ods, "x.ods")) == ["opendocument"]
    docx = _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b""})
    body = check(client, region, docx, "x.docx")
    assert "Word-document" in body["issues"][0]["message"]


def test_a_csv_saved_in_windows_encoding_is_refused_with_how_to_save_it(client, region):
    lines = table([case_row("K-1", Voorziening="Maatschappelijke Opvang", Straat="Café")])
    content = csv_file(lines, bom=False).decode().encode("cp1252")
    body = check(client, region, content, "x.csv")
    assert codes(body) == ["not_utf8"]
    assert "CSV UTF-8" in body["issues"][0]["message"] and body["issues"][0]["row"] == 2


def test_a_comma_separated_csv_is_refused(client, region):
    body = check(client, region, csv_file(table([case_row("K-1")]), delimiter=","), "x.csv")
    assert codes(body) == ["wrong_delimiter"]


@pytest.mark.parametrize(
    ("header", "value", "code"),
    [
        ("Klaar voor uitstroom sinds", "01-03-25", "two_digit_year"),
        ("Klaar voor uitstroom sinds", "gisteren", "not_a_date"),
        ("Belastbaar jaarinkomen", "1,234.56", "ambiguous_amount"),
        ("Belastbaar jaarinkomen", "veel", "not_an_amount"),
        ("Belastbaar jaarinkomen", "16250,123", "decimal_max_places"),
        ("Inkomen stabiel", "misschien", "not_yes_or_no"),
        ("Voorziening", "Kliniek", "unknown_choice"),
        ("Volwassenen", "1,5", "not_an_integer"),
        ("Volwassenen", "\u0662", "not_an_integer"),  # Arabic-Indic 2: the API reads none
        ("Klaar voor uitstroom sinds", "\uff10\uff11-03-2025", "not_a_date"),  # fullwidth 01
        ("Eigen kenmerk", "K 1", "string_pattern_mismatch"),
        ("Voorkeursgebieden", "GM0344, Utrecht", "string_pattern_mismatch"),
    ],
)
def test_a_bad_cell_is_named_with_row_column_and_reason(client, region, header, value, code):
    lines = table([case_row("K-1"), case_row("K-2", **{header: value})])
    body = check(client, region, csv_file(lines), "x.csv")
    [issue] = body["issues"]
    assert (issue["row"], issue["column"], issue["code"]) == (3, header, code)
    assert issue["message"] not in ("", "Ongeldige waarde."), issue


HEADER, NUL_ROW = table([case_row("K-1\x00")])


@pytest.mark.parametrize(
    ("content", "name"),
    [
        # Excel writes a control character in a cell as `_x0000_`; the readers give it back.
        (xlsx(table([case_row("K-1_x0000_")])), "x.xlsx"),
        # In a CSV after 3000 empty lines, past the first 8 kB where a binary file is told.
        (csv_file([HEADER, *[[""]] * 3000, NUL_ROW]), "x.csv"),
    ],
    # Named: pytest before 9.2 makes an id of the bytes, and the workbook's bytes hold the time
    # it was written, so xdist's workers collected different tests.
    ids=["xlsx", "csv"],
)
def test_a_nul_byte_in_the_reference_cell_is_a_cell_issue(client, region, content, name):
    """The references were looked up as typed: PostgreSQL refuses a NUL byte in a query (a
    500 instead of the report)."""
    body = check(client, region, content, name)
    [issue] = body["issues"]
    assert (issue["row"], issue["column"], issue["code"]) == (
        3002 if name == "x.csv" else 2,
        "Eigen kenmerk",
        "string_pattern_mismatch",
    )


def test_the_same_reference_twice_in_a_file_names_both_rows(client, region):
    body = check(client, region, xlsx(table([case_row("K-1"), case_row("K-1")])))
    [issue] = body["issues"]
    assert (issue["row"], issue["code"]) == (3, "duplicate_in_file")
    assert "rij 2" in issue["message"]


@pytest.mark.parametrize("name", ["x.xlsx", "x.csv"])
def test_data_in_a_column_without_a_header_is_refused_in_either_format(client, region, name):
    """A cell right of the last header (a note typed beside the row) is refused with its
    column, in a CSV as in the same sheet saved as .xlsx: a CSV's header line is only as long
    as its headers, so the CSV imported the row and dropped the cell unseen."""
    lines = table([case_row("K-1")])
    lines[1].append("schulden bij de buurman")
    content = xlsx(lines) if name.endswith(".xlsx") else csv_file(lines)

    body = check(client, region, content, name)

    column = letter(len(lines[0]))
    [issue] = body["issues"]
    assert (issue["code"], issue["column"], issue["cell"]) == (
        "column_without_header",
        column,
        f"{column}1",
    )


def test_an_empty_sheet_has_no_header(client, region):
    workbook = Workbook()
    assert workbook.active is not None
    workbook.active.title = "Dossiers"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert codes(check(client, region, buffer.getvalue())) == ["no_header"]


def test_a_title_above_the_header_is_fine(client, region):
    lines = [["Wachtlijst per " + nl(TODAY)], [], *table([case_row("K-1")])]
    response = upload(
        client,
        CASES,
        xlsx(lines, merge=["A1:D1"]),
        region.care_provider.headers,
        table_id=region.table_id,
    )
    body = response.json()
    assert body["valid"] is True, body["issues"]
    assert [(i["row"], i["external_ref"]) for i in body["items"]] == [(4, "K-1")]


def test_a_sheet_whose_header_names_no_column_is_refused_with_the_header_named(client, region):
    lines = [["Cliënt", "Wachtend sinds", "Huishouden"], ["K-1", nl(TODAY), "1"]]
    body = check(client, region, xlsx(lines))
    assert {(i["row"], i["code"]) for i in body["issues"]} >= {(1, "unknown_column")}
    assert "missing_column" in codes(body)


def test_two_files_in_one_import_are_refused_not_one_of_them_read(client, region):
    good = csv_file(table([case_row("K-1")]))
    files = [("file", ("a.csv", good, "text/csv")), ("file", ("b.csv", b"x;y\n", "text/csv"))]
    for dry_run in ("true", "false"):
        response = client.post(
            CASES,
            params={"tableId": region.table_id, "dryRun": dry_run},
            files=files,
            headers=region.care_provider.headers,
        )
        [param] = assert_problem(response, 400, "validation_error")["invalidParams"]
        assert (param["name"], param["code"]) == ("file", "repeated_parameter")
    assert client.get("/v1/cases", headers=region.care_provider.headers).json()["items"] == []
    stranger = client.post(CASES, files=files)
    assert_problem(stranger, 401)


def test_a_csv_wider_than_a_spreadsheet_is_refused_with_its_row(client, region):
    """A spreadsheet has at most 16,384 columns (XFD); a line of a CSV with more fields is no
    sheet's, and naming its columns' letters made the import answer 500."""
    header = table([case_row("K-1")])[0]
    lines = [[*header, *[""] * 20_000], case_row("K-1").values()]
    body = check(client, region, csv_file([list(line) for line in lines]), "x.csv")
    assert codes(body) == ["too_many_columns"]
    assert body["issues"][0]["row"] == 1
    assert "16384" in body["issues"][0]["message"]


def test_a_workbook_cell_beyond_the_last_column_is_refused_with_its_row(client, region):
    """Excel writes no cell right of XFD; a generator that does (`AAAA1`) gets the same answer
    as the wide CSV, not a 500."""
    header = table([case_row("K-1")])[0]
    workbook = zipfile.ZipFile(io.BytesIO(xlsx([[*header, "x"], list(case_row("K-1").values())])))
    members = {name: workbook.read(name) for name in workbook.namelist()}
    far = f'r="{letter(len(header))}1"'.encode()
    sheet = "xl/worksheets/sheet1.xml"
    assert far in members[sheet]
    members[sheet] = members[sheet].replace(far, b'r="AAAA1"')
    body = check(client, region, _zip(members))
    assert codes(body) == ["too_many_columns"]
    assert body["issues"][0]["row"] == 1


@pytest.mark.parametrize(
    "far",
    [
        b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>',
        b"<c r='XFD1048576'><v>1</v></c>",
        b"<c><v>1</v></c>" * 16_384,
    ],
    ids=["last cell by reference", "single-quoted reference", "a row of unreferenced cells"],
)
def test_a_sheet_spanning_millions_of_empty_cells_is_refused_before_it_is_read(client, region, far):
    """Two cells, A1 and XFD1048576, in a file of a few kB span 17 billion: the XLSX reader
    allocated them all (512 GB) and its allocation failure aborted the server process. The
    span is measured first and a sheet beyond what a file of the size limit could fill is
    refused; the row's cells may leave out their references (columns then count on)."""
    content = xlsx(table([case_row("K-1")]))
    workbook = zipfile.ZipFile(io.BytesIO(content))
    members = {name: workbook.read(name) for name in workbook.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert b"</row></sheetData>" in members[sheet]
    last = b'</row><row r="1048576">' + far + b"</row></sheetData>"
    members[sheet] = members[sheet].replace(b"</row></sheetData>", last)
    body = check(client, region, _zip(members))
    assert codes(body) == ["sheet_too_large"]


def test_a_merge_over_the_whole_sheet_is_refused_before_it_is_read(client, region):
    """openpyxl makes an object of every merged cell: one `<mergeCell ref="C3:XFD1048576"/>`
    in a file of a few kB kept the import busy with its memory growing, for every request
    after it too. Merged cells are refused anyway; so big a range is refused before reading."""
    content = xlsx(table([case_row("K-1")]), merge=["C3:D4"])
    workbook = zipfile.ZipFile(io.BytesIO(content))
    members = {name: workbook.read(name) for name in workbook.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert b'ref="C3:D4"' in members[sheet]
    members[sheet] = members[sheet].replace(b'ref="C3:D4"', b'ref="C3:XFD1048576"')
    body = check(client, region, _zip(members))
    assert codes(body) == ["merged_cells"]


def test_a_hyperlink_over_the_whole_sheet_is_refused_before_it_is_read(client, region):
    """openpyxl gives every cell of a hyperlink's range a copy of the link: a workbook of a few
    kB with a formula (so openpyxl reads it) and `<hyperlink ref="C3:XFD1048576"/>` kept the
    import busy with its memory growing."""
    lines = table([case_row("K-1")])
    content = xlsx([lines[0], [*lines[1][:-1], "=1+1"]])
    workbook = zipfile.ZipFile(io.BytesIO(content))
    members = {name: workbook.read(name) for name in workbook.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    link = b'<hyperlinks><hyperlink ref="C3:XFD1048576" display="x"/></hyperlinks>'
    members[sheet] = members[sheet].replace(b"</sheetData>", b"</sheetData>" + link)
    body = check(client, region, _zip(members))
    assert codes(body) == ["too_many_links"]


@pytest.mark.parametrize(
    "far",
    [
        b'<mergeCells count="1"><mergeCell ref="XFD1048575:XFD1048576"/></mergeCells>',
        b'<hyperlinks><hyperlink ref="XFD1048576" display="x"/></hyperlinks>',
    ],
    ids=["two merged cells in the last column", "a hyperlink in the last cell"],
)
def test_a_merge_or_link_in_the_far_corner_is_refused_before_it_is_read(client, region, far):
    """A merged range or a hyperlink gives openpyxl a cell where it lies, and openpyxl then
    reads every position from A1 to it: a range of two cells at the bottom of the last
    column spans the whole sheet."""
    lines = table([case_row("K-1")])
    content = xlsx([lines[0], [*lines[1][:-1], "=1+1"]])
    workbook = zipfile.ZipFile(io.BytesIO(content))
    members = {name: workbook.read(name) for name in workbook.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet].replace(b"</sheetData>", b"</sheetData>" + far)
    body = check(client, region, _zip(members))
    assert codes(body) == ["sheet_too_large"]


def test_a_shared_strings_part_declaring_billions_of_strings_is_refused(client, region):
    """python-calamine reserves room for the strings a workbook says it shares: one that says
    `uniqueCount="4000000000"` asked for 96 GB and aborted the server process. A part cannot
    hold more strings than it has bytes for; one that says so is a damaged file."""
    content = xlsx(table([case_row("K-1")]))
    workbook = zipfile.ZipFile(io.BytesIO(content))
    members = {name: workbook.read(name) for name in workbook.namelist()}
    members["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="4000000000"><si><t>K-1</t></si></sst>'
    )
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    rels = "xl/_rels/workbook.xml.rels"
    members[rels] = members[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    body = check(client, region, _zip(members))
    assert codes(body) == ["unreadable_file"]
