"""KYC/AML API routes (`/api/kyc/...`, `/api/aml/...`): thin handlers over
functions.kyc.logic (KYC) and functions.kyc.monitoring (AML)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from finflow.health import add_health
from finflow.http import documented, json_response, lambda_handler, make_resolver, principal
from functions.kyc import documents, logic, monitoring
from functions.kyc.schemas import (
    Alert,
    AlertPage,
    DecisionRequest,
    KycStatusView,
    ResolveRequest,
    ReviewedSubmission,
    Submission,
    SubmissionPage,
    SubmitRequest,
    UploadRequest,
    UploadTicket,
)

app = make_resolver("kyc", "KYC/AML Compliance")
add_health(app, "kyc", checks={"documents": documents.bucket_check})
# who may not (403), no such resource (404), not in a state for it (409)
READ = documented(200, None, 403, 404)
ACT = documented(200, None, 403, 404, 409)
Id = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query()]
Cursor = Annotated[str | None, Query(max_length=200)]


@app.post(
    "/api/kyc/uploads",
    responses=documented(201, UploadTicket, 403, 409),
    operation_id="kyc_upload",
    summary="A presigned upload for an identity document",
)
def uploads(body: UploadRequest):
    return json_response(logic.presign_upload(principal(app), body), 201)


@app.post(
    "/api/kyc/submit",
    responses=documented(202, Submission, 403, 409),
    operation_id="kyc_submit",
    summary="Submit KYC documents for review",
)
def submit(body: SubmitRequest):
    return json_response(logic.submit(principal(app), body), 202)


@app.get("/api/kyc/status", responses=READ, operation_id="kyc_status", summary="The caller's KYC status")
def status() -> KycStatusView:
    return logic.status(principal(app))


@app.get(
    "/api/kyc/submissions",
    responses=READ,
    operation_id="kyc_list_submissions",
    summary="The KYC review queue (compliance)",
)
def submissions(
    status: Annotated[Literal["pending", "verified", "rejected"] | None, Query()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> SubmissionPage:
    return logic.list_submissions(principal(app), status, limit, cursor)


@app.get(
    "/api/kyc/submissions/<submission_id>",
    responses=documented(200, Submission | ReviewedSubmission, 403, 404),
    operation_id="kyc_get_submission",
    summary="A KYC submission (owner or compliance)",
)
def submission(submission_id: Id):
    # the owner sees a Submission; compliance a ReviewedSubmission (decided_by, a download link)
    return json_response(logic.get_submission(principal(app), submission_id))


@app.post(
    "/api/kyc/submissions/<submission_id>/decision",
    responses=ACT,
    operation_id="kyc_decide",
    summary="Verify or reject a submission (compliance)",
)
def decision(submission_id: Id, body: DecisionRequest) -> ReviewedSubmission:
    return logic.decide(principal(app), submission_id, body)


@app.get("/api/aml/alerts", responses=READ, operation_id="kyc_list_aml_alerts", summary="AML alerts (compliance)")
def alerts(
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None, limit: Limit = 20, cursor: Cursor = None
) -> AlertPage:
    return monitoring.list_alerts(principal(app), status, limit, cursor)


@app.get(
    "/api/aml/alerts/<alert_id>", responses=READ, operation_id="kyc_get_aml_alert", summary="An AML alert (compliance)"
)
def alert(alert_id: Id) -> Alert:
    return monitoring.get_alert(principal(app), alert_id)


@app.post(
    "/api/aml/alerts/<alert_id>/resolve",
    responses=ACT,
    operation_id="kyc_resolve_aml_alert",
    summary="Resolve an AML alert (compliance)",
)
def resolve(alert_id: Id, body: ResolveRequest) -> Alert:
    return monitoring.resolve(principal(app), alert_id, body)


handler = lambda_handler(app, logic.obs)
