"""Area names: loading the CBS list, naming missing codes, and looking names up for pages.

The CBS file format (documented in the README, "Area names"): a CSV file as CBS publishes it
(StatLine's "Kerncijfers wijken en buurten" export, or the list "Gemeenten alfabetisch"),
separated by `;` or `,`, UTF-8 (with or without BOM) or Windows-1252. The header names the
columns; a code column (`Codering`, `Codering_3`, `GemeentecodeGM`, `Code`) and a name column
(`WijkenEnBuurten`, `Gemeentenaam`, `Naam`, `Name`) are required, matched case-insensitively
and without StatLine's `_<n>` suffix, spaces and a bracketed unit. Values are stripped
(StatLine pads them). Rows whose code
is not a municipality (`GM` + 4 digits), district (`WK` + 6) or neighbourhood (`BU` + 8) code
(the country row `NL01`, for instance) are skipped and counted. A name with a control or
bidirectional formatting character (`app.schemas.SINGLE_LINE`), or a file without one area read
(UTF-16, say), is refused.
"""

import csv
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.areas.models import AreaName, AreaNamePublic, TableAreaName, kind_of
from app.cases.models import Case
from app.cases.service import visible_clause
from app.principal import Principal
from app.problems import Forbidden, Unprocessable
from app.schemas import SINGLE_LINE
from app.sqltypes import table_of, utcnow
from app.tables.models import OutflowTable, TableMunicipality
from app.vacancies.models import Vacancy
from app.vacancies.service import visible_clause as vacancy_visible_clause
from app.versioning import flush, get_checked

AREA_CODE = re.compile(r"^(GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$")
CODE_COLUMNS = ("codering", "gemeentecodegm", "code")
NAME_COLUMNS = ("wijkenenbuurten", "gemeentenaam", "naam", "name")
BATCH = 1000


@dataclass(frozen=True, slots=True)
class LoadReport:
    loaded: int
    skipped: int


def _header_key(name: str) -> str:
    """`Codering_3` and `Codering (code)` -> `codering`; `Wijken en buurten` ->
    `wijkenenbuurten`."""
    bare = re.sub(r"_[0-9]+$", "", name.strip().lstrip("\ufeff").lower())
    return re.sub(r"[^a-z]", "", re.sub(r"\(.*\)", "", bare))


def _column(header: list[str], wanted: tuple[str, ...], what: str) -> int:
    keys = [_header_key(h) for h in header]
    for name in wanted:
        if name in keys:
            return keys.index(name)
    raise ValueError(f"no {what} column (one of {', '.join(wanted)}) in header {header!r}")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def parse_cbs_csv(raw: bytes) -> tuple[dict[str, str], int]:
    """(code -> name, rows skipped) from a CBS CSV file's bytes. Raises ValueError when the
    header has no code or no name column, a code is given two different names, a name has a
    control or bidirectional formatting character, or no row holds an area."""
    text = _decode(raw)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        raise ValueError("the file is empty")
    code_at = _column(header, CODE_COLUMNS, "code")
    name_at = _column(header, NAME_COLUMNS, "name")
    names: dict[str, str] = {}
    skipped = 0
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        code = row[code_at].strip().upper() if len(row) > code_at else ""
        name = row[name_at].strip() if len(row) > name_at else ""
        if not AREA_CODE.match(code) or not name:
            skipped += 1
            continue
        if AREA_CODE.match(name.upper()):
            raise ValueError(
                f"the name column holds codes ({name}): this is an OData data set, not the "
                "StatLine CSV with region names"
            )
        if not re.match(SINGLE_LINE, name):
            raise ValueError(
                f"{code} has a name with control or bidirectional characters: {name!r}"
            )
        if names.get(code, name) != name:
            raise ValueError(f"{code} is named both {names[code]!r} and {name!r}")
        names[code] = name[:200]
    if not names:
        raise ValueError(
            f"no row holds an area code with a name ({skipped} skipped): is it a CBS CSV file "
            "in UTF-8 or Windows-1252 (not UTF-16)?"
        )
    return names, skipped


def load_cbs_file(session: Session, path: Path, source: str | None = None) -> LoadReport:
    """Load (insert or replace) the names of a CBS CSV file; nothing is downloaded. `source`
    (default: the file's name) is kept with each name. All or nothing: a malformed file
    raises ValueError and loads nothing."""
    names, skipped = parse_cbs_csv(path.read_bytes())
    source = (source or path.name)[:200]
    rows = [
        {"code": code, "kind": kind_of(code).value, "name": name, "source": source}
        for code, name in sorted(names.items())
    ]
    table = table_of(AreaName)
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    for start in range(0, len(rows), BATCH):
        chunk = [{**r, "loaded_at": now} for r in rows[start : start + BATCH]]
        statement = insert(table).values(chunk)
        statement = statement.on_conflict_do_update(
            index_elements=["code"],
            set_={
                "kind": statement.excluded.kind,
                "name": statement.excluded.name,
                "source": statement.excluded.source,
                "loaded_at": statement.excluded.loaded_at,
            },
        )
        connection.execute(statement)
    return LoadReport(len(rows), skipped)


