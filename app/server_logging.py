"""The log configuration `uitstroomtafel serve` gives uvicorn: uvicorn's own, with every query
value in a logged request target (and the credentials of a logged WebSocket handshake) replaced,
so a key or password sent in a URL never reaches the server's log."""

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

REDACTED = "***"
"""What a logged query value (or a query key that does not look like one) is replaced by."""

_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,23}")
"""A query key that is shown as sent: a short plain name such as `tableId` or `volgende`. An API
key or the operator key (32 characters and more) sent without `=` is a key, not a value, so a key
of any other shape is replaced too."""

_TARGET_ARGUMENT = {
    # uvicorn's access line: client, method, target, HTTP version, status.
    ("uvicorn.access", '%s - "%s %s HTTP/%s" %d'): 2,
    # uvicorn's WebSocket handshake lines: client, target (, status).
    ("uvicorn.error", '%s - "WebSocket %s" [accepted]'): 1,
    ("uvicorn.error", '%s - "WebSocket %s" 403'): 1,
    ("uvicorn.error", '%s - "WebSocket %s" %d'): 1,
    # The websockets library's handshake at debug level (it logs to uvicorn's logger).
    ("uvicorn.error", "< %s %s %s"): 1,
    ("uvicorn.error", "< GET %s HTTP/1.1"): 0,
}
"""Which argument of which uvicorn log line is a request target (path and query)."""

_HEADER_LINES = frozenset({"< %s: %s", "> %s: %s"})
"""The websockets library's handshake headers at debug level: name, value."""

_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "sec-websocket-protocol"}
)
"""Headers whose value is a credential (a WebSocket client that cannot set `Authorization`
often sends its token as a subprotocol)."""


def redacted_target(target: str) -> str:
    """`target` (a request target as uvicorn logs it) with its path and query keys kept and every
    query value replaced: `/v1/cases?tableId=***&limit=***`.

    Every value, not only those of keys that look secret: a client sends a key under any name
    (`?apiKey=`, `?token=`, `?k=`), a page's sign-in redirect carries the whole first target,
    query included, in `volgende`, and a filter such as `reference` holds part of a care
    provider's case reference, which belongs in the access log table, not in a server log. The
    keys stay, so the log still says which parameters a request used."""
    path, question_mark, query = target.partition("?")
    if not question_mark:
        return target
    return path + "?" + "&".join(_redacted_pair(pair) for pair in query.split("&"))


def _redacted_pair(pair: str) -> str:
    key, equals, value = pair.partition("=")
    shown_key = key if not key or _PLAIN_KEY.fullmatch(key) else REDACTED
    return shown_key + equals + (REDACTED if value else "")


def _redacted_scope(scope: object) -> object:
    """An ASGI scope as uvicorn prints it at `--log-level trace`, its query string redacted (it
    hides the headers itself, but not the query)."""
    if not isinstance(scope, dict) or not scope.get("query_string"):
        return scope
    query = bytes(scope["query_string"]).decode("latin-1")
    return {**scope, "query_string": redacted_target("?" + query)[1:].encode("latin-1")}


class RedactQueryValues(logging.Filter):
    """Rewrites the arguments of uvicorn's log lines that carry a request: the target's query
    values (`redacted_target`), the scope printed at trace level and the credential headers of a
    WebSocket handshake at debug level. Every record passes, every other one unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or not isinstance(record.msg, str):
            return True
        if record.name == "uvicorn.asgi":
            record.args = tuple(_redacted_scope(arg) for arg in args)
            return True
        position = _TARGET_ARGUMENT.get((record.name, record.msg))
        target = args[position] if position is not None and len(args) > position else None
        if position is not None and isinstance(target, str):
            record.args = (*args[:position], redacted_target(target), *args[position + 1 :])
        elif (
            record.msg in _HEADER_LINES
            and len(args) == 2
            and str(args[0]).lower() in _CREDENTIAL_HEADERS
        ):
            record.args = (args[0], REDACTED)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default log configuration (the same handlers, format and levels) with
    `RedactQueryValues` on the three loggers that print requests."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query_values"] = {
        "()": f"{__name__}.RedactQueryValues"
    }
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn.asgi"):
        logger = config["loggers"].setdefault(name, {})
        logger["filters"] = [*logger.get("filters", []), "redact_query_values"]
    return config
