"""What an import answers: the report of a dry run or an import, with every problem named."""

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from openpyxl.utils import column_index_from_string
from pydantic import BaseModel, Field

from app.imports.files import Issue

if TYPE_CHECKING:
    from app.imports.service import ImportResult


class ImportKind(StrEnum):
    cases = "cases"
    dwellings = "dwellings"


class FileFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


class TemplateFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


class ImportIssuePublic(BaseModel):
    row: int | None = Field(
        description="Row number as the spreadsheet shows it (the header is usually row 1); null "
        "when the problem is the file as a whole."
    )
    column: str | None = Field(description="The column's header as it stands in the file.")
    cell: str | None = Field(description="Cell or range, e.g. `C7` or `A1:C1`.", examples=["C7"])
    field: str | None = Field(
        description="The API field the column fills, e.g. `household.adults`."
    )
    code: str = Field(description="Machine-readable problem code.", examples=["excel_serial_date"])
    message: str = Field(description="What is wrong and how to fix it, in Dutch.")


class ImportRowPublic(BaseModel):
    row: int = Field(description="The row's number in the file (the header is row 1).")
    external_ref: str
    outcome: str = Field(description="`created`, `updated` or `unchanged`.")
    id: uuid.UUID | None = Field(
        description="The case or dwelling; null for a creation in a dry run (nothing stored)."
    )


class ImportReport(BaseModel):
    """The outcome of an import. A dry run stores nothing; a real import stores all rows or,
    when any problem is found, nothing (400 with the same `issues`)."""

    kind: ImportKind = Field(description="`cases` or `dwellings`.")
    dry_run: bool = Field(description="True when nothing was stored (a check only).")
    valid: bool = Field(description="True when the file has no problems at all.")
    format: FileFormat | None = Field(description="Null when the file is no spreadsheet.")
    sheet: str | None = Field(description="The worksheet read (XLSX).")
    table_id: uuid.UUID | None = Field(description="The table cases are imported into.")
    sha256: str = Field(description="SHA-256 of the file, to tell files apart.")
    rows: int = Field(description="Non-empty data rows read.")
    skipped_empty_rows: int = Field(
        description="Empty rows between data rows, skipped (a blank tail is not counted)."
    )
    created: int = Field(description="Rows that are (or would be) new.")
    updated: int = Field(
        description="Rows that change an existing case or dwelling (same `external_ref`)."
    )
    unchanged: int = Field(description="Rows equal to what is stored.")
    items: list[ImportRowPublic] = Field(
        description="Per row that is (or would be) stored: what happens to it."
    )
    issues: list[ImportIssuePublic] = Field(
        description="Every problem found, per row and column; empty when `valid`."
    )


def issue_public(issue: Issue) -> ImportIssuePublic:
    return ImportIssuePublic(
        row=issue.row,
        column=issue.column,
        cell=issue.cell,
        field=issue.field,
        code=issue.code,
        message=issue.message,
    )


def report(result: "ImportResult") -> ImportReport:
    """The public report of a checked or stored import, issues ordered as the sheet shows them."""
    return ImportReport(
        kind=ImportKind(result.kind),
        dry_run=result.dry_run,
        valid=result.valid,
        format=FileFormat(result.format) if result.format else None,
        sheet=result.sheet,
        table_id=result.table_id,
        sha256=result.sha256,
        rows=result.rows,
        skipped_empty_rows=result.skipped_empty_rows,
        created=sum(o.outcome == "created" for o in result.outcomes),
        updated=sum(o.outcome == "updated" for o in result.outcomes),
        unchanged=sum(o.outcome == "unchanged" for o in result.outcomes),
        items=[
            ImportRowPublic(row=o.row, external_ref=o.external_ref, outcome=o.outcome, id=o.id)
            for o in result.outcomes
        ],
        issues=[issue_public(i) for i in sorted(result.issues, key=issue_order)],
    )


def issue_order(issue: Issue) -> tuple[int, int]:
    """By row, then by column as the spreadsheet orders them (B before AA)."""
    letters = "".join(ch for ch in (issue.cell or "").split(":")[0] if ch.isalpha())
    return (issue.row or 0, column_index_from_string(letters) if letters else 0)
