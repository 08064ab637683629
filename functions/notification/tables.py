"""Notification's tables (database `notification`), for the PostgreSQL adapter (store_postgres.py).

The same records as the DocumentDB collections, with real columns and constraints where the
logic relies on them: one send claim per (event, user, template, channel), one erasure per
event, no personal data on an erased contact, a delivery status the logic knows. Only a
notification's `data` is free-form (JSONB).

Ids compare byte-wise (collation "C"), as DocumentDB compares strings: pages, ties and the
reminder job's `id > after` come out in the same order on both adapters.
"""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()


def _id(name: str, **kw) -> Column:
    return Column(name, Text(collation="C"), **kw)


def _at(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


# Event-carried state from Auth, one row per user; `erased_at` is the erasure's tombstone.
contacts = Table(
    "contacts",
    metadata,
    _id("id", primary_key=True),  # the user id
    Column("email", Text),
    Column("name", Text),
    _at("registered_at"),
    # each of these is set only by a change at least as new as the one it holds (`*_at`)
    Column("kyc_status", Text),
    _at("kyc_status_at"),
    Column("roles", ARRAY(Text)),
    _at("roles_at"),
    _at("kyc_reminded_at"),  # the scheduled reminder was sent
    _at("erased_at"),
    _at("updated_at", nullable=False),
    CheckConstraint(
        "erased_at IS NULL OR (email IS NULL AND name IS NULL AND registered_at IS NULL)",
        name="contacts_erased_keep_nothing",
    ),
)

preferences = Table(
    "preferences",
    metadata,
    _id("user_id", primary_key=True),
    Column("email", Boolean, nullable=False),
    Column("sms", Boolean, nullable=False),
    Column("in_app", Boolean, nullable=False),
    Column("phone", Text),
    _at("updated_at", nullable=False),
    CheckConstraint("NOT sms OR phone IS NOT NULL", name="preferences_sms_needs_phone"),
)

# In-app notifications; the id is derived from (event, user, template), so storing is idempotent.
notifications = Table(
    "notifications",
    metadata,
    _id("id", primary_key=True),
    _id("user_id", nullable=False),
    _id("event_id", nullable=False),
    Column("type", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # the users the text names (their erasure rewrites it)
    Column("mentions", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("read", Boolean, nullable=False, server_default=text("false")),
    _at("read_at"),
    _at("created_at", nullable=False),
    CheckConstraint("read = (read_at IS NOT NULL)", name="notifications_read_at"),
)

# The claim taken before each send: at most one per (event, user, template, channel).
deliveries = Table(
    "deliveries",
    metadata,
    _id("id", primary_key=True),
    _id("event_id", nullable=False),
    _id("user_id", nullable=False),
    Column("template", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("to", Text),  # the address or phone; emptied by the user's erasure
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("provider_id", Text),
    Column("error", Text),
    _at("created_at", nullable=False),
    _at("updated_at", nullable=False),
    _at("sent_at"),
    UniqueConstraint("event_id", "user_id", "template", "channel", name="deliveries_one_send"),
    CheckConstraint("status IN ('sending','sent','failed','rejected','unknown')", name="deliveries_status"),
    CheckConstraint("channel IN ('in_app','email','sms')", name="deliveries_channel"),
    CheckConstraint("attempts >= 1", name="deliveries_attempts"),
)

# Each UserErased event applied once.
erasures = Table(
    "erasures",
    metadata,
    _id("event_id", primary_key=True),
    _id("user_id", nullable=False),
    _at("applied_at", nullable=False),
)

Index("contacts_by_role", contacts.c.roles, postgresql_using="gin")
Index(
    "contacts_kyc_reminders", contacts.c.id, postgresql_where=text("kyc_status = 'pending' AND kyc_reminded_at IS NULL")
)
Index(
    "notifications_user_newest", notifications.c.user_id, notifications.c.created_at.desc(), notifications.c.id.desc()
)
Index(
    "notifications_user_unread",
    notifications.c.user_id,
    notifications.c.created_at.desc(),
    notifications.c.id.desc(),
    postgresql_where=text("NOT read"),
)
Index("notifications_mentions", notifications.c.mentions, postgresql_using="gin")
Index("deliveries_user", deliveries.c.user_id)
Index("erasures_user", erasures.c.user_id)

TABLES = {
    "contacts": contacts,
    "preferences": preferences,
    "notifications": notifications,
    "deliveries": deliveries,
    "erasures": erasures,
}
