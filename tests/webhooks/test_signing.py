"""Signatures are Standard Webhooks: any receiver library verifies what we send."""

import base64

from app.webhooks.signing import new_secret, sign, signing_key, webhook_headers
from tests.webhooks.conftest import verify

# The published test vector of the Standard Webhooks reference libraries (Svix and others).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_reproduces_the_published_test_vector():
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_independent_verifier_accepts_the_test_vector_and_nothing_else():
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    assert verify(VECTOR_SECRET, headers, VECTOR_BODY)
    assert not verify(VECTOR_SECRET, headers, VECTOR_BODY + b" ")
    assert not verify(VECTOR_SECRET, {**headers, "webhook-id": "msg_other"}, VECTOR_BODY)
    assert not verify(new_secret(), headers, VECTOR_BODY)


def test_secrets_are_whsec_and_base64_of_24_to_64_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) <= 64
    assert signing_key(secret) == base64.b64decode(secret[len("whsec_") :])
    assert new_secret() != secret


def test_headers_carry_id_timestamp_and_a_verifiable_signature():
    secret = new_secret()
    headers = webhook_headers((secret,), "0193a1b2-0000-7000-8000-000000000001", 1700000000, b"{}")
    assert headers["webhook-id"] == "0193a1b2-0000-7000-8000-000000000001"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["content-type"] == "application/json"
    assert verify(secret, headers, b"{}")


def test_during_a_rotation_each_secret_gives_one_of_the_signatures():
    new, old, stranger = new_secret(), new_secret(), new_secret()
    headers = webhook_headers((new, old), "msg_1", 1700000000, b"{}")
    assert headers["webhook-signature"] == " ".join(
        sign(s, "msg_1", 1700000000, b"{}") for s in (new, old)
    )
    assert verify(new, headers, b"{}") and verify(old, headers, b"{}")
    assert not verify(stranger, headers, b"{}")
