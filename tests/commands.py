"""Commands the [test] extra installs (ruff, lint-imports), found beside the interpreter running
the tests first: `.venv/bin/pytest` run without activating the venv has them there but not on
PATH."""

import shutil
import sysconfig


def installed(name: str) -> str | None:
    """The path of command `name` from this interpreter's scripts directory, else from PATH;
    None when neither has it."""
    return shutil.which(name, path=sysconfig.get_path("scripts")) or shutil.which(name)
