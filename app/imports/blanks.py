"""The downloadable templates: an XLSX with a data sheet (headers, formats, pick lists, a comment
per header) and a `Toelichting` sheet explaining every column, and a CSV with the header line."""

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from app.imports.columns import Column, Kind, Layout
from app.imports.files import EXPLANATION_SHEET, letter

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
TEMPLATE_ROWS = 10_000  # formats and pick lists reach this far down
NUMBER_FORMATS = {
    Kind.date: "DD-MM-YYYY",
    Kind.money: "#,##0.00",
    Kind.integer: "0",
    Kind.text: "@",  # text: Excel keeps leading zeros and does not turn 12-3 into a date
    Kind.area_codes: "@",
    Kind.corporations: "@",
}


def template_file(layout: Layout, format: str) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the template of `layout`; `format` is `xlsx` or
    `csv`."""
    name = f"sjabloon-{layout.title}.{format}"
    if format == "csv":
        return csv_template(layout), CSV_MEDIA_TYPE, name
    return xlsx_template(layout), XLSX_MEDIA_TYPE, name


def header_text(column: Column) -> str:
    """The header as the template writes it; `*` marks a required column (ignored on reading)."""
    return f"{column.header} *" if column.required else column.header


def allowed_values(column: Column) -> str:
    if column.kind == Kind.boolean:
        return "ja, nee"
    if column.kind in (Kind.choice, Kind.choices):
        return ", ".join(column.choices.values())
    return ""


def csv_template(layout: Layout) -> bytes:
    """The header line, semicolon-separated UTF-8 with a byte-order mark (as Excel expects)."""
    line = ";".join(header_text(c) for c in layout.columns)
    return ("\ufeff" + line + "\r\n").encode()


def xlsx_template(layout: Layout) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = layout.sheet
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(layout.columns):
        cell = sheet.cell(row=1, column=index + 1, value=header_text(column))
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        comment = column.help + (
            f" Keuzes: {allowed_values(column)}." if allowed_values(column) else ""
        )
        cell.comment = Comment(comment, "Uitstroomtafel", width=320, height=140)
        col = letter(index)
        sheet.column_dimensions[col].width = max(14, len(column.header) + 4)
        if fmt := NUMBER_FORMATS.get(column.kind):
            for row in range(2, 201):  # formatting every row would bloat the file
                sheet.cell(row=row, column=index + 1).number_format = fmt
        if column.kind in (Kind.choice, Kind.boolean):
            values = allowed_values(column).replace(", ", ",")
            validation = DataValidation(
                type="list",
                formula1=f'"{values}"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Kies uit de lijst",
                error=f"Kies uit: {allowed_values(column)}",
            )
            validation.add(f"{col}2:{col}{TEMPLATE_ROWS}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    explained = workbook.create_sheet(EXPLANATION_SHEET)
    explained.append([f"Sjabloon voor het inlezen van {layout.title} in de uitstroomtafel"])
    explained["A1"].font = Font(bold=True, size=13)
    for line in (
        f"Vul het werkblad '{layout.sheet}' in: één rij per {_one(layout)}, de kolomkoppen op "
        "de eerste rij. Kolommen met * zijn verplicht; andere kolommen mag u weglaten (bij een "
        "bestaand kenmerk blijft dan wat er al staat).",
        "Datums als dd-mm-jjjj, bedragen met een komma voor de centen (650,00), ja of nee. "
        "Geen formules: plak berekende kolommen als waarden. Geen namen, BSN of vrije tekst.",
        "Opslaan als Excel-werkmap (.xlsx) of als 'CSV UTF-8' (puntkomma's). Eerst controleren, "
        "dan inlezen: bij één fout wordt niets opgeslagen.",
    ):
        explained.append([line])
    explained.append([])
    explained.append(["Kolom", "Verplicht", "Betekenis", "Toegestane waarden", "Voorbeeld"])
    heading_row = explained.max_row
    for cell in explained[heading_row]:
        cell.font = bold
    for column in layout.columns:
        explained.append(
            [
                column.header,
                "ja" if column.required else "nee",
                column.help,
                allowed_values(column),
                column.example,
            ]
        )
    for col, width in zip("ABCDE", (30, 10, 70, 45, 30), strict=True):
        explained.column_dimensions[col].width = width
    for row in explained.iter_rows(min_row=heading_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _one(layout: Layout) -> str:
    return "dossier" if layout.kind == "cases" else "woning"
