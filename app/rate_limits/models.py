"""A token bucket per caller and endpoint class, kept in the database so that every server
process draws from the same bucket."""

from sqlmodel import Field, SQLModel


class RateBucket(SQLModel, table=True):
    __tablename__ = "rate_buckets"

    subject: str = Field(
        primary_key=True, max_length=80, description="`key:<api key id>`, `person:<id>`, ..."
    )
    endpoint_class: str = Field(primary_key=True, max_length=20)
    tokens: float = Field(description="Tokens left at `refilled_at`.")
    refilled_at: float = Field(description="Unix time (seconds) the tokens were counted at.")
