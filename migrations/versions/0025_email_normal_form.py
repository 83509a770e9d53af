"""Login names in one normal form: full-width forms mapped, lower case, NFC
(`app.people.models.normalise_email`). Sign-in now normalises what is typed so; a login name
stored with 'e' and a combining accent (as an API client sent it) would otherwise match no
typed address any more. One whose normal form another account of its organisation has already
is left as it is: the admin sees both and blocks one.

Revision ID: 0025_email_normal_form
Revises: 0024_webhook_secret_rotation
Create Date: 2026-12-04 21:00:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_email_normal_form"
down_revision: str | None = "0024_webhook_secret_rotation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _normal(email: str) -> str:
    """`normalise_email` as of this revision (a migration does not follow later changes)."""
    mapped = "".join(
        unicodedata.normalize("NFKC", ch) if ch.isalnum() and "\uff00" <= ch <= "\uffef" else ch
        for ch in email.strip()
    )
    return unicodedata.normalize("NFC", mapped.lower())


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, organisation_id, email FROM people")).all()
    taken = {(str(org), email) for _, org, email in rows}
    for person_id, organisation_id, email in rows:
        normal = _normal(email)
        if normal == email or len(normal) > 254 or (str(organisation_id), normal) in taken:
            continue
        taken.add((str(organisation_id), normal))
        connection.execute(
            sa.text("UPDATE people SET email = :email WHERE id = :id"),
            {"email": normal, "id": person_id},
        )


def downgrade() -> None:
    """The forms typed at creation are not kept: the normal form stays (it signs in as well)."""
