"""The vacancy batch's body, parsed and validated in one pass when it is valid as a whole.

FastAPI parses a JSON body with the standard library into dicts and validates those against the
route's model; the batch's items are then validated again, one by one, by the service (so that
one answer lists the schema errors and the domain errors of every item together). For a batch
of 1,000 valid items, parsing JSON into dicts alone took a quarter as long as validating them
(docs/benchmarks.md, ingest section). `BatchRoute` lets pydantic validate the raw body straight
into `VacancyIn` items (`ValidBatch.model_validate_json`, pydantic-core's own JSON parser); only
when that fails does the request take FastAPI's usual path, so every refusal (unparsable JSON,
a missing or invalid field, a domain error) is answered exactly as before.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from app.db import SessionEndingRoute
from app.vacancies.models import ValidBatch


class BatchRequest(Request):
    """A request whose JSON is the validated batch (`{"items": [VacancyIn, ...]}`) when the
    body is valid as a whole, else the body as the standard library parses it (Starlette's
    own `Request.json`). `batch_body`: the raw body, once read."""

    batch_body: bytes = b""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self.batch_body = await self.body()
            try:
                self._json = {"items": ValidBatch.model_validate_json(self.batch_body).items}
            except ValidationError:  # FastAPI's path: it reports what is wrong
                self._json = json.loads(self.batch_body)
        return self._json


class BatchRoute(SessionEndingRoute):
    """The route serves `BatchRequest`s (FastAPI's documented custom-request hook) and commits
    like every route (`SessionEndingRoute`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def batch_handler(request: Request) -> Response:
            return await handler(BatchRequest(request.scope, request.receive))

        return batch_handler
