"""The per-request database session as a FastAPI dependency (`SessionDep`).

The engine and session themselves live in `app.database`, which imports no FastAPI so services can
use it; its names are re-exported here for the routes, the CLI and the tests that import them.
"""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.database import (
    _sqlite_lock,
    build_engine,
    get_engine,
    get_session,
    outside_transaction,
)

__all__ = [
    "SessionDep",
    "_sqlite_lock",
    "build_engine",
    "get_engine",
    "get_session",
    "outside_transaction",
]

# scope="function": commit before the response is sent, so a failed commit is never reported as
# a success to the client.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
