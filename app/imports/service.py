# Size: one import in order (rows, plans, write, report); a seam: the dwelling half could move.
"""Importing a spreadsheet of case files (a care provider's own) or dwellings (a corporation's own).

Every row is read into the API's own schema (`CaseCreate`, `VacancyIn`) and written through the
same services as the JSON API (`app.cases.service`, `app.vacancies.service`), so the same rules,
access log, transitions and events apply. The whole file is written in one savepoint: a dry run,
or any invalid row, rolls all of it back, so an import is all or nothing.

Identity is the organisation's `external_ref`:
- an unknown reference creates the case or dwelling;
- a known one whose row holds the same data changes nothing (`unchanged`), so importing the
  same file twice stores nothing the second time;
- a known one with other data is updated through the service's normal update (a case by merge
  patch with its version as `If-Match`; a dwelling by upsert). Columns the file does not have
  keep their stored values; an empty cell in a column it has clears the field to its default;
- cases and dwellings absent from the file are left alone: an import never withdraws anything.
"""

import copy
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from app import versioning
from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.cases import anonymised_references
from app.cases import service as cases_service
from app.cases.models import Case, CaseCreate, CaseFields, CaseUpdate
from app.cases.service import DuplicateCase
from app.database import CASE_IMPORTS, LostRace, lock_number, take_advisory_lock
from app.flat import nest
from app.imports import cells
from app.imports.columns import CASES, DWELLINGS, Column, Layout
from app.imports.files import FileRefused, Grid, Issue, letter, read_grid
from app.imports.messages import (
    SERVICE_MESSAGES,
    quoted,
    schema_message,
    service_message,
    with_bound_day,
)
from app.lifecycle import TransitionRefused
from app.organisations.models import Organisation, OrganisationKind
from app.organisations.service import names_of
from app.problems import Conflict, PreconditionFailed, ProblemError, Unprocessable
from app.schemas import EXTERNAL_REF_PATTERN
from app.tables.models import OutflowTable, TableMember
from app.vacancies import service as vacancies_service
from app.vacancies.models import VacancyIn, vacancy_public_dict

CHUNK = 500  # references per IN (...) query
STORABLE_REF = re.compile(EXTERNAL_REF_PATTERN)


@dataclass(slots=True)
class RowOutcome:
    row: int
    external_ref: str
    outcome: str  # created | updated | unchanged
    id: uuid.UUID | None  # None for a creation in a dry run (nothing was stored)


@dataclass(slots=True)
class ImportResult:
    kind: str
    dry_run: bool
    sha256: str
    format: str | None = None
    sheet: str | None = None
    table_id: uuid.UUID | None = None
    rows: int = 0
    skipped_empty_rows: int = 0
    outcomes: list[RowOutcome] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.issues


class ImportRejected(ProblemError):
    """400: the file has problems; each is listed, and nothing of the file was stored."""

    status, code, title = 400, "import_rejected", "Import rejected"

    def __init__(self, result: ImportResult):
        from app.imports.models import issue_order, issue_public

        ordered = sorted(result.issues, key=issue_order)  # as the report of a dry run lists them
        issues = [issue_public(i).model_dump(mode="json") for i in ordered]
        params = [
            {
                "name": _param_name(i),
                "in": "body",
                "code": i.code,
                "reason": i.message,
            }
            for i in ordered
        ]
        super().__init__(
            f"{len(issues)} problem(s) in the file; nothing was stored",
            invalidParams=params,
            issues=issues,
        )


def _param_name(issue: Issue) -> str:
    """`file`, or `file[row 7].household.adults` / `file[row 7][C7]`: where the problem is."""
    name = "file"
    if issue.row is not None:
        name += f"[row {issue.row}]"
    if issue.field:
        return f"{name}.{issue.field}"
    if issue.cell:
        name += f"[{issue.cell}]"
    return name


# --- rows into API documents ---------------------------------------------------------------


@dataclass(slots=True)
class Row:
    number: int
    ref: str | None
    data: dict[str, Any]  # the API document of the columns the file has
    columns: dict[str, tuple[int, str]]  # field name -> (column index, header as in the file)
    failed: set[str] = field(default_factory=set)  # fields whose cell could not be read
    ok: bool = True


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        document = document.setdefault(name, {})
    document[path[-1]] = value


