"""A body in a media type the operation does not read is a 415 that says which one it reads
(RFC 9110 section 15.5.16), not a 400 about the body's shape."""

import pytest

from tests.api.helpers import assert_problem
from tests.conftest import case_body


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_a_json_body_sent_as_another_media_type_is_415(client, small_region, content_type):
    headers = dict(small_region.care_provider.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = f'{{"table_id": "{small_region.table_id}"}}'.encode()
    response = client.post("/v1/cases", content=body, headers=headers)
    assert_problem(response, 415)
    assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
def test_a_json_media_type_is_read_as_json(client, small_region, content_type):
    import json

    body = json.dumps(case_body(small_region.table_id))
    headers = {**small_region.care_provider.headers, "Content-Type": content_type}
    response = client.post("/v1/cases", content=body, headers=headers)
    assert response.status_code == 201, response.text


def test_a_json_body_of_the_wrong_shape_stays_400(client, small_region):
    headers = small_region.care_provider.headers
    response = client.post("/v1/cases", json=[1, 2], headers=headers)
    assert_problem(response, 400)


def test_an_upload_sent_as_json_is_415(client, small_region):
    headers = small_region.care_provider.headers
    response = client.post("/v1/cases/imports", json={"file": "x"}, headers=headers)
    assert_problem(response, 415)
    assert "multipart/form-data" in response.json()["detail"]
