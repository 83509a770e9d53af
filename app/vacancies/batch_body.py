"""The vacancy batch's body, validated in one pass when it is valid as a whole.

FastAPI validates a JSON body against the route's model, which leaves a batch's items as sent;
the service then validates them one by one, so that one answer lists the schema errors and the
domain errors of every item together. `BatchRequest` instead validates a body that is valid as a
whole straight into `VacancyIn` items (`ValidBatch`); only when that fails does the request take
FastAPI's usual path, with the body as parsed, so every refusal (a missing or invalid field, a
domain error) is answered exactly as before.

The body is read as every route's is (`JsonBodyRequest`: I-JSON, a member name twice in one
object refused, `null` and a JSON Patch refused after authentication); until 2026-12 the
request parsed it itself, so an unreadable body was a 400 before the key was looked at, a JSON
Patch was read as the batch and `null` was a 400 "Field required". Before that pydantic-core's
own JSON parser read it
(`ValidBatch.model_validate_json`), which saved the parse into dicts (a quarter of the
validation's time) but takes the last of two members with one name and cannot be told
otherwise. Parsing with the check and validating the dicts costs what that parse plus a
separate check would: 12 ms instead of 8 for 1,000 items (timeit, best of 15, on the shared
2-core machine), against about 80 ms of CPU (server and client) per 1,000 vacancies in the
ingest benchmark (docs/benchmarks.md).
"""

from typing import Any

from pydantic import ValidationError

from app.db import SessionEndingRoute
from app.json_body import JsonBodyRequest
from app.vacancies.models import ValidBatch


class BatchRequest(JsonBodyRequest):
    """A request whose JSON is the validated batch (`{"items": [VacancyIn, ...]}`) when the
    body is valid as a whole, else the body as `JsonBodyRequest` reads it."""

    async def _read(self) -> Any:
        parsed = await super()._read()
        if self.refusal is not None:
            return parsed
        try:
            return {"items": ValidBatch.model_validate(parsed).items}
        except ValidationError:  # FastAPI's path: it reports what is wrong
            return parsed


class BatchRoute(SessionEndingRoute):
    """The route serves `BatchRequest`s and commits like every route (`SessionEndingRoute`)."""

    request_class = BatchRequest
