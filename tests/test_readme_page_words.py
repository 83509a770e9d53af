"""The README's table of the pages' words names each status as the pages label it: a developer
reading `on_hold` in the API met 'Aangehouden' on the pages (and 'Afgemeld' for a withdrawn
case, 'Ingetrokken' for a withdrawn proposal) with nothing to match them by (found walking the
README as a new user)."""

import re
from pathlib import Path

import pytest

from app.web.labels import CASE_STATUSES, PROPOSAL_STATUSES, VACANCY_STATUSES

README = (Path(__file__).parent.parent / "README.md").read_text()


@pytest.mark.parametrize(
    ("whose", "labels"),
    [
        ("a case's `status`", CASE_STATUSES),
        ("a proposal's `status`", PROPOSAL_STATUSES),
        ("a dwelling's `status`", VACANCY_STATUSES),
    ],
)
def test_the_readme_names_every_status_as_the_pages_label_it(whose, labels):
    (row,) = [line for line in README.splitlines() if line.startswith("| *") and whose in line]
    words, meaning = row.strip("|").split(" | ", 1)
    named = re.findall(r"\*([^*]+)\*", words)
    codes = re.findall(r"`([a-z_]+)`", meaning.split(":", 1)[1])
    assert len(named) == len(codes), row
    assert dict(zip(codes, named, strict=True)) == labels
