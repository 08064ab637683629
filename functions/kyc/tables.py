"""KYC's tables (database `kyc`): submissions, the payments AML has observed, per-currency
AML limits, alerts, wallet ages read from Wallet, and the event tables."""

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

from finflow.events import outbox_table, processed_events_table

metadata = MetaData()

# One row per submission. At most one pending and one verified per user (partial unique
# indexes); pending -> verified | rejected is the only transition.
submissions = Table(
    "submissions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("user_id", UUID(as_uuid=False), nullable=False),
    Column("document_type", String(32), nullable=False),
    Column("document_url", Text),
    Column("document_key", String(200)),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("submitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(64)),  # a compliance user's id, or "provider:<name>"
    Column("reason", Text),
    # set by the user's erasure: document_url and document_key are then both NULL
    Column("documents_erased_at", DateTime(timezone=True)),
)

# What AML has seen of PaymentCompleted: the windows of the rules are read from here.
observed_payments = Table(
    "observed_payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("from_wallet_id", String(64)),
    Column("to_wallet_id", String(64)),
    Column("from_user_id", String(64)),
    Column("to_user_id", String(64)),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# AML limits per currency, in minor units (seeded by the migration, editable without a deploy).
aml_limits = Table(
    "aml_limits",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("threshold_minor", BigInteger, nullable=False),
    Column("velocity_count", Integer, nullable=False),
    Column("velocity_amount_minor", BigInteger, nullable=False),
    Column("rapid_min_minor", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# freeze_state: NULL (the alert does not freeze), pending (to be sent to Wallet), frozen, lifted
# (unfrozen on resolution), cancelled (resolved with unfreeze before it was sent), skipped
# (Wallet had no such wallet or it was closed).
alerts = Table(
    "alerts",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("rule", String(32), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("payment_id", String(64), nullable=False),
    Column("wallet_id", String(64), nullable=False),
    Column("user_id", String(64)),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("freeze_state", String(16)),
    Column("frozen_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolution", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(64)),
)

# Wallet creation times (they never change), read from Wallet once per wallet.
wallet_ages = Table(
    "wallet_ages",
    metadata,
    Column("wallet_id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
processed_events = processed_events_table(metadata)
