"""A form over Starlette's limits (a field over 1 MB, more than 1000 fields) is refused with a
Dutch 400 page, on the sign-in form and behind a session: it answered 500 'Er ging iets mis'
with a stack trace in the log (found by the eighth breaker)."""

import pytest

from tests.clock import iso
from tests.web.conftest import csrf_of, hidden, make_person, page_client, signed_in

BIG = "a" * (1024 * 1024 + 1)


def test_a_sign_in_form_with_a_field_over_one_megabyte_is_a_dutch_400(app):
    browser = page_client(app)
    form = browser.get("/aanmelden").text
    response = browser.post(
        "/aanmelden",
        data={
            "signin_token": hidden(form, "signin_token"),
            "email": "x@example.nl",
            "wachtwoord": BIG,
        },
    )
    assert response.status_code == 400
    assert "te groot of heeft te veel velden" in response.text


@pytest.mark.parametrize(
    "extra",
    [{"agenda_published": BIG}, {f"veld{n}": "x" for n in range(1001)}],
    ids=["big", "many"],
)
def test_a_signed_in_form_over_the_limits_is_a_dutch_400(app, client, region, extra):
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, "/account/meldingen")
    response = browser.post("/account/meldingen", data={"csrf_token": token, **extra})
    assert response.status_code == 400
    assert "te groot of heeft te veel velden" in response.text


def test_a_file_over_the_body_limit_on_the_import_page_is_a_dutch_413(app, client, region):
    """The body limit (`UITSTROOM_MAX_BODY_BYTES`) answered the import page in English
    problem+json; the API keeps its problem+json."""
    browser = signed_in(app, make_person(client, region.care_provider))
    token = csrf_of(browser, "/inlezen")
    big = b"a;b\n" + b"x" * (8 * 1024 * 1024 + 1)
    response = browser.post(
        "/inlezen",
        data={"csrf_token": token, "tafel": region.table_id, "stap": "controleren"},
        files={"bestand": ("dossiers.csv", big, "text/csv")},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "groter dan de uitstroomtafel aanneemt" in response.text
    api = client.post(
        "/v1/cases/imports",
        params={"tableId": region.table_id},
        files={"file": ("dossiers.csv", big, "text/csv")},
        headers=region.care_provider.headers,
    )
    assert api.status_code == 413
    assert api.headers["content-type"] == "application/problem+json"


def test_an_unreadable_form_is_a_dutch_400_that_does_not_call_it_too_large(app, client, region):
    """Starlette refuses a multipart body it cannot read (no boundary) with the same 400 as one
    over its limits; that page said the form was too large, which it was not."""
    browser = signed_in(app, make_person(client, region.care_provider))
    csrf_of(browser, "/account/meldingen")
    response = browser.post(
        "/account/meldingen",
        content=b"csrf_token=x",
        headers={"Content-Type": "multipart/form-data"},
    )
    assert response.status_code == 400
    assert "te groot" not in response.text
    assert "kon niet worden gelezen" in response.text


def test_a_field_over_its_length_is_refused_not_cut_to_a_valid_value(app, client, region, chair):
    """A form field was cut to its length before it was read: a date typed with a digit too
    many (`2026-11-169`) became `2026-11-16` and a meeting was planned on it, and a name of
    250 characters, which the API refuses, was stored as its first 200."""
    browser = signed_in(app, chair)
    token = csrf_of(browser, f"/tafels/{region.table_id}")
    day = iso(-14)
    planned = browser.post(
        f"/tafels/{region.table_id}/vergaderingen", data={"csrf_token": token, "datum": day + "9"}
    )
    assert planned.status_code == 400
    meetings = client.get(
        f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers
    ).json()["items"]
    assert day not in {m["date"] for m in meetings}
    token = csrf_of(browser, "/mensen")
    long_name = "Nieuwe collega " + "x" * 235
    made = browser.post(
        "/mensen",
        data={"csrf_token": token, "email": "lang@example.nl", "naam": long_name, "rol": "member"},
    )
    assert made.status_code == 400
    people = client.get(
        f"/v1/organizations/{region.chair.id}/people", headers=region.chair.headers
    ).json()["items"]
    assert "lang@example.nl" not in {p["email"] for p in people}


def test_an_email_with_a_nul_byte_on_the_people_page_is_a_dutch_400(app, client, region, chair):
    """The people page passed the email to the API's model, whose pattern let a NUL byte
    through: PostgreSQL refused it (a 500 page)."""
    browser = signed_in(app, chair)
    token = csrf_of(browser, "/mensen")
    made = browser.post(
        "/mensen",
        data={"csrf_token": token, "email": "nul\x00@example.nl", "naam": "Nul", "rol": "member"},
    )
    assert made.status_code == 400
    assert "Vul een geldig e-mailadres" in made.text
    people = client.get(
        f"/v1/organizations/{region.chair.id}/people", headers=region.chair.headers
    ).json()["items"]
    assert "Nul" not in {p["display_name"] for p in people}


def test_a_name_with_a_direction_override_on_the_pages_says_what_is_wrong(
    app, client, region, chair
):
    """Refused as in the API, but the people page asked for "a name" and the areas page to
    "fill in a name for the code", though one was filled in."""
    browser = signed_in(app, chair)
    person = browser.post(
        "/mensen",
        data={
            "csrf_token": csrf_of(browser, "/mensen"),
            "email": "omkeer@example.nl",
            "naam": "Piet \u202eneeJ",
            "rol": "member",
        },
    )
    assert person.status_code == 400 and "leesrichtingstekens" in person.text
    areas = f"/tafels/{region.table_id}/gebieden"
    area = browser.post(
        areas,
        data={"csrf_token": csrf_of(browser, areas), "code": "BU03440999", "naam": "Oost \u2067x"},
    )
    assert area.status_code == 400 and "leesrichtingstekens" in area.text
