"""Standard Webhooks signing: `whsec_` secrets and the `v1,` HMAC-SHA256 signature.

See https://www.standardwebhooks.com: the signed content is
`{webhook-id}.{webhook-timestamp}.{body}` and the key is the base64-decoded part of the secret.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(
    secrets: tuple[str, ...], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of one attempt, signed with each secret (the current one first; during a
    rotation the replaced one too), space-separated as the spec allows: a receiver accepts
    the delivery when any signature matches a secret it holds."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in secrets),
    }