def _rows(
    grid: Grid, issues: list[Issue], corporations: cells.Corporations | None = None
) -> list[Row]:
    """Every non-empty row as an API document, with an issue per cell that cannot be read."""
    rows = []
    by_name = {column.name: (index, header) for index, header, column in grid.columns}
    for number, values in grid.rows:
        row = Row(number, None, {}, by_name)
        for index, header, column in grid.columns:
            raw = values[index] if index < len(values) else None
            cell = f"{letter(index)}{number}"
            if cells.is_empty(raw):
                if column.required:
                    issues.append(
                        Issue(
                            "missing",
                            "Verplicht: niet ingevuld.",
                            row=number,
                            column=header,
                            cell=cell,
                            field=column.name,
                        )
                    )
                    row.failed.add(column.name)
                    row.ok = False
                else:
                    _set(row.data, column.path, copy.deepcopy(column.default))
                continue
            try:
                value = cells.read(column, raw, corporations, date1904=grid.date1904)
            except cells.CellError as error:
                issues.append(
                    Issue(
                        error.code,
                        error.message,
                        row=number,
                        column=header,
                        cell=cell,
                        field=column.name,
                    )
                )
                row.failed.add(column.name)
                row.ok = False
                continue
            _set(row.data, column.path, value)
        ref = row.data.get("external_ref")
        row.ref = ref if isinstance(ref, str) else None
        rows.append(row)
    return rows


def _repeated_refs(rows: list[Row], issues: list[Issue]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if row.ref is None:
            continue
        if row.ref in first:
            index, header = row.columns["external_ref"]
            issues.append(
                Issue(
                    "duplicate_in_file",
                    f"Het kenmerk '{quoted(row.ref)}' staat ook op rij {first[row.ref]}.",
                    row=row.number,
                    column=header,
                    cell=f"{letter(index)}{row.number}",
                    field="external_ref",
                )
            )
            row.ok = False
        else:
            first[row.ref] = row.number


def _schema_issues(row: Row, errors: Iterable[Any], layout: Layout) -> list[Issue]:
    columns = {c.name: c for c in layout.columns}
    found = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = schema_message(error, _path(loc))
        found.append(_issue_at(row, columns, loc, error.get("type", "invalid"), message))
    return found


def _path(loc: tuple[Any, ...]) -> str:
    """`("areas", "preferred", 0)` -> `areas.preferred` (list positions are shown in the text)."""
    return ".".join(str(p) for p in loc if not isinstance(p, int))


def _issue_at(
    row: Row, columns: dict[str, Column], loc: tuple[Any, ...], code: str, message: str
) -> Issue:
    """An issue on the column of field `loc`, or of its nearest parent the file has a column
    for (a rule across fields, `areas`, lands on its first column)."""
    name = _path(loc)
    candidates = [name] + [c for c in columns if c.startswith(name + ".")] if name else []
    for candidate in candidates:
        if candidate in row.columns:
            index, header = row.columns[candidate]
            return Issue(
                code,
                message,
                row=row.number,
                column=header,
                cell=f"{letter(index)}{row.number}",
                field=candidate,
            )
    column = columns.get(name)
    return Issue(
        code, message, row=row.number, column=column.header if column else None, field=name or None
    )


def _problem_issues(row: Row, exc: ProblemError, layout: Layout) -> list[Issue]:
    """What a service refused for this row, on the columns it names."""
    columns = {c.name: c for c in layout.columns}
    params = exc.extra.get("invalidParams") or []
    if not params:
        return [_issue_at(row, columns, (), exc.code, service_message(exc.code))]
    issues = []
    for param in params:
        name = str(param.get("name", ""))
        code = str(param.get("code", exc.code))
        if code in SERVICE_MESSAGES:
            message = with_bound_day(service_message(code), code, param.get("reason"))
        else:  # a schema rule that only fails once merged with the stored file (PATCH)
            error = {"type": code, "msg": param.get("reason", ""), "loc": tuple(name.split("."))}
            message = schema_message(error, name)
        issues.append(_issue_at(row, columns, tuple(name.split(".")), code, message))
    return issues


# --- the savepoint -------------------------------------------------------------------------


def _validate(
    schema: type[BaseModel], row: Row, document: dict[str, Any], issues: list[Issue]
) -> Any:
    """The row as `schema`, or None with its errors as issues. A row with unreadable cells is
    validated too, so that one check names every bad cell; the unreadable ones are named already."""
    layout = CASES if schema is CaseCreate else DWELLINGS
    try:
        validated = schema.model_validate(document)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _named_already(_path(tuple(e["loc"])), row)]
        issues.extend(_schema_issues(row, errors, layout))
        row.ok = False
        return None
    return validated if row.ok else None


