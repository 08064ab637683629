"""kyc: a submission whose documents were erased (the user's erasure) keeps its decision
record without a document reference

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("documents_erased_at", sa.DateTime(timezone=True)))
    op.drop_constraint("submissions_one_document", "submissions", type_="check")
    op.create_check_constraint(
        "submissions_one_document",
        "submissions",
        "CASE WHEN documents_erased_at IS NULL THEN (document_url IS NULL) <> (document_key IS NULL)"
        " ELSE document_url IS NULL AND document_key IS NULL END",
    )


def downgrade() -> None:
    op.drop_constraint("submissions_one_document", "submissions", type_="check")
    op.execute("DELETE FROM submissions WHERE documents_erased_at IS NOT NULL")
    op.create_check_constraint(
        "submissions_one_document", "submissions", "(document_url IS NULL) <> (document_key IS NULL)"
    )
    op.drop_column("submissions", "documents_erased_at")
