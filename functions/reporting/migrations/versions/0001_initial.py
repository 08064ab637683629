"""reporting: users, KYC submissions, wallets, payments (full-text search), daily rollup, AML alerts

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("registered_at", sa.DateTime(timezone=True)),
        sa.Column("kyc_status", sa.String(16), nullable=False),
        sa.Column("kyc_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kyc_event_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "kyc_submissions",
        sa.Column("submission_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("document_type", sa.String(32)),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("decision", sa.String(16)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_event_id", sa.String(64)),
        sa.CheckConstraint("decision IN ('verified', 'rejected')", name="kyc_submissions_decision"),
    )
    op.create_index("kyc_submissions_user", "kyc_submissions", ["user_id"])
    op.create_table(
        "wallets",
        sa.Column("wallet_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16)),
        sa.Column("status_at", sa.DateTime(timezone=True)),
        sa.Column("status_event_id", sa.String(64)),
        sa.Column("balance_minor", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("from_wallet_id", sa.String(64)),
        sa.Column("to_wallet_id", sa.String(64)),
        sa.Column("from_user_id", sa.String(64)),
        sa.Column("to_user_id", sa.String(64)),
        sa.Column("description", sa.Text),
        sa.Column("failure_reason", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search", TSVECTOR, sa.Computed("to_tsvector('simple', coalesce(description, ''))", persisted=True)),
        sa.CheckConstraint("status IN ('completed', 'failed')", name="payments_status"),
        sa.CheckConstraint("amount_minor > 0", name="payments_amount_positive"),
    )
    op.execute("CREATE INDEX payments_recent ON payments (at DESC, payment_id DESC)")
    op.execute("CREATE INDEX payments_currency_recent ON payments (currency, at DESC, payment_id DESC)")
    op.create_index("payments_currency_amount", "payments", ["currency", "amount_minor"])
    op.create_index("payments_search", "payments", ["search"], postgresql_using="gin")
    for col in ("from_wallet_id", "to_wallet_id", "from_user_id", "to_user_id"):
        op.create_index(f"payments_{col}", "payments", [col], postgresql_where=sa.text(f"{col} IS NOT NULL"))
    op.create_table(
        "payments_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("volume_minor", sa.BigInteger, nullable=False),
    )
    # the daily report reads one currency (or all) over a range of days
    op.create_index("payments_daily_currency_day", "payments_daily", ["currency", "day"])
    op.create_table(
        "aml_alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("payment_id", sa.String(64), nullable=False),
        sa.Column("wallet_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("freezes_wallet", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("detail_type", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    for table in (
        "processed_events",
        "aml_alerts",
        "payments_daily",
        "payments",
        "wallets",
        "kyc_submissions",
        "users",
    ):
        op.drop_table(table)
