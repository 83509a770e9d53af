"""A case file typed into a form on a page, read exactly as a spreadsheet row: the same columns
(`app.imports.columns`), the same cell readers (`app.imports.cells`), the same API schema and the
same Dutch messages. So a field means the same on the page, in the import and in the API.

Plain functions on dictionaries: no database, no HTTP.
"""

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.imports import cells
from app.imports.columns import Column, Kind, Layout
from app.imports.messages import schema_message

Model = TypeVar("Model", bound=BaseModel)


@dataclass(slots=True)
class Entry:
    """What a form holds: the API document, and per field name a Dutch message."""

    document: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        document = document.setdefault(name, {})
    document[path[-1]] = value


def read_entry(
    layout: Layout,
    values: dict[str, str],
    *,
    skip: frozenset[str] = frozenset(),
    corporations: cells.Corporations | None = None,
) -> Entry:
    """The form's values (by API field name, e.g. `household.adults`) as an API document.

    An empty optional field takes the schema's default; an empty required one, or one that
    cannot be read, is an error (Dutch) by its field name. Columns in `skip` are left out."""
    entry = Entry({})
    for column in layout.columns:
        if column.name in skip:
            continue
        raw = values.get(column.name, "")
        if cells.is_empty(raw):
            if column.required:
                entry.errors[column.name] = "Verplicht: niet ingevuld."
            else:
                _set(entry.document, column.path, column.default)
            continue
        try:
            _set(entry.document, column.path, cells.read(column, raw, corporations))
        except cells.CellError as error:
            entry.errors[column.name] = error.message
    return entry


def validate_entry(schema: type[Model], entry: Entry, names: set[str]) -> Model | None:
    """`entry.document` as `schema`, or None with each schema error under the field it names
    (or the nearest of `names`, the form's fields, below it: a rule across `areas` lands on its
    first field). Fields already in error keep their first message."""
    try:
        validated = schema.model_validate(entry.document)
    except ValidationError as exc:
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
            name = path if path in names else next((n for n in names if n.startswith(path)), path)
            entry.errors.setdefault(name, schema_message(error, path))
        return None
    return None if entry.errors else validated


def form_values(layout: Layout, document: dict[str, Any]) -> dict[str, str]:
    """A stored document (API JSON) as the form shows it: codes, ja/nee, ISO dates (the date
    input's own format), amounts with a decimal comma, lists comma-separated."""
    values: dict[str, str] = {}
    for column in layout.columns:
        value: Any = document
        for name in column.path:
            value = value.get(name) if isinstance(value, dict) else None
        values[column.name] = _shown(column, value)
    return values


def empty_means(column: Column) -> str:
    """What an empty yes/no field means (its default, 'leeg is ja' or 'nee'), for a form to
    show selected: a select without an empty option sends its first option, 'nee', when left
    as shown; '' for any other field."""
    if column.kind == Kind.boolean and isinstance(column.default, bool):
        return "ja" if column.default else "nee"
    return ""


def _shown(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == Kind.boolean:
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if column.kind == Kind.money:
        return f"{float(value):.2f}".replace(".", ",")
    return str(value)
