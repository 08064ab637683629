"""KYC's part of a user's erasure (UserErased).

Retention: the identity documents go (the S3 objects, and the document URL or key of every
submission); the decision record (document type, status, dates, who decided and why) and
AML alerts and observed payments stay, because AML record-keeping (EU AMLD Art. 40, US BSA)
keeps customer due diligence outcomes and transaction monitoring for five years after the
relationship ends, and GDPR Art. 17(3)(b) yields to that obligation. They hold ids, not
contact details.
"""

from __future__ import annotations

from finflow import contracts, events, ids
from functions.kyc import documents, store
from functions.kyc.logic import db, obs
from functions.kyc.tables import processed_events


def on_user_erased(event: events.Event) -> None:
    erased = contracts.ReadsUserErased.model_validate(event.data)
    user_id = ids.canonical(erased.user_id)
    if user_id is None:
        obs.logger.warning("erasure of an id KYC never issued", extra={"event_id": event.event_id})
        return
    with db().begin() as conn:
        if not events.first_delivery(conn, processed_events, event):
            return
        store.lock_user(conn, user_id)  # no submission slips in between
        forgotten = store.forget_documents(conn, user_id)
        # inside the transaction: if S3 fails, nothing is committed and the event comes back
        deleted = documents.delete_user_documents(user_id)
    obs.logger.info(
        "user's KYC documents erased", extra={"user_id": user_id, "submissions": forgotten, "objects_deleted": deleted}
    )
