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


def index_payment(payment_id: str) -> None:
    with db().connect() as conn:
        row = store.payment(conn, projections.canon(payment_id))
    if row is not None:
        search.engine().index([PaymentDoc.from_row(row)])


handler = consumer_handler(projections.obs, {t: handle for t in projections.PROJECTIONS})
