"""Dates on the pages said plainly: no brackets inside brackets, no '(0 dagen)' for today."""

import re

from tests.aftercare.housing import housed_proposal
from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import make_person, signed_in


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


def test_a_case_ready_today_says_so(app, client, region):
    """A case ready today read 'Klaar voor uitstroom sinds <today> (0 dagen)': now 'vandaag'."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(0))
    page = signed_in(app, make_person(client, region.care_provider)).get(f"/dossiers/{case['id']}")
    assert _fact(page.text, "Klaar voor uitstroom sinds") == "vandaag"


def test_a_dwelling_available_today_says_so(app, client, region):
    """A dwelling available today read 'Beschikbaar vanaf <today> (0 dagen)': now 'vandaag'."""
    vacancy = create_vacancy(client, region.corporation, available_from=iso(0))
    browser = signed_in(app, make_person(client, region.corporation))
    page = browser.get(f"/woningen/{vacancy['id']}").text
    available = _fact(page, "Beschikbaar vanaf")
    assert re.match(r"vandaag(;|$)", available), available
