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


@pytest.mark.parametrize("path", ["/v1/cases/imports", "/v1/vacancies/imports"])
def test_an_upload_sent_as_a_url_encoded_form_is_415(client, small_region, path):
    """A URL-encoded form carries no file: the import answered 400 'Expected UploadFile,
    received: <class 'str'>' on `file`, Python's words, where the README promises a 415 naming
    multipart/form-data for a body in another media type."""
    org = small_region.care_provider if "cases" in path else small_region.corporation
    headers = {**org.headers, "Content-Type": "application/x-www-form-urlencoded"}
    response = client.post(path, content=b"file=external_ref%3BStraat", headers=headers)
    assert_problem(response, 415)
    assert "multipart/form-data" in response.json()["detail"]


UPLOAD = (
    b'--x\r\nContent-Disposition: form-data; name="file"; filename="dossiers.csv"\r\n\r\n'
    b"external_ref\r\n--x--\r\n"
)


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=", "Multipart/Form-Data"]
)
def test_an_upload_without_a_boundary_is_400_naming_the_content_type(
    client, small_region, content_type
):
    headers = {**small_region.care_provider.headers, "Content-Type": content_type}
    response = client.post("/v1/cases/imports", content=UPLOAD, headers=headers)
    problem = assert_problem(response, 400, "validation_error")
    [param] = problem["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == (
        "Content-Type",
        "header",
        "missing_boundary",
    )
    assert "boundary=" in param["reason"]


def test_an_upload_that_does_not_split_at_its_boundary_is_400_naming_the_body(client, small_region):
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": "multipart/form-data; boundary=elsewhere",
    }
    response = client.post("/v1/cases/imports", content=UPLOAD, headers=headers)
    problem = assert_problem(response, 400, "validation_error")
    assert [(p["name"], p["in"], p["code"]) for p in problem["invalidParams"]] == [
        ("body", "body", "form_invalid")
    ]


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [("utf-16", "utf-16"), ("iso-8859-1", "latin-1"), ("latin-1", "ascii"), ('"UTF-32"', "utf-32")],
)
def test_json_in_another_charset_is_415(client, small_region, charset, encoding):
    import json

    body = json.dumps(case_body(small_region.table_id), ensure_ascii=False).encode(encoding)
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": f"application/json; charset={charset}",
    }
    response = client.post("/v1/cases", content=body, headers=headers)
    assert_problem(response, 415)
    assert "UTF-8" in response.json()["detail"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_utf16_or_utf32_json_body_without_a_charset_is_415(client, small_region, encoding):
    import json

    body = json.dumps(case_body(small_region.table_id)).encode(encoding)
    response = client.post("/v1/cases", content=body, headers=json_headers(small_region))
    assert_problem(response, 415)


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"'])
def test_utf8_json_is_read_with_or_without_its_charset_or_byte_order_mark(
    client, small_region, charset
):
    import json

    body = json.dumps(case_body(small_region.table_id)).encode()
    headers = {**json_headers(small_region), "Content-Type": f"application/json; charset={charset}"}
    response = client.post("/v1/cases", content=body, headers=headers)
    assert response.status_code == 201, response.text
    marked = json.dumps(case_body(small_region.table_id)).encode("utf-8-sig")
    response = client.post("/v1/cases", content=marked, headers=json_headers(small_region))
    assert response.status_code == 201, response.text


def json_headers(region) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**region.care_provider.headers, "Content-Type": "application/json"}


def test_a_request_without_a_body_is_not_refused_for_its_charset(client, small_region):
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": "application/json; charset=latin-1",
    }
    assert client.get("/v1/cases", headers=headers).status_code == 200


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate, gzip", "x-unknown"])
def test_a_body_in_a_content_coding_is_415_naming_the_one_read(client, small_region, coding):
    """RFC 9110 section 12.5.3: content in a coding the server does not decode is a 415 with
    `Accept-Encoding`. A gzipped body was a 400 saying it was not UTF-8, and a body labelled
    `br` but sent plain was stored, as if the label were not there."""
    import json

    body = json.dumps(case_body(small_region.table_id)).encode()
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": "application/json",
        "Content-Encoding": coding,
    }
    response = client.post("/v1/cases", content=body, headers=headers)
    assert_problem(response, 415)
    assert response.headers["Accept-Encoding"] == "identity"
    assert "Content-Encoding" in response.json()["detail"]
    listed = client.get("/v1/cases", headers=small_region.care_provider.headers).json()
    assert listed["items"] == []


