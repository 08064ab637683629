"""KYC's rules: document uploads, submissions (one pending at a time, verified is final),
the provider's automatic decision, compliance decisions, and who may see what.
AML monitoring lives in monitoring.py, its rules in aml.py."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from finflow import contracts, events, pages
from finflow.config import settings
from finflow.db import engine
from finflow.observability import for_module
from finflow.problems import Principal, Problem, require_role, require_user, unavailable
from functions.kyc import documents, store
from functions.kyc.provider import SubmissionView, provider
from functions.kyc.schemas import (
    DecisionRequest,
    KycStatusView,
    ReviewedSubmission,
    Submission,
    SubmissionPage,
    SubmitRequest,
    UploadRequest,
    UploadTicket,
)
from functions.kyc.tables import outbox

obs = for_module("kyc")

# The seed's example body sends this literal placeholder as its document_url.
PLACEHOLDER_URL = "..."
_DERIVED = {"pending": "submitted", "verified": "verified", "rejected": "rejected"}


def db():
    return engine("kyc")


def publish() -> None:
    events.publish_after_commit(db(), outbox, "kyc", obs)


def to_submission(row) -> Submission:
    return Submission(
        id=row.id,
        user_id=row.user_id,
        document_type=row.document_type,
        document_url=row.document_url,
        document_key=row.document_key,
        status=row.status,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        reason=row.reason,
        documents_erased_at=row.documents_erased_at,
    )


def to_reviewed(row, *, with_download: bool = False) -> ReviewedSubmission:
    link = documents.download_url(row.document_key) if with_download and row.document_key else None
    return ReviewedSubmission(**to_submission(row).model_dump(), decided_by=row.decided_by, document_download_url=link)


# --- documents -----------------------------------------------------------------------------


def presign_upload(p: Principal, req: UploadRequest) -> UploadTicket:
    require_user(p)
    key = f"users/{p.subject}/{uuid.uuid4()}"
    post = documents.presign_upload(key, req.content_type)
    return UploadTicket(
        upload_url=post["url"],
        fields=post["fields"],
        document_key=key,
        expires_in=documents.UPLOAD_EXPIRES_SECONDS,
        max_bytes=documents.MAX_BYTES,
    )


def well_formed_url(url: str) -> bool:
    """An absolute https URL with a host, no credentials, no whitespace or control characters."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme.lower() == "https" and bool(parts.hostname) and parts.username is None and parts.password is None
    )


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _own_key(user_id: str, key: str) -> bool:
    """A key POST /api/kyc/uploads handed this user: users/<user id>/<uuid>."""
    return re.fullmatch(rf"users/{re.escape(user_id)}/{_UUID}", key) is not None


def _document(user_id: str, req: SubmitRequest) -> tuple[str | None, str | None]:
    """(document_url, document_key): exactly one, well-formed, and an uploaded key of the caller's."""
    url, key = req.document_url, req.document_key
    if url is not None and key is None:
        if url != PLACEHOLDER_URL and not well_formed_url(url):
            raise Problem(422, "document_url must be an https URL")
        return url, None
    if key is None or url is not None:
        raise Problem(422, "send exactly one of document_url and document_key")
    if not _own_key(user_id, key):
        raise Problem(422, "document_key must be one of your own uploads (from POST /api/kyc/uploads)")
    try:
        uploaded = documents.exists(key)
    except documents.DocumentsUnavailable as exc:
        obs.logger.warning("documents bucket unavailable", extra={"error": str(exc)})
        raise unavailable("Document storage unavailable; try again") from None
    if not uploaded:
        raise Problem(422, "the document has not been uploaded yet: upload it to upload_url first")
    return None, key


# --- submissions ---------------------------------------------------------------------------


