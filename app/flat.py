"""Map nested API objects (household.adults) to flat columns (household_adults) and back.

The API groups fields the way domain.md does; the database keeps one column per field so the
monitor and the agenda can filter and count on them.
"""

from functools import cache
from typing import Any

from pydantic import BaseModel


def _group_model(annotation: Any) -> type[BaseModel] | None:
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


@cache
def _groups(schema: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The group fields of `schema` and their models; computed once per schema (batches and
    lists flatten or nest thousands of rows, and pydantic's field table is not free to read)."""
    return {
        name: group
        for name, field in schema.model_fields.items()
        if (group := _group_model(field.annotation)) is not None
    }


def flatten(data: dict[str, Any], schema: type[BaseModel]) -> dict[str, Any]:
    """`{"household": {"adults": 1}}` -> `{"household_adults": 1}` for the groups of `schema`."""
    groups = _groups(schema)
    flat: dict[str, Any] = {}
    for name, value in data.items():
        if name in groups and isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{name}_{sub}"] = sub_value
        else:
            flat[name] = value
    return flat


def nest(row: Any, schema: type[BaseModel]) -> dict[str, Any]:
    """Read the fields of `schema` from a flat row object, grouping them as the schema does."""
    groups = _groups(schema)
    data: dict[str, Any] = {}
    for name in schema.model_fields:
        if group := groups.get(name):
            data[name] = {sub: getattr(row, f"{name}_{sub}") for sub in group.model_fields}
        elif hasattr(row, name):
            data[name] = getattr(row, name)
    return data
