"""The README's list of the writes that take `If-Match` is the contract's: a client guards the
writes it reads there, and one left out (deleting a dwelling, finalising minutes, rotating a
webhook secret) was believed to take no `If-Match`, so its write went unguarded; one listed
that does not take it is refused with 400 (`unknown_parameter`)."""

import re
from pathlib import Path

from tests.conftest import generated_contract

README = (Path(__file__).parent.parent / "README.md").read_text()
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def readme_if_match_writes() -> set[str]:
    """`METHOD /v1/path` of every write the README's *Concurrent edits* lists as taking it."""
    listed = re.search(
        r"^- \*\*Concurrent edits\*\*:.*?"
        r"These\s+writes\s+take\s+`If-Match`,\s+and\s+no\s+others:(.+?`)\.",
        README,
        re.DOTALL | re.MULTILINE,
    )
    assert listed is not None, "the list in *Concurrent edits* is gone"
    text = listed.group(1)
    writes = re.findall(r"`((?:PATCH|PUT|POST|DELETE) /v1/[^`]+)`", text)
    return {PLACEHOLDER.sub("{}", write) for write in writes}


def contract_if_match_writes() -> set[str]:
    contract = generated_contract()
    base = contract["servers"][0]["url"]
    return {
        PLACEHOLDER.sub("{}", f"{method.upper()} {base}{path}")
        for path, operations in contract["paths"].items()
        for method, operation in operations.items()
        if any(parameter.get("name") == "If-Match" for parameter in operation.get("parameters", []))
    }


def test_the_readme_lists_exactly_the_writes_whose_contract_takes_if_match():
    documented, contract = readme_if_match_writes(), contract_if_match_writes()
    assert len(contract) >= 15  # the contract was read
    assert {
        "missing in the README": contract - documented,
        "not in the contract": documented - contract,
    } == {
        "missing in the README": set(),
        "not in the contract": set(),
    }
