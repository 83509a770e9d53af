"""A body over `UITSTROOM_MAX_BODY_BYTES` on an address outside the API and the pages."""

import pytest

LIMIT = 100_000


@pytest.mark.settings(max_body_bytes=LIMIT)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/docs"),
        ("POST", "/redoc"),
        ("POST", "/openapi.json"),
        ("POST", "/health/live"),
        ("GET", "/health/live"),
        ("POST", "/static/app.css"),
    ],
)
def test_a_body_no_route_reads_tells_no_caller_the_size_limit(client, method, path):
    """The API answers a body over the limit without a valid key 401 rather than 413, so a
    caller without a key does not learn the limit; but the public addresses outside it (the
    docs, the contract, the probes, the stylesheet) answered any declared length over it 413
    naming the limit in bytes, before the method or the route was looked at (POST /docs is a
    405, and none of them reads a body). They answer as they answer a small body."""
    small = client.request(method, path, content=b"x")
    large = client.request(method, path, content=b"x" * (LIMIT + 1))
    assert large.status_code == small.status_code != 413
    assert str(LIMIT) not in large.text


@pytest.mark.settings(max_body_bytes=LIMIT, public_url="http://testserver/tafel")
@pytest.mark.parametrize("path", ["/tafel/v1/cases", "/v1/cases"])
def test_under_a_root_path_a_body_over_the_limit_without_a_key_is_a_401(client, path):
    """Behind a proxy at `/tafel` (`UITSTROOM_PUBLIC_URL` with a path) a request's path holds
    the root path (`/tafel/v1/cases`), which the guard did not take for the API's: a caller
    without a key got the 413 naming the limit, which the API keeps until after the key."""
    large = client.post(
        path, content=b"x" * (LIMIT + 1), headers={"Content-Type": "application/json"}
    )
    assert large.status_code == 401, large.text
    assert str(LIMIT) not in large.text
