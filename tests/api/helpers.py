"""Small assertions shared by the API tests."""

from typing import Any

from httpx import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"


def assert_problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with the given status (and code); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), response.headers
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def invalid_names(response: Response) -> list[str]:
    """The field names of a 422's `invalidParams`, checking each entry's shape on the way."""
    body = assert_problem(response, 422)
    params = body.get("invalidParams")
    assert params, body
    for param in params:
        assert set(param) >= {"name", "in", "code", "reason"}, param
    return [p["name"] for p in params]


def me(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
