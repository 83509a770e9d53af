"""Login names a person reads as the same address are one login name: Unicode normalisation,
full-width letters, invisible characters and case mappings that lengthen an address."""

import pytest

from tests.api.helpers import invalid_names
from tests.conftest import OPERATOR
from tests.web.conftest import PASSWORD


def people_url(org) -> str:  # type: ignore[no-untyped-def]
    return f"/v1/organizations/{org.id}/people"


def add(client, org, email: str):  # type: ignore[no-untyped-def]
    person = {"email": email, "display_name": "José", "password": PASSWORD}
    return client.post(people_url(org), json=person, headers=OPERATOR)


@pytest.mark.parametrize(
    "email",
    ["pi\u00adet@example.nl", "pie\u034ft@example.nl", "piet\ufe0f@example.nl"],
    ids=["soft-hyphen", "grapheme-joiner", "variation-selector"],
)
def test_an_email_with_a_character_that_shows_nothing_is_refused(client, region, email):
    """'pi\\u00adet' shows as 'piet' on the people page: an account that reads as another's."""
    assert invalid_names(add(client, region.chair, email)) == ["email"]