def _named_already(path: str, row: Row) -> bool:
    """Whether a schema error at `path` is one an unreadable cell of the row already names:
    the field itself, or its parent object left missing because its only cell was empty (an
    empty `Begeleiding` leaves `support` missing, which would name K61 twice)."""
    return any(failed == path or failed.startswith(f"{path}.") for failed in row.failed)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _open(
    layout: Layout, content: bytes, dry_run: bool, sheet: str | None, max_rows: int
) -> tuple[ImportResult, Grid | None]:
    result = ImportResult(layout.kind, dry_run, sha256(content))
    try:
        grid = read_grid(content, layout, sheet=sheet, max_rows=max_rows)
    except FileRefused as refused:
        result.issues = refused.issues
        result.format, result.sheet = refused.format, refused.sheet
        return result, None
    result.format, result.sheet = grid.format, grid.sheet
    result.rows, result.skipped_empty_rows = len(grid.rows), grid.skipped_empty_rows
    return result, grid


def _finish(savepoint: Any, result: ImportResult) -> None:
    """Keep the file's writes only for a real import without a single problem."""
    if not savepoint.is_active:
        # A service rolled the whole transaction back (a concurrent insert of the same
        # reference); what ran after that is outside the savepoint, so refuse the request and
        # let its transaction roll back too.
        raise Conflict(
            "The import met a concurrent change of the same records; nothing was stored. "
            "Check the file again.",
            code="import_interrupted",
        )
    if result.dry_run or not result.valid:
        savepoint.rollback()
        for outcome in result.outcomes:
            if outcome.outcome == "created":
                outcome.id = None
    else:
        savepoint.commit()


# --- cases ---------------------------------------------------------------------------------


def member_tables(session: Session, org_id: uuid.UUID) -> list[OutflowTable]:
    """The tables the organisation sits at, by name (a care provider picks one to import into)."""
    return list(
        session.exec(
            select(OutflowTable)
            .join(TableMember, col(TableMember.table_id) == col(OutflowTable.id))
            .where(TableMember.organisation_id == org_id)
            .order_by(OutflowTable.name)
        ).all()
    )


def import_table(
    session: Session, context: AccessContext, table_id: uuid.UUID | None
) -> OutflowTable:
    """The table cases are imported into: the one given (the caller must sit at it), or else the
    only table the care provider sits at. 403 for another kind of caller, 400 on `tableId`."""
    org_id = context.principal.require_kind(OrganisationKind.care_provider)
    if table_id is not None:
        table = session.get(OutflowTable, table_id)
        if table is None or session.get(TableMember, (table_id, org_id)) is None:
            raise Unprocessable(
                "tableId",
                "no such table, or your organisation is not a member of it",
                "unknown_table",
                "query",
            )
        return table
    tables = member_tables(session, org_id)
    if len(tables) != 1:
        raise Unprocessable(
            "tableId",
            f"required: your organisation sits at {len(tables)} tables; name the one to use",
            "table_required",
            "query",
        )
    return tables[0]


def table_corporations(session: Session, table_id: uuid.UUID) -> cells.Corporations:
    """The housing corporations at the table, by name and id (for the rent-arrears column)."""
    rows = session.exec(
        select(Organisation.id, Organisation.name)
        .join(TableMember, col(TableMember.organisation_id) == col(Organisation.id))
        .where(
            TableMember.table_id == table_id,
            Organisation.kind == OrganisationKind.housing_corporation.value,
        )
        .order_by(Organisation.name)
    ).all()
    by_name: dict[str, list[uuid.UUID]] = {}
    for org_id, name in rows:
        by_name.setdefault(name.strip().casefold(), []).append(org_id)
    return cells.Corporations(by_name, frozenset(i for i, _ in rows), tuple(n for _, n in rows))


