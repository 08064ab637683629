"""wallet: wallets, double-entry ledger, status history, KYC replica, event tables

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

_BALANCED = """
CREATE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entries WHERE posting_id = NEW.posting_id) <> 0 THEN
        RAISE EXCEPTION 'posting % does not balance', NEW.posting_id USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();
"""


def upgrade() -> None:
    op.create_table(
        "wallets",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False, server_default="user"),
        sa.Column("user_id", UUID(as_uuid=False)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("status", sa.String(8), nullable=False, server_default="active"),
        sa.Column("frozen_by", sa.String(16)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        # the database, not only the code, refuses a negative customer balance
        sa.CheckConstraint("kind = 'external' OR balance_minor >= 0", name="wallets_balance_not_negative"),
        sa.CheckConstraint("kind IN ('user', 'external')", name="wallets_kind"),
        sa.CheckConstraint("(kind = 'user') = (user_id IS NOT NULL)", name="wallets_owner"),
        sa.CheckConstraint("status IN ('active', 'frozen', 'closed')", name="wallets_status"),
        sa.CheckConstraint("(status = 'frozen') = (frozen_by IS NOT NULL)", name="wallets_frozen_by"),
    )
    op.create_index(
        "wallets_one_per_user_currency",
        "wallets",
        ["user_id", "currency"],
        unique=True,
        postgresql_where=sa.text("kind = 'user'"),
    )
    op.create_index(
        "wallets_one_external_per_currency",
        "wallets",
        ["currency"],
        unique=True,
        postgresql_where=sa.text("kind = 'external'"),
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("description", sa.String(200)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_minor > 0", name="postings_amount_positive"),
        sa.CheckConstraint("kind IN ('transfer', 'deposit', 'withdrawal')", name="postings_kind"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("posting_id", sa.String(64), sa.ForeignKey("postings.id"), nullable=False),
        sa.Column("wallet_id", UUID(as_uuid=False), sa.ForeignKey("wallets.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_minor <> 0", name="ledger_entries_amount_nonzero"),
    )
    op.create_index("ledger_entries_wallet_seq", "ledger_entries", ["wallet_id", "seq"])
    op.create_index("ledger_entries_posting", "ledger_entries", ["posting_id"])
    op.execute(_BALANCED)
    op.create_table(
        "wallet_status_changes",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("wallet_id", UUID(as_uuid=False), sa.ForeignKey("wallets.id"), nullable=False, index=True),
        sa.Column("from_status", sa.String(8), nullable=False),
        sa.Column("to_status", sa.String(8), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "kyc_replica",
        sa.Column("user_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("kyc_status", sa.String(16), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_event_tables(op)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_entries")
    op.execute("DROP FUNCTION IF EXISTS ledger_posting_balanced()")
    for table in (
        "processed_events",
        "outbox",
        "kyc_replica",
        "wallet_status_changes",
        "ledger_entries",
        "postings",
        "wallets",
    ):
        op.drop_table(table)
