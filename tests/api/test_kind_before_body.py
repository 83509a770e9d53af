"""A write only one kind of organisation may make is refused for another kind (403) before its
body is read: a care provider's system posting a dwelling, or a corporation's a case, was told
first which fields were wrong (400), and only once it had fixed them that it may not post there
at all (found walking the README as a new user). The rightful kind still gets the 400."""

import pytest

from tests.api.helpers import assert_problem
from tests.conftest import OPERATOR

BODIES = [{"zzz": 1}, {}, {"items": []}, {"items": [{"external_ref": "V-1"}]}]


# Each write with the kind that may make it and another kind.
WRITES = [
    ("/v1/cases", "care_provider", "corporation"),
    ("/v1/vacancies", "corporation", "care_provider"),
    ("/v1/vacancies/batch", "corporation", "care_provider"),
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize(("url", "rightful", "other"), WRITES)
def test_another_kind_is_told_403_before_its_body_is_judged(
    client, small_region, url, rightful, other, body
):
    wrong = client.post(url, json=body, headers=getattr(small_region, other).headers)
    problem = assert_problem(wrong, 403, "forbidden")
    assert "invalidParams" not in problem
    assert_problem(client.post(url, json=body, headers=OPERATOR), 403, "forbidden")
    right = client.post(url, json=body, headers=getattr(small_region, rightful).headers)
    assert_problem(right, 400, "validation_error")


def test_an_unreadable_body_of_another_kind_is_403_too(client, small_region):
    headers = {**small_region.corporation.headers, "Content-Type": "application/json"}
    assert_problem(client.post("/v1/cases", content=b"{", headers=headers), 403, "forbidden")
