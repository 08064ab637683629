"""Payment's tables (database `payment`)."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from finflow.events import outbox_table

metadata = MetaData()

payments = Table(
    "payments",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),  # also Wallet's posting id
    Column("kind", String(16), nullable=False),  # transfer | deposit | withdrawal
    # pending -> completed | failed; the transitions are UPDATE ... WHERE status = 'pending'
    Column("status", String(16), nullable=False, server_default="pending"),
    # Unknown (NULL) only while a pending payment names a wallet Payment's replica has not yet
    # heard of: Wallet converted `requested_amount` with the wallet's currency, and its answer fills them.
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("requested_amount", Text),  # the client's amount as JSON, for a posting Wallet converts
    Column("from_wallet_id", UUID(as_uuid=False)),  # None: the external funding account (deposit)
    Column("to_wallet_id", UUID(as_uuid=False)),  # None: the external funding account (withdrawal)
    Column("from_user_id", UUID(as_uuid=False)),  # the parties, from Wallet's views at creation
    Column("to_user_id", UUID(as_uuid=False)),
    Column("initiator_user_id", UUID(as_uuid=False), nullable=False),
    Column("description", String(200)),
    Column("failure_reason", String(200)),
    # Idempotency-Key (scoped per initiator), the SHA-256 of the canonical request and the
    # final response sent for it, replayed byte for byte to a retry with the same key.
    Column("idempotency_key", String(255)),
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    # Someone (the request, a retry or the reconciler) is sending the posting until then.
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    UniqueConstraint("initiator_user_id", "idempotency_key", name="payments_idempotency_key"),
    CheckConstraint("status IN ('pending','completed','failed')", name="payments_status"),
    CheckConstraint("kind IN ('transfer','deposit','withdrawal')", name="payments_kind"),
    CheckConstraint("amount_minor > 0", name="payments_amount_positive"),
    CheckConstraint(
        "status = 'pending' OR (amount_minor IS NOT NULL AND currency IS NOT NULL)", name="payments_amount_known"
    ),
)
Index("payments_from_user", payments.c.from_user_id, payments.c.created_at.desc(), payments.c.id.desc())
Index("payments_to_user", payments.c.to_user_id, payments.c.created_at.desc(), payments.c.id.desc())
Index("payments_pending", payments.c.created_at, postgresql_where=payments.c.status == "pending")

# Payment's replicas of what it checks before a payment, fed by Wallet's and Auth's events. A
# wallet's owner and currency never change; its status and a user's KYC status keep the newest
# change (`changed_at`), so late or repeated events change nothing.
wallet_replica = Table(
    "wallet_replica",
    metadata,
    Column("wallet_id", UUID(as_uuid=False), primary_key=True),
    Column("user_id", UUID(as_uuid=False), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

kyc_replica = Table(
    "kyc_replica",
    metadata,
    Column("user_id", UUID(as_uuid=False), primary_key=True),
    Column("kyc_status", String(16), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
