"""KYC/AML request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from finflow.contracts import AmlSeverity, DocumentType

ContentType = Literal["image/jpeg", "image/png", "application/pdf"]
SubmissionStatus = Literal["pending", "verified", "rejected"]
AlertStatus = Literal["open", "resolved"]


class Request(BaseModel):
    # Unknown fields are ignored, never applied: a `user_id` in a body never names the user.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class UploadRequest(Request):
    document_type: DocumentType
    content_type: ContentType


class UploadTicket(BaseModel):
    """An S3 presigned POST: send `fields` plus the file (field `file`, last) to `upload_url`."""

    upload_url: str
    fields: dict[str, str]
    document_key: str
    expires_in: int
    max_bytes: int


class SubmitRequest(Request):
    document_type: DocumentType
    document_url: str | None = Field(default=None, max_length=2048)
    document_key: str | None = Field(default=None, max_length=200)


class DecisionRequest(Request):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)


class Submission(BaseModel):
    id: str
    user_id: str
    document_type: str
    document_url: str | None
    document_key: str | None
    status: SubmissionStatus
    submitted_at: datetime
    decided_at: datetime | None
    reason: str | None
    # the user was erased: the document is gone, the decision record kept (AML record-keeping)
    documents_erased_at: datetime | None = None


class ReviewedSubmission(Submission):
    """A submission as compliance sees it: who decided, and a short-lived link to the file."""

    decided_by: str | None
    document_download_url: str | None = None


class KycStatusView(BaseModel):
    kyc_status: Literal["pending", "submitted", "verified", "rejected"]
    submissions: list[Submission]


class SubmissionPage(BaseModel):
    items: list[ReviewedSubmission]
    next_cursor: str | None


class ResolveRequest(Request):
    resolution: str = Field(min_length=1, max_length=500)
    unfreeze: bool = False


class Alert(BaseModel):
    id: str
    rule: str
    severity: AmlSeverity
    status: AlertStatus
    payment_id: str
    wallet_id: str
    user_id: str | None
    currency: str
    amount: str  # the triggering payment, decimal string
    reason: str
    evidence: dict[str, Any]
    # None: this alert does not freeze; pending | frozen | lifted | cancelled | skipped
    freeze: str | None
    created_at: datetime
    resolution: str | None
    resolved_at: datetime | None
    resolved_by: str | None


class AlertPage(BaseModel):
    items: list[Alert]
    next_cursor: str | None
