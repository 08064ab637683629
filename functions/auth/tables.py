"""Auth's tables (database `auth`)."""

from sqlalchemy import ARRAY, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import UUID

from finflow.events import outbox_table, processed_events_table

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),  # stored lower-cased
    Column("name", String(100), nullable=False),
    Column("password_hash", String(100), nullable=False),
    Column("kyc_status", String(16), nullable=False, server_default="pending"),
    # when the current kyc_status was decided: older decisions arriving late are ignored
    Column("kyc_status_at", DateTime(timezone=True)),
    Column("roles", ARRAY(String(32)), nullable=False, server_default="{customer}"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # set by an erasure: email and name are then placeholders and the password unusable
    Column("erased_at", DateTime(timezone=True)),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the opaque token
    Column("family_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("user_id", UUID(as_uuid=False), ForeignKey("users.id"), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),  # set when rotated: a second use is reuse
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

# a user's data export requests; the parts are in S3 (finflow.exports)
exports = Table(
    "exports",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("user_id", UUID(as_uuid=False), ForeignKey("users.id"), nullable=False, index=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