def test_a_body_labelled_identity_is_read(client, small_region):
    import json

    body = json.dumps(case_body(small_region.table_id))
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": "application/json",
        "Content-Encoding": "Identity",
    }
    response = client.post("/v1/cases", content=body, headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("coding", ["gzip, chunked", "deflate, chunked", "x-unknown, chunked"])
def test_a_body_in_a_transfer_coding_other_than_chunked_is_501(client, small_region, coding):
    """RFC 9112 section 6.1: a request in a transfer coding the server does not understand
    SHOULD be answered 501. The server only takes `chunked` off, so a body sent as `gzip,
    chunked` and gzipped was a 400 saying it was not UTF-8, and one so labelled but sent plain
    was stored as if the label were not there."""
    import json

    body = json.dumps(case_body(small_region.table_id)).encode()
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": "application/json",
        "Transfer-Encoding": coding,
    }
    response = client.post("/v1/cases", content=body, headers=headers)
    problem = assert_problem(response, 501, "not_implemented")
    assert coding.split(",")[0] in problem["detail"]
    listed = client.get("/v1/cases", headers=small_region.care_provider.headers).json()
    assert listed["items"] == []


@pytest.mark.parametrize(
    "disposition",
    [b'form-data; name="file"', b"form-data; name=\"file\"; filename*=UTF-8''%ff.csv"],
    ids=["no-filename", "unreadable-filename"],
)
def test_an_upload_whose_file_is_a_text_field_says_to_send_a_file(
    client, small_region, disposition
):
    """A multipart part without a (readable) filename is a text field: the import answered
    'Expected UploadFile, received: <class 'str'>', Python's words, not what to send."""
    body = b"--x\r\nContent-Disposition: " + disposition + b"\r\n\r\nexternal_ref\r\n--x--\r\n"
    headers = {
        **small_region.care_provider.headers,
        "Content-Type": "multipart/form-data; boundary=x",
    }
    response = client.post("/v1/cases/imports", content=body, headers=headers)
    problem = assert_problem(response, 400, "validation_error")
    [param] = problem["invalidParams"]
    assert (param["name"], param["in"]) == ("file", "body")
    assert "class" not in param["reason"] and "filename" in param["reason"]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_json_patch_body_is_415_as_the_api_reads_merge_patches(client, small_region, method):
    """`application/json-patch+json` (RFC 6902) is a list of operations, not the fields to
    change: read as JSON, `[{"op": ...}]` was a 400 about the body's shape and `{}` (no JSON
    Patch at all) changed the case as a merge patch. The PATCHes are JSON merge patches
    (RFC 7396): a 415 naming the media types they take, and nothing changes."""
    org = small_region.care_provider
    created = client.post("/v1/cases", json=case_body(small_region.table_id), headers=org.headers)
    assert created.status_code == 201, created.text
    url = f"/v1/cases/{created.json()['id']}" if method == "PATCH" else "/v1/cases"
    headers = {**org.headers, "Content-Type": "application/json-patch+json"}
    for body in (
        b'[{"op": "replace", "path": "/birth_year", "value": 1991}]',
        b'{"birth_year": 1991}',
    ):
        response = client.request(method, url, content=body, headers=headers)
        problem = assert_problem(response, 415, "unsupported_media_type")
        assert "application/merge-patch+json" in problem["detail"]
    assert (
        client.get(f"/v1/cases/{created.json()['id']}", headers=org.headers).headers["ETag"]
        == created.headers["ETag"]
    )


def test_a_merge_patch_is_read_as_json_on_a_patch(client, small_region):
    org = small_region.care_provider
    created = client.post("/v1/cases", json=case_body(small_region.table_id), headers=org.headers)
    headers = {**org.headers, "Content-Type": "application/merge-patch+json"}
    url = f"/v1/cases/{created.json()['id']}"
    response = client.patch(url, content=b'{"birth_year": 1991}', headers=headers)
    assert response.status_code == 200, response.text
