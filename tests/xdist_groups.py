"""Make `--dist loadgroup` group again on pytest 9.2 (a pytest plugin; tests/conftest.py uses it).

xdist names a test's group by adding `@group` to the private `_nodeid`, which pytest 9.2 no
longer reads (a node's id is the structured `_id` now), so `xdist_group` marks were silently
ignored and the tests of one group ran on both workers: the two servers of tests/concurrency
started twice, and a group's tests could not count on running in one process
(pytest-xdist issue 1386, open as of xdist 3.8.0). Once xdist fixes it this does nothing
(the two ids agree) and can go.
"""

import pytest


@pytest.hookimpl(trylast=True)  # after xdist's own hook has named the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the id xdist gave a grouped test where pytest 9.2 reads it; ungrouped tests and
    runs without xdist are left as they are."""
    for item in items:
        grouped = item.__dict__.get("_nodeid")
        if isinstance(grouped, str) and grouped != item.nodeid and hasattr(item, "_id"):
            item._id = type(item._id).parse(grouped)
