"""The `If-Match` and `If-None-Match` request headers of conditional writes, checked for their
syntax.

A value that is not `*` or a list of entity tags (RFC 9110 section 13.1.1, `"3"` or `W/"3"`)
is a 400 naming the header: compared as it stood, it could never match, and the client would
read the 412 as "someone changed it" and refetch forever instead of fixing its request.
"""

from typing import Annotated

from fastapi import Header

from app.problems import PATTERN_REASONS

_ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e]*"'
# A list may have empty elements, which a recipient must accept (RFC 9110 section 5.6.1.2).
IF_MATCH_PATTERN = rf"^[ \t]*(\*|(,[ \t]*)*{_ENTITY_TAG}([ \t]*,([ \t]*{_ENTITY_TAG})?)*)[ \t]*$"
PATTERN_REASONS[IF_MATCH_PATTERN] = (
    'Should be `*` or a comma-separated list of ETags in double quotes, such as `"3"`'
)

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        pattern=IF_MATCH_PATTERN,
        description='ETag from a GET (`"3"`), or `*`; 412 if it is stale.',
    ),
]

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=200,
        pattern=IF_MATCH_PATTERN,
        description='`*`: 412, as the resource exists; or ETags (`"3"`): 412 if it is at one '
        "of them.",
    ),
]