def case_corporations(session: Session, case: Case) -> cells.Corporations:
    """The corporations `case`'s rent-arrears field may name on its edit form: those at its
    table, and those the stored file names that have left the table since (`former`), so that
    saving another change keeps them rather than dropping them unseen."""
    known = table_corporations(session, case.table_id)
    stored = {uuid.UUID(i) for i in case.debts_rent_arrears_corporation_ids} - known.ids
    if not stored:
        return known
    former = sorted(names_of(session, stored).items(), key=lambda item: item[1])
    return cells.Corporations(
        known.by_name, known.ids | stored, known.names, tuple((uuid.UUID(i), n) for i, n in former)
    )


def import_corporations(
    session: Session, org_id: uuid.UUID, table_id: uuid.UUID
) -> cells.Corporations:
    """The corporations a rent-arrears cell of the care provider's file may name at the table:
    those at it, and those its stored cases there name that have left it since (`former`), so
    that a file imported again keeps them, as the API and the edit form do
    (`case_corporations`). Only a row of such a case may name a former one (`_former_named`)."""
    known = table_corporations(session, table_id)
    stored: set[uuid.UUID] = set()
    for ids in session.exec(
        select(Case.debts_rent_arrears_corporation_ids).where(
            Case.care_provider_id == org_id, Case.table_id == table_id
        )
    ):
        stored.update(uuid.UUID(i) for i in ids)
    stored -= known.ids
    if not stored:
        return known
    former = sorted(names_of(session, stored).items(), key=lambda item: item[1])
    by_name = {name: list(ids) for name, ids in known.by_name.items()}
    for org, name in former:
        by_name.setdefault(name.strip().casefold(), []).append(uuid.UUID(org))
    return cells.Corporations(
        by_name, known.ids | stored, known.names, tuple((uuid.UUID(i), n) for i, n in former)
    )


def _former_named(
    row: Row, corporations: cells.Corporations, case: Case | None, issues: list[Issue]
) -> None:
    """A row naming a corporation that has left the table, other than one its stored case
    names already: refused on its cell, as any corporation not at the table is."""
    stored = set(case.debts_rent_arrears_corporation_ids) if case is not None else set()
    gone = {str(org): name for org, name in corporations.former}
    named = row.data.get("debts", {}).get("rent_arrears_corporation_ids") or []
    for org in named:
        if org in gone and org not in stored:
            columns = {c.name: c for c in CASES.columns}
            loc = ("debts", "rent_arrears_corporation_ids")
            message = corporations.not_at_table(gone[org])
            issues.append(_issue_at(row, columns, loc, "unknown_corporation", message))
            row.ok = False
            return


def corporation_options(
    session: Session, table_ids: list[uuid.UUID], case: Case | None
) -> list[tuple[str, str]]:
    """The rent-arrears field's choices on a case's form, (id, name): the corporations at
    `table_ids` by name, then those `case`'s stored file names that have left its table since,
    marked so (`case_corporations`)."""
    found: dict[str, str] = {}
    for table_id in table_ids:
        known = table_corporations(session, table_id)
        for name in known.names:
            for org_id in known.by_name[name.strip().casefold()]:
                found[str(org_id)] = name
    gone = case_corporations(session, case).former if case is not None else ()
    return sorted(found.items(), key=lambda item: item[1]) + [
        (str(i), f"{name} (niet meer aan deze tafel)") for i, name in gone
    ]


def _stored_refs(rows: list[Row]) -> list[str]:
    """The rows' references a client can have registered (`app.schemas.ExternalRef`), to look
    up: no other is found, and one with a NUL byte (a CSV cell, or Excel's `_x0000_` in an
    .xlsx cell) made PostgreSQL refuse the query (a 500 instead of the report). The row's check
    names it."""
    return [r.ref for r in rows if r.ref and STORABLE_REF.fullmatch(r.ref)]