def names_for(
    session: Session, codes: Iterable[str], table_ids: Iterable[uuid.UUID] = ()
) -> dict[str, str]:
    """code -> name for the codes that have one: the CBS name, else a name one of the tables
    gave it."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    found = dict(
        session.exec(
            select(AreaName.code, AreaName.name).where(col(AreaName.code).in_(wanted))
        ).all()
    )
    missing = [c for c in wanted if c not in found]
    tables = sorted(set(table_ids))
    if missing and tables:
        for code, name in session.exec(
            select(TableAreaName.code, TableAreaName.name)
            .where(col(TableAreaName.code).in_(missing), col(TableAreaName.table_id).in_(tables))
            .order_by(col(TableAreaName.table_id))
        ):
            found.setdefault(code, name)
    return found


def codes_in_use(
    session: Session, table: OutflowTable, principal: Principal | None = None
) -> set[str]:
    """Every area code the table's pages show: its municipalities, its dwellings' municipality
    and neighbourhood, and its cases' preferred and excluded areas.

    `principal`: the reader, whose view of the dwellings' and cases' areas is its view of the
    dwellings and cases (`vacancies.service.visible_clause`, `cases.service.visible_clause`):
    the table (its chair, its municipalities) all of them, a corporation its own dwellings' and
    no case's, a care provider its own cases' and no dwelling's; the operator every dwelling's
    and no case's. A client's preferred and excluded areas are case data: listed for every
    member, a code that appeared when a provider registered a case told the others where that
    client wants to live, or not; likewise a dwelling's told another corporation where (and,
    appearing with the push, when) a competitor offered one. None: every code (the demo names
    them)."""
    codes = set(
        session.exec(
            select(TableMunicipality.municipality_code).where(
                TableMunicipality.table_id == table.id
            )
        )
    )
    dwellings = select(Vacancy.address_municipality_code, Vacancy.address_neighbourhood_code)
    dwellings = dwellings.where(Vacancy.table_id == table.id)
    cases = select(Case.areas_preferred, Case.areas_excluded).where(Case.table_id == table.id)
    if principal is not None and not principal.is_operator:
        dwellings = dwellings.where(vacancy_visible_clause(principal))
    for municipality, neighbourhood in session.exec(dwellings):
        codes |= {municipality, neighbourhood}
    if principal is not None:
        if principal.is_operator:
            return codes
        cases = cases.where(visible_clause(principal))
    for preferred, excluded in session.exec(cases):
        codes |= set(preferred or []) | set(excluded or [])
    return codes


def table_areas(
    session: Session, table: OutflowTable, principal: Principal
) -> list[AreaNamePublic]:
    """Every code the table uses as `principal` sees it (`codes_in_use`), with its name, where
    the name comes from and the version of the table's own name, missing names first."""
    codes = codes_in_use(session, table, principal)
    cbs = dict(
        session.exec(
            select(AreaName.code, AreaName.name).where(col(AreaName.code).in_(sorted(codes)))
        ).all()
    )
    own = {
        row.code: row
        for row in session.exec(select(TableAreaName).where(TableAreaName.table_id == table.id))
    }
    items = []
    for code in codes:
        mine = own.get(code)
        own_name = mine.name if mine is not None else None
        name, source = (cbs[code], "cbs") if code in cbs else (own_name, "table")
        items.append(
            AreaNamePublic(
                code=code,
                kind=kind_of(code),
                name=name,
                source=source if name else None,
                version=mine.version if mine is not None and code not in cbs else None,
            )
        )
    return sorted(items, key=lambda a: (a.name is not None, a.code))


def name_area(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    code: str,
    name: str,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> tuple[AreaNamePublic, bool]:
    """The chair names a code for its table (True: the table named none yet), or renames it.
    Refused (400 `named_by_cbs`) when
    the loaded CBS list names it: one code, one name. `If-Match` / `If-None-Match` are compared
    with the version of the table's name on the locked row (`app.versioning.get_checked`: 412,
    also for `If-Match` where the table named none yet), so a name given meanwhile is not
    replaced unseen; the name as it stands changes nothing (same version). Two first namings
    at once meet at the key, and the loser runs again (`app.transient`)."""
    if context.principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("Only the table's chair names area codes.")
    if session.get(AreaName, code) is not None:
        raise Unprocessable(
            "code", "the CBS list names this code already", "named_by_cbs", location="path"
        )
    what = f"name of {code}"
    row = get_checked(session, TableAreaName, (table.id, code), what, if_match, if_none_match)
    by = context.principal.organisation_id
    created = row is None
    if row is None:
        row = TableAreaName(table_id=table.id, code=code, name=name, named_by_organisation_id=by)
    row.name, row.named_by_organisation_id = name, by
    session.add(row)
    flush(session, if_match, what)
    area = AreaNamePublic(
        code=code, kind=kind_of(code), name=name, source="table", version=row.version
    )
    return area, created
