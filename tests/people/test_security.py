"""Passwords: an unknown email costs what a known one does."""

from app.people import security


def test_the_hash_checked_for_an_unknown_email_has_the_hashers_own_parameters(
    production_password_hashing,
):
    # Otherwise a sign-in for an unknown email would take another time than one for a known
    # email, and the time would tell which emails have an account.
    assert not security.needs_rehash(security._DUMMY_HASH)


def test_no_password_matches_an_unknown_email():
    assert security.verify_password(None, "") is False
    assert security.verify_password(None, "geen goed wachtwoord") is False
    assert security.verify_password(security.hash_password("juist"), "juist") is True