def hold_case_imports(session: Session, org_id: uuid.UUID) -> None:
    """Take the care provider's import lock (PostgreSQL: an advisory lock, exclusive) until the
    commit, before the import reads which of its references are registered: an import waits for
    another of the same care provider, holding no case, and then reads its cases as registered.

    Without it two imports of the same references deadlocked, whatever order each inserted its
    new ones in: one that read a reference as registered (by a third request, just after the
    other had checked that it was free) updated that case first and then inserted its new
    references, while the other inserted the same new ones and then that reference, whose unique
    index (`uq_cases_open_external_ref`) waits for the case's update. PostgreSQL ended it by
    aborting one, run again a second later (tests/concurrency/test_retry_safety_races.py).
    Imports are the only writers of several cases' references in one transaction; a registration
    writes one. A dry run writes the file too but takes no lock (a check waits for no import):
    an import inserts its new references before it updates a registered case
    (`_create_cases`), so the two cannot deadlock. SQLite runs one writer at a time."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    lock = lock_number(CASE_IMPORTS, org_id.bytes)
    take_advisory_lock(connection, lock, shared=False, wait=True)


def _existing_cases(session: Session, org_id: uuid.UUID, refs: list[str]) -> dict[str, Case]:
    """The organisation's case per reference: the open one, else the newest closed one (a
    returning client's reference names several cases; the file updates the current one)."""
    found: dict[str, Case] = {}
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        query = (
            select(Case)
            .where(Case.care_provider_id == org_id, col(Case.external_ref).in_(chunk))
            .order_by(col(Case.closed_at).is_(None), col(Case.created_at))
        )
        found.update((case.external_ref, case) for case in session.exec(query))
    return found


def stored_case(case: Case) -> dict[str, Any]:
    """The stored case file as a `CaseCreate` document."""
    data = nest(case, CaseFields)
    data["debts"]["rent_arrears_corporation_ids"] = list(case.debts_rent_arrears_corporation_ids)
    data["external_ref"] = case.external_ref
    return data


