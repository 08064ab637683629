"""A user's data export (GDPR Art. 15 and 20), requested from Auth.

Auth writes its own part at once (profile and sessions), records the request and emits
UserExportRequested; every module subscribed to it (the catalog says which) writes its own
part to S3. The owner polls the export and downloads the parts with short-lived links.
Asynchronous on purpose: a user's history may be large, and no module reads another's
data to build it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from finflow import contracts, events, exports, ids
from finflow.db import engine
from finflow.problems import Principal, Problem, require_user
from functions import catalog
from functions.auth import logic, store
from functions.auth.schemas import ExportStatus
from functions.auth.tables import outbox


def request(p: Principal) -> ExportStatus:
    require_user(p)
    export_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with _db().connect() as conn:
        if store.erased_at(conn, p.subject) is not None:
            raise Problem(403, "this account was erased; there is nothing left to export")
        profile = logic.get_user(p, p.subject)
        sessions = store.sessions_of(conn, p.subject)
    # Auth's part first: if S3 fails, nothing is recorded and the request can simply be retried
    try:
        exports.write_part(
            export_id, p.subject, "auth", {"profile": profile.model_dump(mode="json"), "sessions": sessions}
        )
    except exports.ExportsUnavailable:
        raise Problem(503, "exports cannot be written right now; nothing was recorded, try again later") from None
    with _db().begin() as conn:
        store.insert_export(conn, export_id=export_id, user_id=p.subject, requested_at=now)
        events.record(
            conn,
            outbox,
            "UserExportRequested",
            contracts.UserExportRequested(export_id=export_id, user_id=p.subject, requested_at=now).model_dump(
                mode="json"
            ),
        )
    events.publish_after_commit(_db(), outbox, "auth", logic.obs)
    return _status(export_id, now)


def status(p: Principal, export_id: str) -> ExportStatus:
    require_user(p)
    canonical = ids.canonical(export_id)
    row = None
    if canonical is not None:
        with _db().connect() as conn:
            row = store.export_request(conn, canonical)
    if row is None or row.user_id != p.subject:  # someone else's: the same answer as none
        raise Problem(404, "export not found")
    return _status(row.id, row.requested_at)


def _status(export_id: str, requested_at: datetime) -> ExportStatus:
    try:
        ready = exports.ready_parts(export_id)
    except exports.ExportsUnavailable:
        raise Problem(503, "the export's parts cannot be read right now; try again later") from None
    parts = {m: exports.download_url(export_id, m) if m in ready else None for m in catalog.export_parts()}
    return ExportStatus(
        export_id=export_id,
        status="complete" if None not in parts.values() else "pending",
        requested_at=requested_at,
        parts=parts,
    )


def _db():
    return engine("auth")
