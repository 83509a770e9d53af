"""Dates on the pages said plainly: no brackets inside brackets, no '(0 dagen)' for today."""

from tests.aftercare.housing import housed_proposal
from tests.web.conftest import signed_in


def _fact(page: str, term: str) -> str:
    """The text of the `<dd>` after `<dt>{term}</dt>`."""
    return page.split(f"<dt>{term}</dt><dd>", 1)[1].split("</dd>", 1)[0]


def test_the_move_in_and_its_lease_are_two_facts(app, client, region, housed, chair):
    """The proposal page read 'Verhuisd op <day> (Tussenhuur (omklapconstructie))', brackets
    in brackets; the lease is a fact of its own now."""
    case_id, _ = housed
    proposal = housed_proposal(client, region, case_id)
    page = signed_in(app, chair).get(f"/voorstellen/{proposal['id']}").text
    moved = _fact(page, "Verhuisd op")
    assert "(" not in moved, moved
    assert _fact(page, "Huurcontract") == "Tussenhuur (omklapconstructie)"
