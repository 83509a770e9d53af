"""An API request whose `Accept` names none of the media types its operation answers is a 406
(RFC 9110 sections 12.5.1 and 15.5.7), before the operation runs.

Why: the JSON answer went to a client that had said it cannot read it (`Accept:
application/xml`), which then failed on a body it did not ask for, or took a 200 for success
without reading it. What still reads as JSON: no `Accept` (or an empty one), `*/*`,
`application/*`, `application/json` with any parameters, and any `application/*+json` (a
structured syntax suffix, RFC 6839: such a client reads JSON, `application/problem+json`
included). An operation that also answers CSV or XLSX (`format`) takes those too; one that
answers nothing (204) takes any `Accept`; but asked without `format`, it answers in its
default format, so an `Accept` that takes only another of its formats (`text/csv` for the
monitor, whose default is JSON) is a 406 naming the `format` to ask for: the analyst who sent
`Accept: text/csv` was answered JSON with a 200. Parts of the header that are no media range
are read past (and `*` as `*/*`, as Java's HttpURLConnection sends it), so an odd header never
makes a 406 by itself. Error answers stay problem+json whatever `Accept` says, as RFC 9110 allows.
"""

from fastapi import Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute

from app.api_headers import is_api_path
from app.problems import ProblemError
from app.root_path import app_path

JSON = "application/json"
FORMAT_MEDIA_TYPES = {
    "json": JSON,
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
"""The media type each value of an operation's `format` query key answers in."""


class NotAcceptable(ProblemError):
    status, code, title = 406, "not_acceptable", "Not acceptable"


def qvalue(parameters: list[str]) -> float | None:
    """The weight (`q`) among the parameters of one element of an `Accept`-like header: 1
    without one, None when it is no number."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return None
    return 1.0


def _ranges(header: str) -> list[tuple[str, str, float]]:
    """The media ranges of an `Accept` value, lower case, with their weights."""
    ranges = []
    for part in header.split(","):
        media_range, *parameters = part.split(";")
        media_range = media_range.strip().lower()
        kind, slash, subtype = ("*/*" if media_range == "*" else media_range).partition("/")
        weight = qvalue(parameters)
        if slash and kind and subtype and weight is not None and 0 <= weight <= 1:
            ranges.append((kind, subtype, weight))
    return ranges


def _weight(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    """How much `ranges` want `media_type`: the weight of the most specific range matching it
    (an `application/*+json` range matches JSON, more specifically than `application/*`)."""
    kind, _, subtype = media_type.partition("/")
    best, weight = -1.0, 0.0
    for range_kind, range_subtype, range_weight in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = 3.0
        elif media_type == JSON and range_kind == kind and range_subtype.endswith("+json"):
            specificity = 2.0
        elif range_kind == kind and range_subtype == "*":
            specificity = 1.0
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = 0.0
        else:
            continue
        if specificity > best or (specificity == best and range_weight > weight):
            best, weight = specificity, range_weight
    return weight


def answered_media_types(route: APIRoute) -> set[str]:
    """The media types of `route`'s successful answers, as its contract declares them."""
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    types = {
        media_type
        for status, response in route.responses.items()
        if str(status).startswith("2")
        for media_type in response.get("content", {})
    }
    media_type = getattr(response_class, "media_type", None)
    if media_type and route.status_code != 204:
        types.add(media_type)
    return types


def refuse_unacceptable(request: Request) -> None:
    """Raises `NotAcceptable` when the API request's `Accept` takes none of the media types its
    route answers; pages, and requests without `Accept`, are left alone."""
    header = ", ".join(request.headers.getlist("accept")).strip()
    route = request.scope.get("route")
    if header in ("", "*/*") or not isinstance(route, APIRoute):
        return
    if not is_api_path(app_path(request.scope)):
        return
    ranges = _ranges(header)
    answered = answered_media_types(route)
    if not ranges or not answered:
        return
    if any(_weight(t, ranges) > 0 for t in answered):
        _refuse_the_default_format(request, route, header, ranges, answered)
        return
    named = ", ".join(sorted(answered))
    raise NotAcceptable(
        f"This operation answers {named}; the Accept header ({header[:200]}) takes none of "
        f"them. Send Accept: {sorted(answered)[0]} (or */*), or no Accept."
    )


def _default_format(request: Request, route: APIRoute) -> str | None:
    """The `format` the operation answers in when the query names none; None for an operation
    without `format`, or a request that names it (an explicit `format` decides)."""
    if "format" in request.query_params:
        return None
    for param in route.dependant.query_params:
        if param.alias == "format":
            default = param.field_info.default
            return str(getattr(default, "value", default))
    return None


def _refuse_the_default_format(
    request: Request,
    route: APIRoute,
    header: str,
    ranges: list[tuple[str, str, float]],
    answered: set[str],
) -> None:
    """Raises `NotAcceptable` when a request without `format` would be answered in the default
    format, which `Accept` does not take, while it takes another format of the operation."""
    default = _default_format(request, route)
    chosen = FORMAT_MEDIA_TYPES.get(default or "")
    if chosen is None or _weight(chosen, ranges) > 0:
        return
    wanted = [
        f"format={name}"
        for name, media_type in FORMAT_MEDIA_TYPES.items()
        if media_type in answered and _weight(media_type, ranges) > 0
    ]
    if not wanted:
        return
    raise NotAcceptable(
        f"Without format this operation answers {chosen} (format={default}), which the Accept "
        f"header ({header[:200]}) does not take; ask with {' or '.join(wanted)}."
    )
