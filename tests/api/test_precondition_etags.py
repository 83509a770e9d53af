"""The ETags a conditional write names and answers are the ones a GET gives.

A 412 names the current ETag for the client to fetch against; for a resource whose read
answers the version and a digest of the caller's view (a case, an action, a tenancy), that is
the read's ETag, not the bare version a GET never shows. A write's `ETag` is the one a GET
then answers, and HEAD's is GET's."""

import pytest

from tests.api.helpers import assert_problem
from tests.api.test_if_none_match import RESOURCES

REFUSALS = [
    pytest.param("If-Match", '"999"', "current ETag {}", id="stale"),
    pytest.param("If-Match", "W/{}", "send the ETag as the GET gave it: {}.", id="weak"),
    pytest.param("If-None-Match", '"0", {}', "at ETag {},", id="none-match-current"),
    pytest.param("If-None-Match", "*", "current ETag {}", id="none-match-star"),
]


@pytest.mark.parametrize(("header", "value", "said"), REFUSALS)
@pytest.mark.parametrize("make", RESOURCES)
def test_a_412_names_the_etag_a_get_gives(client, region, make, header, value, said):
    """`{}` in `value` and `said`: the ETag the GET gave. The write changes nothing."""
    url, headers, body = make(client, region)
    current = client.get(url, headers=headers).headers["ETag"]
    refused = client.patch(url, json=body, headers={**headers, header: value.format(current)})
    detail = assert_problem(refused, 412, "precondition_failed")["detail"]
    assert said.format(current) in detail
    assert client.get(url, headers=headers).headers["ETag"] == current


@pytest.mark.parametrize("make", RESOURCES)
def test_a_write_answers_the_etag_a_get_and_a_head_then_give(client, region, make):
    url, headers, body = make(client, region)
    current = client.get(url, headers=headers).headers["ETag"]
    written = client.patch(url, json=body, headers={**headers, "If-Match": current})
    assert written.status_code == 200, written.text
    assert written.headers["ETag"] != current
    assert client.get(url, headers=headers).headers["ETag"] == written.headers["ETag"]
    assert client.head(url, headers=headers).headers["ETag"] == written.headers["ETag"]
