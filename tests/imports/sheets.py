"""Spreadsheets written the way people fill them in, built inside the tests with dates relative
to the suite's clock (`tests.clock.TODAY`)."""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook

from tests.clock import TODAY, day

Row = dict[str, Any]


def nl(value: date) -> str:
    """A date as Dutch people type it: dd-mm-jjjj."""
    return f"{value.day:02d}-{value.month:02d}-{value.year}"


def case_row(ref: str, **overrides: Any) -> Row:
    """One client, by the template's Dutch headers (required columns and a few optional ones)."""
    row: Row = {
        "Eigen kenmerk": ref,
        "Voorziening": "Beschermd Wonen",
        "Klaar voor uitstroom sinds": nl(day(-200)),
        "Geboortejaar": TODAY.year - 35,
        "Volwassenen": 1,
        "Kinderen": 0,
        "Inkomensbron": "Participatiewet (bijstand)",
        "Belastbaar jaarinkomen": "16.250,00",
        "Inkomen stabiel": "ja",
        "Wmo-beschikking": "Toegekend",
        "Begeleiding": "Gemiddeld",
        "Voorkeursgebieden": "GM0344",
    }
    row.update(overrides)
    return row


def dwelling_row(ref: str, municipality: str = "GM0344", **overrides: Any) -> Row:
    row: Row = {
        "Eigen kenmerk": ref,
        "Straat": "Kastanjelaan",
        "Huisnummer": "12A",
        "Postcode": "3512 ab",
        "Gemeentecode": municipality,
        "Buurtcode": f"BU{municipality[2:]}0101",
        "Complex": "CPX-1",
        "Woningtype": "Appartement",
        "Kamers": 2,
        "Verdieping": 1,
        "Lift": "ja",
        "Kale huur": "650,00",
        "Servicekosten subsidiabel": "35,00",
        "Beschikbaar vanaf": nl(day(14)),
        "Contingent": "ja",
        "Contractvormen": "Eigen huurcontract",
    }
    row.update(overrides)
    return row


def table(rows: Sequence[Row], headers: Iterable[str] | None = None) -> list[list[Any]]:
    """Header line plus one line per row (a missing key is an empty cell)."""
    names = (
        list(headers) if headers is not None else list(dict.fromkeys(k for r in rows for k in r))
    )
    return [names, *[[r.get(h) for h in names] for r in rows]]


def xlsx(
    lines: list[list[Any]],
    sheet: str = "Dossiers",
    *,
    extra_sheets: Sequence[str] = (),
    merge: Sequence[str] = (),
) -> bytes:
    """An .xlsx with `lines` on `sheet` from A1 (values typed as given: str, int, date ...)."""
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for line in lines:
        worksheet.append(line)
    for cells in merge:
        worksheet.merge_cells(cells)
    for name in extra_sheets:
        workbook.create_sheet(name)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def stored_as_excel_does(content: bytes, cells: dict[str, float]) -> bytes:
    """`content` (an `xlsx` of one sheet) with the numbers of `cells` written as Excel writes
    them, in 17 significant digits: a computed 650,10*3 is `1950.3000000000002`, where openpyxl
    writes the 15 digits Excel shows (`1950.3`)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for cell, number in cells.items():
                    text, found = re.subn(
                        rf'(<c r="{cell}"[^>]*><v>)[^<]*(</v>)', rf"\g<1>{number!r}\g<2>", text
                    )
                    assert found == 1, cell
                data = text.encode()
            archive.writestr(info, data)
    return buffer.getvalue()


def csv_file(lines: list[list[Any]], *, bom: bool = True, delimiter: str = ";") -> bytes:
    """CSV as Excel writes 'CSV UTF-8': semicolons, CRLF, a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for line in lines:
        writer.writerow(["" if v is None else v for v in line])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def upload(
    client: Any,
    path: str,
    content: bytes,
    headers: dict[str, str],
    name: str = "x.xlsx",
    **params: Any,
):  # type: ignore[no-untyped-def]
    """POST the file as multipart/form-data, as a browser or curl -F does (`table_id=` and
    `dry_run=` become the query keys `tableId` and `dryRun`)."""
    query = {_camel(k): (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items()}
    return client.post(path, params=query, files={"file": (name, content)}, headers=headers)


CASES = "/v1/cases/imports"


def store_cases(  # type: ignore[no-untyped-def]
    client: Any,
    region: Any,
    content: bytes,
    name: str = "x.xlsx",
    *,
    dry_run: bool = False,
    **params: Any,
):
    """Import `content` for the region's care provider at its table, for real unless `dry_run`;
    `params`: more query keys, as for `upload`."""
    return upload(
        client,
        CASES,
        content,
        region.care_provider.headers,
        name,
        table_id=region.table_id,
        dry_run=dry_run,
        **params,
    )


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
