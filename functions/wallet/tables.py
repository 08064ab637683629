"""Wallet's tables (database `wallet`): wallets, the double-entry ledger, status history
and the event-fed replica of each user's KYC status."""

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from finflow.events import outbox_table, processed_events_table

metadata = MetaData()

# kind 'user': a customer's wallet (balance >= 0, enforced by a CHECK constraint);
# kind 'external': the funding account per currency that deposits come from and
# withdrawals go to. It keeps no running balance (derivable from its entries), so
# deposits do not all queue on one hot row.
wallets = Table(
    "wallets",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("kind", String(8), nullable=False, server_default="user"),
    Column("user_id", UUID(as_uuid=False)),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False, server_default="0"),
    Column("status", String(8), nullable=False, server_default="active"),
    Column("frozen_by", String(16)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

postings = Table(
    "postings",
    metadata,
    Column("id", String(64), primary_key=True),  # the payment id: postings are idempotent by it
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("description", String(200)),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),  # newest-first paging
    Column("posting_id", String(64), ForeignKey("postings.id"), nullable=False),
    Column("wallet_id", UUID(as_uuid=False), ForeignKey("wallets.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # credit > 0, debit < 0
    Column("balance_after_minor", BigInteger),  # None on external accounts
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

status_changes = Table(
    "wallet_status_changes",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("wallet_id", UUID(as_uuid=False), ForeignKey("wallets.id"), nullable=False),
    Column("from_status", String(8), nullable=False),
    Column("to_status", String(8), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

kyc_replica = Table(
    "kyc_replica",
    metadata,
    Column("user_id", UUID(as_uuid=False), primary_key=True),
    Column("kyc_status", String(16), nullable=False),
    Column("status_at", DateTime(timezone=True), nullable=False),  # when Auth decided it
    # when Wallet last learned it (event applied or Auth asked): a fresh "verified" is trusted
    Column("confirmed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
