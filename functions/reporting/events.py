"""Reporting's consumer: every subscribed event of Auth, Wallet, Payment and KYC is applied
to the read model in one transaction, claimed by its event id (projections.apply).

With an external search engine (OpenSearch), a payment is indexed after that commit, from
the row just written, on every delivery (indexing is idempotent by payment id): a failed
indexing call fails the record, SQS brings it back, and the retry indexes it again although
the database already holds it.
"""

from __future__ import annotations

from finflow.db import engine
from finflow.events import Event, consumer_handler
from functions.reporting import projections, search, store
from functions.reporting.search.base import PaymentDoc


def db():
    return engine("reporting")


def handle(event: Event) -> None:
    with db().begin() as conn:
        projections.apply(conn, event)
    if event.detail_type in projections.PAYMENT_EVENTS and search.external():
        index_payment(str(event.data.get("payment_id")))
    if event.detail_type == "UserErased" and search.external():
        reindex_user(str(event.data.get("user_id")))


def index_payment(payment_id: str) -> None:
    with db().connect() as conn:
        row = store.payment(conn, projections.canon_id(payment_id))
    if row is not None:
        search.engine().index([PaymentDoc.from_row(row)])


def reindex_user(user_id: str) -> None:
    """The search engine's copies of an erased user's payments, without descriptions."""
    with db().connect() as conn:
        rows = store.payments_of(conn, projections.canon_id(user_id))
    if rows:
        search.engine().index([PaymentDoc.from_row(r) for r in rows])


handler = consumer_handler(projections.obs, {t: handle for t in projections.PROJECTIONS})
