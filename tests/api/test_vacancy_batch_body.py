"""The vacancy batch's body: validated in one pass when valid as a whole, else parsed as sent so
that FastAPI and the service report every error (app.vacancies.batch_body)."""

import asyncio
import json

from app.vacancies.batch_body import BatchRequest
from app.vacancies.models import VacancyIn
from tests.conftest import vacancy_body


def _json_of(body: bytes):  # type: ignore[no-untyped-def]
    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/v1/vacancies/batch", "headers": []}
    return asyncio.run(BatchRequest(scope, receive).json())


def test_a_batch_valid_as_a_whole_arrives_as_validated_items() -> None:
    items = _json_of(json.dumps({"items": [vacancy_body(), vacancy_body()]}).encode())["items"]
    assert len(items) == 2
    assert all(isinstance(item, VacancyIn) for item in items)


def test_a_batch_with_an_invalid_item_arrives_as_sent() -> None:
    sent = {"items": [vacancy_body(), {**vacancy_body(), "rooms": 0}]}
    assert _json_of(json.dumps(sent).encode()) == sent


def test_a_body_that_is_no_batch_arrives_as_sent() -> None:
    assert _json_of(b'{"items": "none"}') == {"items": "none"}
    assert _json_of(b"[1, 2]") == [1, 2]


def test_a_batch_sent_as_another_media_type_is_415(client, small_region):  # type: ignore[no-untyped-def]
    body = json.dumps({"items": [vacancy_body()]}).encode()
    headers = {**small_region.corporation.headers, "Content-Type": "text/plain"}
    response = client.post("/v1/vacancies/batch", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]


def test_a_valid_batch_sent_as_a_json_media_type_is_stored(client, small_region):  # type: ignore[no-untyped-def]
    body = json.dumps({"items": [vacancy_body()]}).encode()
    headers = {**small_region.corporation.headers, "Content-Type": "application/merge-patch+json"}
    response = client.post("/v1/vacancies/batch", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