def merge(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` over `stored`, group by group."""
    merged = dict(stored)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns `before` into `after` (both validated, as JSON)."""
    patch: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, dict) and isinstance(before.get(key), dict):
            if nested := difference(before[key], value):
                patch[key] = nested
        elif before.get(key) != value:
            patch[key] = value
    return patch


def import_cases(
    session: Session,
    context: AccessContext,
    content: bytes,
    *,
    table_id: uuid.UUID | None,
    sheet: str | None,
    dry_run: bool,
    max_rows: int,
) -> ImportResult:
    """Check (`dry_run`) or import a care provider's case files from an XLSX or CSV file.

    Raises 403 for a caller that is not a care provider and 400 (`tableId`) for a table it does
    not sit at. Every problem in the file is an issue of the result, with its row and column;
    with any issue, or in a dry run, nothing is stored.
    """
    org_id = context.principal.require_kind(OrganisationKind.care_provider)
    table = import_table(session, context, table_id)
    result, grid = _open(CASES, content, dry_run, sheet, max_rows)
    result.table_id = table.id
    if grid is None:
        return result
    corporations = import_corporations(session, org_id, table.id)
    rows = _rows(grid, result.issues, corporations)
    _repeated_refs(rows, result.issues)
    if not dry_run:
        hold_case_imports(session, org_id)
    existing = _existing_cases(session, org_id, _stored_refs(rows))
    # A row under a reference retention took registers nobody: the client left long ago, and a
    # file pushed again would register them anew (`app.cases.anonymised_references`).
    anonymised = anonymised_references.taken(
        session, org_id, [r for r in _stored_refs(rows) if r not in existing]
    )
    plans: list[tuple[Row, Case | None, Any]] = []
    for row in rows:
        row.data["table_id"] = str(table.id)
        case = existing.get(row.ref or "")
        _former_named(row, corporations, case, result.issues)
        if case is None and row.ref in anonymised:
            code = "external_ref_anonymised"
            message = service_message(code)
            result.issues.append(_issue_at(row, {}, ("external_ref",), code, message))
            continue
        if case is None:
            if (created := _validate(CaseCreate, row, row.data, result.issues)) is not None:
                plans.append((row, None, created))
            continue
        if case.table_id != table.id and row.ok:
            result.issues.append(
                _issue_at(
                    row,
                    {},
                    ("external_ref",),
                    "other_table",
                    "Dit dossier staat bij een andere tafel van uw organisatie; lees het daar in.",
                )
            )
            continue
        stored = stored_case(case)
        after = _validate(CaseCreate, row, merge(stored, row.data), result.issues)
        if after is None:
            continue
        before = CaseCreate.model_validate(stored).model_dump(mode="json")
        patch = difference(before, after.model_dump(mode="json"))
        plans.append((row, case, patch))
    _write_cases(session, context, result, plans)
    return result


def _write_cases(
    session: Session,
    context: AccessContext,
    result: ImportResult,
    plans: list[tuple[Row, Case | None, Any]],
) -> None:
    examined: list[Case] = []
    unchanged: list[Case] = []
    savepoint = session.begin_nested()
    # The cases the file changes are locked together, in id order, before the first is
    # changed: the lock order of every request that changes several cases (a batch push
    # locks its dwellings' proposed cases so). Locked one by one in the file's order, an
    # import and a push of the same proposed pairs each held a case the other waited for
    # (PostgreSQL ended the deadlock after a second and one of them ran again). The ETags
    # stay those this request read: a case changed since is still a lost race.
    read = {case.id: versioning.etag(case) for _, case, plan in plans if case is not None and plan}
    versioning.lock(session, Case, read)
    creations = [(row, plan) for row, case, plan in plans if case is None]
    _create_cases(session, context, result, creations)
    for row, case, plan in plans:
        if case is None:
            continue
        examined.append(case)
        if not plan:
            unchanged.append(case)
            result.outcomes.append(RowOutcome(row.number, case.external_ref, "unchanged", case.id))
            continue
        try:
            patch = CaseUpdate.model_validate(plan)
            cases_service.update_case(session, context, case, patch, read[case.id])
        except PreconditionFailed as exc:
            # The version is the one this request read: another request changed the case
            # since. A lost race, not a problem of the file: the request runs again.
            raise LostRace(f"case {case.id} changed while the file was imported") from exc
        except ProblemError as exc:
            result.issues.extend(_problem_issues(row, exc, CASES))
            continue
        result.outcomes.append(RowOutcome(row.number, case.external_ref, "updated", case.id))
    result.outcomes.sort(key=lambda o: o.row)
    _finish(savepoint, result)
    # The report shows existing cases (their ids, whether they would change): a read of them.
    # A kept update or creation was logged by the service itself. A refused file's report lists
    # its rows as a check's does (the page shows them); the API's refusal names only the
    # problems and is rolled back whole, these entries with it.
    shown = unchanged if result.valid and not result.dry_run else examined
    access_log.record(session, context, AccessAction.read, [(c.id, c.table_id) for c in shown])


def _create_cases(
    session: Session,
    context: AccessContext,
    result: ImportResult,
    creations: list[tuple[Row, CaseCreate]],
) -> None:
    """Insert the file's new cases, before any registered one is updated. An import that
    updated a case first and then inserted deadlocked with another request writing the same
    file that had read that reference as new: it had inserted the new references and waited
    for the update on that one's unique index, while the import waited for its new ones. A dry
    run writes the file too (rolled back) and takes no import lock, so a check and an import
    of one file met so. Inserted first, the import waits for the other's new references while
    it holds its registered cases only locked, which no insert waits for: the other finds the
    reference registered, loses the race and runs again."""
    if creations and result.valid:
        # All new rows in one go: the checks of `create_case` once for the file, one flush.
        try:
            created = cases_service.create_cases(session, context, [p for _, p in creations])
        except DuplicateCase as exc:
            # No case had the reference when the file was read: another request registered it
            # since, and the request runs again (then the row updates that case).
            raise LostRace("a reference of the file was registered concurrently") from exc
        except ProblemError as exc:
            result.issues.extend(_problem_issues(creations[0][0], exc, CASES))
        else:
            for (row, _), new in zip(creations, created, strict=True):
                result.outcomes.append(RowOutcome(row.number, new.external_ref, "created", new.id))
    elif creations:  # the file is refused anyway: report what the valid rows would do
        result.outcomes.extend(
            RowOutcome(r.number, p.external_ref, "created", None) for r, p in creations
        )


def log_replayed_report(session: Session, context: AccessContext, report: Any) -> None:
    """A case import's report replayed for its `Idempotency-Key` names the cases by id again:
    a read of each of them (the caller's own, as the import's were), as the report's first
    answer was logged. The stored report is the answer as it was; the log holds who saw it."""
    ids = {uuid.UUID(item["id"]) for item in report.get("items", []) if item.get("id")}
    if not ids:
        return
    shown = session.exec(
        select(Case.id, Case.table_id)
        .where(col(Case.id).in_(ids), Case.care_provider_id == context.principal.organisation_id)
        .order_by(col(Case.id))
    ).all()
    access_log.record(session, context, AccessAction.read, shown)


# --- dwellings -----------------------------------------------------------------------------


def _stored_dwellings(
    session: Session, corporation_id: uuid.UUID, refs: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The stored dwellings with these references, as items, and the version of each read."""
    found: dict[str, dict[str, Any]] = {}
    versions: dict[str, int] = {}
    fields = set(VacancyIn.model_fields)
    for start in range(0, len(refs), CHUNK):
        for ref, vacancy in vacancies_service.get_by_refs(
            session, corporation_id, refs[start : start + CHUNK]
        ).items():
            document = vacancy_public_dict(vacancy)
            found[ref] = {k: v for k, v in document.items() if k in fields}
            versions[ref] = vacancy.version
    return found, versions


def import_dwellings(
    session: Session,
    context: AccessContext,
    content: bytes,
    *,
    sheet: str | None,
    dry_run: bool,
    max_rows: int,
) -> ImportResult:
    """Check (`dry_run`) or import a housing corporation's dwellings from an XLSX or CSV file,
    through the vacancy upsert of the API (each dwelling lands at the table covering its
    municipality). 403 for another kind of caller; every problem in the file is an issue."""
    corporation_id = context.principal.require_kind(OrganisationKind.housing_corporation)
    result, grid = _open(DWELLINGS, content, dry_run, sheet, max_rows)
    if grid is None:
        return result
    rows = _rows(grid, result.issues)
    _repeated_refs(rows, result.issues)
    stored, versions = _stored_dwellings(session, corporation_id, _stored_refs(rows))
    items: list[VacancyIn] = []
    item_rows: list[Row] = []
    for row in rows:
        document = merge(stored[row.ref], row.data) if row.ref in stored else row.data
        if (item := _validate(VacancyIn, row, document, result.issues)) is not None:
            items.append(item)
            item_rows.append(row)
    if items:
        savepoint = session.begin_nested()
        _upsert_rows(session, context, result, list(zip(item_rows, items, strict=True)), versions)
        _finish(savepoint, result)
    return result


def _upsert_rows(
    session: Session,
    context: AccessContext,
    result: ImportResult,
    planned: list[tuple[Row, VacancyIn]],
    versions: dict[str, int],
) -> None:
    """Upsert the valid rows; the rows the upsert refuses become issues, and the rest are
    upserted again without them, so that the report says what each of them would do, as a
    case file's check does (the upsert refuses before it writes; a refused file is rolled back
    whole by `_finish`). Until every row has its outcome or issue: an invalid-items refusal
    names every row of its kind (the municipalities, then the move-in days), a refused move one
    row, so a file moving several proposed dwellings takes a pass for each."""
    while planned:
        try:
            # The rows merged into what was read: a dwelling changed since is a lost race
            # (the request runs again), not a change to write back over.
            outcomes = vacancies_service.upsert_vacancies(
                session,
                context.principal,
                [item for _, item in planned],
                batch=True,
                read_versions=versions,
            )
        except vacancies_service.InvalidVacancies as refused:
            left_out = set()
            for entry in refused.extra.get("invalidItems", []):
                row = planned[entry["index"]][0]
                left_out.add(entry["index"])
                for param in entry["invalidParams"]:
                    error = _param_error(param)
                    result.issues.extend(_problem_issues(row, error, DWELLINGS))
        except TransitionRefused as refused:
            # A proposed dwelling moved to another table's municipality: the upsert names its
            # reference (the first such: the next pass finds another).
            [index] = [
                i for i, (r, _) in enumerate(planned) if r.ref == refused.extra["external_ref"]
            ]
            where = Unprocessable("address.municipality_code", "", refused.code)
            result.issues.extend(_problem_issues(planned[index][0], where, DWELLINGS))
            left_out = {index}
        else:
            for (row, _), outcome in zip(planned, outcomes, strict=True):
                result.outcomes.append(
                    RowOutcome(row.number, outcome.external_ref, outcome.outcome, outcome.id)
                )
            return
        assert left_out, "every refusal names a row (a batch's invalidItems, a move's reference)"
        planned = [p for i, p in enumerate(planned) if i not in left_out]


def _param_error(param: dict[str, Any]) -> ProblemError:
    name = str(param["name"]).split(".", 1)[1] if "." in str(param["name"]) else "body"
    return Unprocessable(name, str(param.get("reason", "")), str(param.get("code", "invalid")))