def submit(p: Principal, req: SubmitRequest) -> Submission:
    require_user(p)  # the token names the user; a user_id in the body is never read
    url, key = _document(p.subject, req)
    with db().begin() as conn:
        store.lock_user(conn, p.subject)  # two submissions at once: the second sees the first
        blocking = store.blocking_submission(conn, p.subject)
        if blocking is not None:
            raise Problem(
                409,
                "KYC already verified"
                if blocking.status == "verified"
                else "A KYC submission is already pending review",
            )
        row = store.insert_submission(
            conn,
            id=str(uuid.uuid4()),
            user_id=p.subject,
            document_type=req.document_type,
            document_url=url,
            document_key=key,
        )
        events.record(
            conn,
            outbox,
            "KycSubmitted",
            contracts.KycSubmitted(
                submission_id=row.id,
                user_id=row.user_id,
                document_type=row.document_type,
                submitted_at=row.submitted_at,
            ).model_dump(mode="json"),
        )
    publish()
    obs.logger.info("KYC submission received", extra={"submission_id": row.id})
    if settings().kyc_auto_verify:
        row = _provider_decision(row) or row
    return to_submission(row)


def _provider_decision(row):
    """The provider's decision, applied; None when it leaves the submission to a human."""
    checker = provider()
    view = SubmissionView(
        id=row.id,
        user_id=row.user_id,
        document_type=row.document_type,
        document_url=row.document_url,
        document_key=row.document_key,
    )
    try:
        decision = checker.check(view)
    except Exception:
        obs.logger.exception("verification provider failed", extra={"submission_id": row.id})
        return None
    if decision is None:
        return None
    return _decide(row.id, decision.status, decision.reason, f"provider:{checker.name}")


def _decide(submission_id: str, status: str, reason: str | None, decided_by: str):
    """pending -> verified | rejected and KycDecisionMade in one transaction; None if it
    was decided meanwhile."""
    with db().begin() as conn:
        row = store.decide(conn, submission_id, status=status, reason=reason, decided_by=decided_by)
        if row is None:
            return None
        events.record(
            conn,
            outbox,
            "KycDecisionMade",
            contracts.KycDecisionMade(
                user_id=row.user_id,
                status=row.status,
                decided_at=row.decided_at,
                submission_id=row.id,
                reason=row.reason,
            ).model_dump(mode="json"),
        )
    publish()
    obs.logger.info(
        "KYC decision made", extra={"submission_id": row.id, "status": row.status, "decided_by": decided_by}
    )
    return row


def status(p: Principal) -> KycStatusView:
    require_user(p)
    with db().connect() as conn:
        rows = store.submissions_of(conn, p.subject)
    return KycStatusView(
        kyc_status=_DERIVED[rows[0].status] if rows else "pending", submissions=[to_submission(r) for r in rows]
    )


def get_submission(p: Principal, submission_id: str) -> Submission:
    with db().connect() as conn:
        row = store.submission(conn, submission_id)
    if row is not None and p.has_role("compliance"):
        return to_reviewed(row, with_download=True)
    if row is None or p.is_service or row.user_id != p.subject:
        raise Problem(404, "KYC submission not found")  # the same answer whether it exists or not
    return to_submission(row)


def list_submissions(p: Principal, status_filter: str | None, limit: int, cursor: str | None) -> SubmissionPage:
    require_role(p, "compliance")
    pages.check_limit(limit)
    after = pages.decode_cursor("s", cursor)
    with db().connect() as conn:
        rows = store.submissions_page(conn, status_filter, after, limit + 1)
    rows, next_cursor = pages.page(rows, limit, "s", "submitted_at")
    return SubmissionPage(items=[to_reviewed(r) for r in rows], next_cursor=next_cursor)


def decide(p: Principal, submission_id: str, req: DecisionRequest) -> ReviewedSubmission:
    require_role(p, "compliance")
    with db().connect() as conn:
        row = store.submission(conn, submission_id)
    if row is None:
        raise Problem(404, "KYC submission not found")
    if row.user_id == p.subject:
        raise Problem(403, "You cannot decide on your own KYC submission")
    if row.status != "pending":
        raise Problem(409, f"KYC submission is already {row.status}")
    if req.decision == "reject" and not req.reason:
        raise Problem(422, "reason: a rejection needs a reason (the customer is told it)")
    decided = _decide(row.id, "verified" if req.decision == "approve" else "rejected", req.reason, p.subject)
    if decided is None:  # the provider or another officer decided first
        with db().connect() as conn:
            current = store.submission(conn, row.id)
        if current is None:  # submissions are pseudonymised, never deleted
            raise LookupError(f"KYC submission {row.id} is gone")
        raise Problem(409, f"KYC submission is already {current.status}")
    return to_reviewed(decided)
