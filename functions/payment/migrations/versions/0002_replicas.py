"""payment: wallet and KYC replicas fed by events; amounts Wallet converts for unknown wallets

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_replica",
        sa.Column("wallet_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=False), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "kyc_replica",
        sa.Column("user_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("kyc_status", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.alter_column("payments", "amount_minor", nullable=True)
    op.alter_column("payments", "currency", nullable=True)
    op.add_column("payments", sa.Column("requested_amount", sa.Text))
    op.create_check_constraint(
        "payments_amount_known", "payments", "status = 'pending' OR (amount_minor IS NOT NULL AND currency IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_constraint("payments_amount_known", "payments")
    op.drop_column("payments", "requested_amount")
    op.alter_column("payments", "currency", nullable=False)
    op.alter_column("payments", "amount_minor", nullable=False)
    op.drop_table("kyc_replica")
    op.drop_table("wallet_replica")
