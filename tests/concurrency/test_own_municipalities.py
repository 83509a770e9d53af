"""The two servers' tests share one database (a package-wide fixture), and a municipality
belongs to one table: a test that claims another test's municipality fails with 409
`municipality_taken`, but only when the two land in the same fixture's lifetime, which
depends on how xdist hands out tests. This checks the rule without a server."""

import ast
import re
from collections import defaultdict
from pathlib import Path

CODE = re.compile(r"GM\d{4}")


def test_each_concurrency_test_claims_municipalities_no_other_test_claims():
    claimed: dict[str, set[str]] = defaultdict(set)
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for inner in ast.walk(node):
                    value = inner.value if isinstance(inner, ast.Constant) else None
                    if isinstance(value, str) and CODE.fullmatch(value):
                        claimed[value].add(f"{path.name}::{node.name}")
    shared = {code: sorted(tests) for code, tests in claimed.items() if len(tests) > 1}
    assert claimed, "found no municipality codes: has the tests' layout changed?"
    assert shared == {}, f"give each test its own municipality: {shared}"
