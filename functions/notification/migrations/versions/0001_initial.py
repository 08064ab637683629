"""notification: contacts, preferences, in-app notifications, send claims, erasures

The PostgreSQL adapter's schema (the DocumentDB adapter keeps the same records in
collections). No outbox and no processed_events: Notification emits nothing, and its
consumers are idempotent through the send claims and the derived notification ids.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.Text(collation="C")  # byte-wise, as DocumentDB compares strings
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", ID, primary_key=True),
        sa.Column("email", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("registered_at", AT),
        sa.Column("kyc_status", sa.Text),
        sa.Column("kyc_status_at", AT),
        sa.Column("roles", ARRAY(sa.Text)),
        sa.Column("roles_at", AT),
        sa.Column("kyc_reminded_at", AT),
        sa.Column("erased_at", AT),
        sa.Column("updated_at", AT, nullable=False),
        sa.CheckConstraint(
            "erased_at IS NULL OR (email IS NULL AND name IS NULL AND registered_at IS NULL)",
            name="contacts_erased_keep_nothing",
        ),
    )
    # AML alerts go to every compliance officer
    op.create_index("contacts_by_role", "contacts", ["roles"], postgresql_using="gin")
    # the reminder job walks the users still pending and not reminded, by id
    op.create_index(
        "contacts_kyc_reminders",
        "contacts",
        ["id"],
        postgresql_where=sa.text("kyc_status = 'pending' AND kyc_reminded_at IS NULL"),
    )

    op.create_table(
        "preferences",
        sa.Column("user_id", ID, primary_key=True),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("sms", sa.Boolean, nullable=False),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("updated_at", AT, nullable=False),
        sa.CheckConstraint("NOT sms OR phone IS NOT NULL", name="preferences_sms_needs_phone"),
    )

    op.create_table(
        "notifications",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("mentions", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("read", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("read_at", AT),
        sa.Column("created_at", AT, nullable=False),
        sa.CheckConstraint("read = (read_at IS NOT NULL)", name="notifications_read_at"),
    )
    # the user's notifications newest first (keyset pages), and the unread ones alone
    op.create_index(
        "notifications_user_newest", "notifications", ["user_id", sa.text("created_at DESC"), sa.text("id DESC")]
    )
    op.create_index(
        "notifications_user_unread",
        "notifications",
        ["user_id", sa.text("created_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("NOT read"),
    )
    # an erasure rewrites the notifications that name the user
    op.create_index("notifications_mentions", "notifications", ["mentions"], postgresql_using="gin")

    op.create_table(
        "deliveries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("to", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("provider_id", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("sent_at", AT),
        sa.UniqueConstraint("event_id", "user_id", "template", "channel", name="deliveries_one_send"),
        sa.CheckConstraint("status IN ('sending','sent','failed','rejected','unknown')", name="deliveries_status"),
        sa.CheckConstraint("channel IN ('in_app','email','sms')", name="deliveries_channel"),
        sa.CheckConstraint("attempts >= 1", name="deliveries_attempts"),
    )
    # an erasure empties the addresses of the user's sends
    op.create_index("deliveries_user", "deliveries", ["user_id"])

    op.create_table(
        "erasures",
        sa.Column("event_id", ID, primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("applied_at", AT, nullable=False),
    )
    op.create_index("erasures_user", "erasures", ["user_id"])


def downgrade() -> None:
    for table in ("erasures", "deliveries", "notifications", "preferences", "contacts"):
        op.drop_table(table)
