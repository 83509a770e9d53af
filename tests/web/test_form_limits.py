"""A form over Starlette's limits (a field over 1 MB, more than 1000 fields) is refused with a
Dutch 400 page, on the sign-in form and behind a session: it answered 500 'Er ging iets mis'
with a stack trace in the log (found by the eighth breaker)."""

import pytest

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
