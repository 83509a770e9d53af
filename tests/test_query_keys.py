"""Which query keys may repeat: only those of a list-like parameter."""

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.routing import APIRoute

from app.query_keys import single_query_keys


def test_only_a_list_parameter_may_repeat_its_key():
    app = FastAPI()

    @app.get("/v1/things")
    def things(
        tags: Annotated[list[str] | None, Query(alias="tag")] = None,
        limit: int = 20,
        after: Annotated[str | None, Query(alias="afterId")] = None,
    ) -> None:
        return None

    [route] = [r for r in app.routes if isinstance(r, APIRoute)]
    assert single_query_keys(route) == {"limit", "afterId"}
