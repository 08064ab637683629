"""reporting: search's newest-first indexes also carry what totals read (index-only totals)

The search totals (count and volume per currency of every match) read `currency`,
`amount_minor` and the `search` tsvector of every matching row. Through the GIN index
that is a bitmap heap scan touching nearly every heap page for a common word (40,000 of
40,000 pages for 'rent' at 1M payments); with those columns INCLUDEd in the two
newest-first B-trees the same sums are an index-only scan of the currency's (and time
window's) slice, the tsvector matched in the index. Same keys as before, so pages keep
their keyset order.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX payments_recent_covering ON payments (at DESC, payment_id DESC) "
        "INCLUDE (currency, amount_minor, search)"
    )
    op.execute(
        "CREATE INDEX payments_currency_recent_covering ON payments (currency, at DESC, payment_id DESC) "
        "INCLUDE (amount_minor, search)"
    )
    op.drop_index("payments_recent", table_name="payments")
    op.drop_index("payments_currency_recent", table_name="payments")


def downgrade() -> None:
    op.execute("CREATE INDEX payments_recent ON payments (at DESC, payment_id DESC)")
    op.execute("CREATE INDEX payments_currency_recent ON payments (currency, at DESC, payment_id DESC)")
    op.drop_index("payments_currency_recent_covering", table_name="payments")
    op.drop_index("payments_recent_covering", table_name="payments")
