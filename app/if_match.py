"""The `If-Match` request header of conditional writes, checked for its syntax.

A value that is not `*` or a list of entity tags (RFC 9110 section 13.1.1, `"3"` or `W/"3"`)
is a 400 naming the header: compared as it stood, it could never match, and the client would
read the 412 as "someone changed it" and refetch forever instead of fixing its request.
"""

from typing import Annotated

from fastapi import Header

_ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e]*"'
IF_MATCH_PATTERN = rf"^[ \t]*(\*|{_ENTITY_TAG}([ \t]*,[ \t]*{_ENTITY_TAG})*)[ \t]*$"

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        pattern=IF_MATCH_PATTERN,
        description='ETag from a GET (`"3"`), or `*`; 412 if it is stale.',
    ),
]
