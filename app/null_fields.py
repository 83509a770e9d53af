"""PATCH bodies whose fields may be left out but not sent as null.

Such a body's fields are optional in Python (`X | None = None`, so a left-out one is told from a
given one by `model_fields_set`), which pydantic writes into the contract as nullable; the
service (or a merge validated with the full model) then answers a null with 400 ("cannot be
null; leave it out to keep the current value"). `RefusesNull` keeps null out of the contract's
schema of every field but those in `NULLABLE` (where null clears the value), so that what the
contract allows is what the server takes.
"""

from typing import Any, ClassVar, cast, get_args

from pydantic import BaseModel, ConfigDict


def _without_null(field: dict[str, Any]) -> None:
    if "anyOf" in field:
        branches = [branch for branch in field["anyOf"] if branch != {"type": "null"}]
        if len(branches) == 1:
            del field["anyOf"]
            field.update({k: v for k, v in branches[0].items() if k not in field})
        else:
            field["anyOf"] = branches
    elif isinstance(field.get("type"), list):
        types = [kind for kind in field["type"] if kind != "null"]
        field["type"] = types[0] if len(types) == 1 else types
    if "default" in field and field["default"] is None:
        del field["default"]


def _drop_nulls(schema: dict[str, Any], model: type[Any]) -> None:
    nullable: frozenset[str] = getattr(model, "NULLABLE", frozenset())
    for name, field in schema.get("properties", {}).items():
        if name not in nullable:
            _without_null(field)


class RefusesNull:
    """Mix into a PATCH body (`class XUpdate(ApiModel, RefusesNull)`) whose service refuses a
    null for every field but those named in `NULLABLE` (pydantic takes a base's `model_config`)."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()
    model_config = ConfigDict(json_schema_extra=_drop_nulls)


def refused_nulls(model: type[BaseModel], base: type[BaseModel] | None) -> dict[str, Any]:
    """`NULLABLE` as a field definition of `schemas.partial_model`'s patch of `model`: null
    clears a field `model` lets be null, and means "not given" in the base's fields."""
    names = {n for n, f in model.model_fields.items() if type(None) in get_args(f.annotation)}
    nullable = frozenset(names.union(base.model_fields if base else ()))
    return {"NULLABLE": (ClassVar[frozenset[str]], nullable)}


def patch_bases(base: type[BaseModel]) -> tuple[type[BaseModel], ...]:
    """`base` with `RefusesNull` mixed in, for `create_model` (which types its bases as models;
    the mixin is none, so that a body's model is found once among BaseModel's subclasses)."""
    return cast(tuple[type[BaseModel], ...], (base, RefusesNull))
