"""Reporting's read model (database `reporting`), fed only by other modules' events.

Every row is keyed by the entity it describes and written with upserts, so events may
arrive in any order and more than once:

- a field whose value changes over time (a user's KYC status, a wallet's status, a
  submission's decision) is written only by an event newer than the one that wrote it:
  (event time, event id) is compared, so two events with the same time still give one
  answer whatever order they arrive in;
- sums (wallet balances, the daily rollup) change only when a payment row is newly
  inserted, in the same transaction; addition commutes, so any order gives the same sums.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from finflow.events import processed_events_table

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("registered_at", DateTime(timezone=True)),  # NULL until UserRegistered arrives
    Column("kyc_status", String(16), nullable=False),
    Column("kyc_at", DateTime(timezone=True), nullable=False),  # the time of the event that set it
    Column("kyc_event_id", String(64), nullable=False),
)

# One row per KYC submission: KycSubmitted and the KycDecisionMade naming it, either first.
submissions = Table(
    "kyc_submissions",
    metadata,
    Column("submission_id", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("document_type", String(32)),
    Column("submitted_at", DateTime(timezone=True)),  # NULL: only the decision has arrived
    Column("decision", String(16)),  # verified | rejected | NULL (awaiting a decision)
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_event_id", String(64)),
)

# A wallet seen first in a payment has no status yet (NULL) until WalletCreated or
# WalletStatusChanged arrives; its balance is already counted.
wallets = Table(
    "wallets",
    metadata,
    Column("wallet_id", String(64), primary_key=True),
    Column("user_id", String(64)),
    Column("currency", String(3), nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("status", String(16)),
    Column("status_at", DateTime(timezone=True)),
    Column("status_event_id", String(64)),
    Column("balance_minor", BigInteger, nullable=False, server_default="0"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # completed | failed
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("from_wallet_id", String(64)),
    Column("to_wallet_id", String(64)),
    Column("from_user_id", String(64)),
    Column("to_user_id", String(64)),
    Column("description", Text),
    Column("failure_reason", Text),
    Column("at", DateTime(timezone=True), nullable=False),  # completed_at or failed_at
    Column("search", TSVECTOR, Computed("to_tsvector('simple', coalesce(description, ''))", persisted=True)),
)

# Daily figures per currency, kind and status, maintained with each newly inserted payment.
daily = Table(
    "payments_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("volume_minor", BigInteger, nullable=False),
)

aml_alerts = Table(
    "aml_alerts",
    metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("rule", String(32), nullable=False),
    Column("severity", String(8), nullable=False),
    # Only AmlAlertRaised exists; a resolution event would set `resolved` (see docs/decisions.md).
    Column("status", String(16), nullable=False, server_default="open"),
    Column("payment_id", String(64), nullable=False),
    Column("wallet_id", String(64), nullable=False),
    Column("user_id", String(64)),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("freezes_wallet", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Users erased (UserErased): their payments' free-text descriptions are dropped, also those
# of payment events that arrive after the erasure. Amounts, ids and dates stay.
erased_users = Table(
    "erased_users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
)

processed_events = processed_events_table(metadata)

# Search: keyset pages newest first, filtered by currency; any id; description words. The two
# newest-first indexes also carry what the totals read (currency, amount, tsvector), so the
# totals of every match are an index-only scan (migration 0002, docs/decisions.md).
Index(
    "payments_recent_covering",
    payments.c.at.desc(),
    payments.c.payment_id.desc(),
    postgresql_include=["currency", "amount_minor", "search"],
)
Index(
    "payments_currency_recent_covering",
    payments.c.currency,
    payments.c.at.desc(),
    payments.c.payment_id.desc(),
    postgresql_include=["amount_minor", "search"],
)
Index("payments_currency_amount", payments.c.currency, payments.c.amount_minor)
Index("payments_search", payments.c.search, postgresql_using="gin")
for _col in ("from_wallet_id", "to_wallet_id", "from_user_id", "to_user_id"):
    Index(f"payments_{_col}", payments.c[_col], postgresql_where=text(f"{_col} IS NOT NULL"))
Index("kyc_submissions_user", submissions.c.user_id)
Index("payments_daily_currency_day", daily.c.currency, daily.c.day)

# What a rebuild empties (every table of the read model, and the claims of applied events).
READ_MODEL = (users, submissions, wallets, payments, daily, aml_alerts, erased_users, processed_events)
