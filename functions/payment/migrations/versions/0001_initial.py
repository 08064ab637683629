"""payment: payments (state machine, idempotency keys), outbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from finflow.migrations import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("from_wallet_id", UUID(as_uuid=False)),
        sa.Column("to_wallet_id", UUID(as_uuid=False)),
        sa.Column("from_user_id", UUID(as_uuid=False)),
        sa.Column("to_user_id", UUID(as_uuid=False)),
        sa.Column("initiator_user_id", UUID(as_uuid=False), nullable=False),
        sa.Column("description", sa.String(200)),
        sa.Column("failure_reason", sa.String(200)),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_body", sa.Text),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("initiator_user_id", "idempotency_key", name="payments_idempotency_key"),
        sa.CheckConstraint("status IN ('pending','completed','failed')", name="payments_status"),
        sa.CheckConstraint("kind IN ('transfer','deposit','withdrawal')", name="payments_kind"),
        sa.CheckConstraint("amount_minor > 0", name="payments_amount_positive"),
        # a final state has its timestamp; a pending payment has neither
        sa.CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="payments_completed_at"),
        sa.CheckConstraint("(status = 'failed') = (failed_at IS NOT NULL)", name="payments_failed_at"),
        sa.CheckConstraint("from_wallet_id IS NOT NULL OR to_wallet_id IS NOT NULL", name="payments_one_side"),
    )
    # the caller's payments, newest first (keyset), as either party
    op.create_index("payments_from_user", "payments", ["from_user_id", sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index("payments_to_user", "payments", ["to_user_id", sa.text("created_at DESC"), sa.text("id DESC")])
    # the reconciler only scans what is still pending
    op.create_index("payments_pending", "payments", ["created_at"], postgresql_where=sa.text("status = 'pending'"))
    create_event_tables(op)


def downgrade() -> None:
    for table in ("processed_events", "outbox", "payments"):
        op.drop_table(table)
