"""kyc: submissions, observed payments, AML limits and alerts, wallet ages, event tables

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from finflow.migrations import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# (currency, single-payment threshold, velocity count, velocity amount, rapid in-and-out
# minimum inflow), amounts in minor units. Where a regulator publishes a reporting
# threshold we use it (US, EU, Canada, Australia: 10,000); otherwise a rounded equivalent
# of USD 10,000. docs/decisions.md has the table.
_LIMITS = [
    ("USD", 10_000_00, 10, 20_000_00, 1_000_00),
    ("EUR", 10_000_00, 10, 20_000_00, 1_000_00),
    ("GBP", 8_000_00, 10, 16_000_00, 800_00),
    ("CHF", 9_000_00, 10, 18_000_00, 900_00),
    ("CAD", 10_000_00, 10, 20_000_00, 1_000_00),
    ("AUD", 10_000_00, 10, 20_000_00, 1_000_00),
    ("JPY", 1_500_000, 10, 3_000_000, 150_000),
]


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=False), nullable=False),
        sa.Column("document_type", sa.String(32), nullable=False),
        sa.Column("document_url", sa.Text),
        sa.Column("document_key", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="submissions_status"),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="submissions_decided_at"),
        sa.CheckConstraint("(document_url IS NULL) <> (document_key IS NULL)", name="submissions_one_document"),
    )
    op.create_index("submissions_user", "submissions", ["user_id", "submitted_at"])
    op.create_index("submissions_queue", "submissions", ["status", "submitted_at", "id"])
    # the database itself refuses a second pending or a second verified submission per user
    op.create_index(
        "submissions_one_pending",
        "submissions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "submissions_one_verified",
        "submissions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'verified'"),
    )
    op.create_table(
        "observed_payments",
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_wallet_id", sa.String(64)),
        sa.Column("to_wallet_id", sa.String(64)),
        sa.Column("from_user_id", sa.String(64)),
        sa.Column("to_user_id", sa.String(64)),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("observed_payments_out", "observed_payments", ["from_wallet_id", "completed_at"])
    op.create_index("observed_payments_in", "observed_payments", ["to_wallet_id", "completed_at"])
    limits = op.create_table(
        "aml_limits",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("threshold_minor", sa.BigInteger, nullable=False),
        sa.Column("velocity_count", sa.Integer, nullable=False),
        sa.Column("velocity_amount_minor", sa.BigInteger, nullable=False),
        sa.Column("rapid_min_minor", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "threshold_minor > 0 AND velocity_count > 0 AND velocity_amount_minor > 0 AND rapid_min_minor > 0",
            name="aml_limits_positive",
        ),
    )
    op.bulk_insert(
        limits,
        [
            {"currency": c, "threshold_minor": t, "velocity_count": n, "velocity_amount_minor": v, "rapid_min_minor": r}
            for c, t, n, v, r in _LIMITS
        ],
    )
    op.create_table(
        "alerts",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("wallet_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("freeze_state", sa.String(16)),
        sa.Column("frozen_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("resolution", sa.Text),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.String(64)),
        sa.CheckConstraint("severity IN ('low', 'medium', 'high')", name="alerts_severity"),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="alerts_status"),
        sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="alerts_resolved_at"),
        sa.CheckConstraint(
            "freeze_state IN ('pending', 'frozen', 'lifted', 'cancelled', 'skipped')", name="alerts_freeze_state"
        ),  # or NULL: the alert does not freeze
        # a redelivered or republished payment never raises the same alert twice
        sa.UniqueConstraint("rule", "payment_id", name="alerts_one_per_rule_and_payment"),
    )
    op.create_index("alerts_queue", "alerts", ["status", "created_at", "id"])
    op.create_index("alerts_wallet", "alerts", ["wallet_id", "status"])
    op.create_index(
        "alerts_freeze_pending", "alerts", ["payment_id"], postgresql_where=sa.text("freeze_state = 'pending'")
    )
    op.create_table(
        "wallet_ages",
        sa.Column("wallet_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_event_tables(op)


def downgrade() -> None:
    for table in (
        "processed_events",
        "outbox",
        "wallet_ages",
        "alerts",
        "aml_limits",
        "observed_payments",
        "submissions",
    ):
        op.drop_table(table)
