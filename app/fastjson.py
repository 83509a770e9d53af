"""A JSON response for large documents built as plain dicts (the agenda).

`jsonable_encoder` walks every node in Python and costs more than computing an agenda of
thousands of cases; the standard library encoder with a small `default` does the same job.
"""

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class FastJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
