"""KYC through the in-process gateway: uploads to (moto) S3, submissions with and without
the simulated provider, compliance decisions, the decision reaching Auth and Wallet, and
who may see and do what."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from tests.api.kyc_helpers import assert_problem, auto_verify, compliance_officer, deliver_to_auth, kyc_outbox
from tests.support import service_headers

SEED_BODY = '{"user_id":1,"document_type":"passport","document_url":"..."}'
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what curl -d sends
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def officer(gateway, customer):
    return compliance_officer(gateway, customer)


@pytest.fixture
def manual():
    with auto_verify(False):
        yield


@pytest.fixture
def automatic():
    with auto_verify(True):
        yield


def submit(gw: httpx.Client, person, **body) -> httpx.Response:
    return gw.post("/api/kyc/submit", json={"document_type": "passport", **body}, headers=person.headers)


def upload(gw: httpx.Client, person, content: bytes = PDF, content_type: str = "application/pdf") -> str:
    """Presign, then POST the file to S3 as a browser would; the document_key."""
    r = gw.post(
        "/api/kyc/uploads", json={"document_type": "passport", "content_type": content_type}, headers=person.headers
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    sent = httpx.post(ticket["upload_url"], data=ticket["fields"], files={"file": ("doc.pdf", content, content_type)})
    assert sent.status_code in (200, 201, 204), sent.text
    return ticket["document_key"]


# --- uploads -----------------------------------------------------------------------------------


def test_upload_is_a_presigned_post_limited_to_the_callers_folder_type_and_size(gateway, customer):
    person = customer()
    r = gateway.post(
        "/api/kyc/uploads", json={"document_type": "national_id", "content_type": "image/png"}, headers=person.headers
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["document_key"].startswith(f"users/{person.id}/")
    uuid.UUID(ticket["document_key"].rsplit("/", 1)[1])
    assert ticket["fields"]["key"] == ticket["document_key"]
    assert ticket["fields"]["Content-Type"] == "image/png"
    assert (ticket["expires_in"], ticket["max_bytes"]) == (900, 10 * 1024 * 1024)
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"document_type": "passport", "content_type": "image/gif"}, "content_type"),
        ({"document_type": "passport", "content_type": "text/html"}, "content_type"),
        ({"document_type": "selfie", "content_type": "image/png"}, "document_type"),
        ({"content_type": "image/png"}, "document_type"),
    ],
)
def test_upload_refuses_other_content_and_document_types(gateway, customer, body, words):
    body = assert_problem(gateway.post("/api/kyc/uploads", json=body, headers=customer().headers), 422)
    assert words in body["detail"]


def test_submit_by_document_key_after_an_actual_upload(gateway, customer, automatic):
    person = customer()
    key = upload(gateway, person)
    r = submit(gateway, person, document_key=key)
    assert r.status_code == 202, r.text
    sub = r.json()
    assert (sub["user_id"], sub["document_key"], sub["document_url"]) == (person.id, key, None)
    assert sub["status"] == "verified" and sub["decided_at"] is not None


def test_a_key_must_be_uploaded_and_the_callers_own(gateway, customer, manual):
    alice, bob = customer(), customer()
    not_uploaded = f"users/{alice.id}/{uuid.uuid4()}"
    assert_problem(
        submit(gateway, alice, document_key=not_uploaded),
        422,
        "the document has not been uploaded yet: upload it to upload_url first",
    )
    bobs = upload(gateway, bob)
    for key in (bobs, f"users/{alice.id}/../{bobs}", "users/x", f"users/{alice.id}/passport.pdf"):
        assert_problem(
            submit(gateway, alice, document_key=key),
            422,
            "document_key must be one of your own uploads (from POST /api/kyc/uploads)",
        )
    assert gateway.get("/api/kyc/status", headers=alice.headers).json()["submissions"] == []


def test_s3_unreachable_at_submission_is_503_and_writes_nothing(gateway, customer, manual, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from functions.kyc import documents

    person = customer()
    key = upload(gateway, person)

    class Down:
        def head_object(self, **_):
            raise EndpointConnectionError(endpoint_url="http://s3.test")

    monkeypatch.setattr(documents, "client", lambda service: Down())
    assert_problem(submit(gateway, person, document_key=key), 503, "Document storage unavailable; try again")
    monkeypatch.undo()
    assert gateway.get("/api/kyc/status", headers=person.headers).json()["submissions"] == []
    assert submit(gateway, person, document_key=key).status_code == 202


# --- the seed's body, document references -----------------------------------------------------


def test_the_seeds_submit_body_verbatim_is_accepted_and_its_user_id_ignored(gateway, customer, automatic):
    person = customer()
    r = gateway.post("/api/kyc/submit", content=SEED_BODY, headers=FORM | person.headers)
    assert r.status_code == 202, r.text
    sub = r.json()
    assert sub["user_id"] == person.id  # the token's user, never the body's user_id 1
    assert (sub["document_type"], sub["document_url"], sub["status"]) == ("passport", "...", "verified")
    assert set(sub) >= {"id", "user_id", "document_type", "status", "submitted_at", "decided_at", "reason"}


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"document_url": "http://docs.example.com/p.pdf"}, "document_url must be an https URL"),
        ({"document_url": "javascript:alert(1)"}, "document_url must be an https URL"),
        ({"document_url": "https://user:pw@docs.example.com/p.pdf"}, "document_url must be an https URL"),
        ({"document_url": "https:///nohost"}, "document_url must be an https URL"),
        ({"document_url": "https://docs.example.com/a b.pdf"}, "document_url must be an https URL"),
        ({"document_url": "...."}, "document_url must be an https URL"),
        ({}, "send exactly one of document_url and document_key"),
        (
            {"document_url": "https://docs.example.com/p.pdf", "document_key": "users/x/y"},
            "send exactly one of document_url and document_key",
        ),
    ],
)
def test_malformed_document_references_are_422_and_write_nothing(gateway, customer, manual, body, detail):
    person = customer()
    assert_problem(submit(gateway, person, **body), 422, detail)
    assert gateway.get("/api/kyc/status", headers=person.headers).json() == {"kyc_status": "pending", "submissions": []}


def test_unknown_document_type_is_422(gateway, customer):
    body = assert_problem(submit(gateway, customer(), document_type="library_card", document_url="..."), 422)
    assert "document_type" in body["detail"]


# --- automatic decisions ---------------------------------------------------------------------


def test_auto_verify_decides_in_the_request_and_the_decision_reaches_auth_and_wallet(gateway, customer, automatic):
    person = customer()
    assert_problem(gateway.post("/api/wallet/create", headers=person.headers), 403, "KYC verification required")
    sub = submit(gateway, person, document_url="https://docs.example.com/passport.pdf").json()
    assert sub["status"] == "verified" and sub["reason"]
    assert gateway.get("/api/kyc/status", headers=person.headers).json()["kyc_status"] == "verified"

    submitted, decided = kyc_outbox(user_id=person.id)
    assert submitted["detail_type"] == "KycSubmitted"
    assert submitted["data"] == {
        "submission_id": sub["id"],
        "user_id": person.id,
        "document_type": "passport",
        "submitted_at": submitted["data"]["submitted_at"],
    }
    assert decided["detail_type"] == "KycDecisionMade"
    assert decided["data"]["status"] == "verified" and decided["data"]["submission_id"] == sub["id"]
    assert decided["data"]["decided_at"].replace("+00:00", "Z")[:19] == sub["decided_at"][:19]

    assert deliver_to_auth(decided) == {"batchItemFailures": []}
    assert gateway.get("/api/auth/me", headers=person.headers).json()["kyc_status"] == "verified"
    assert gateway.post("/api/wallet/create", headers=person.headers).status_code == 201


def test_the_simulated_provider_rejects_and_a_rejected_user_may_resubmit(gateway, customer, automatic):
    person = customer()
    first = submit(gateway, person, document_url="https://docs.example.com/reject-me.pdf").json()
    assert first["status"] == "rejected" and "could not be verified" in first["reason"]
    assert gateway.get("/api/kyc/status", headers=person.headers).json()["kyc_status"] == "rejected"
    again = submit(gateway, person, document_url="https://docs.example.com/passport.pdf")
    assert again.status_code == 202 and again.json()["status"] == "verified"
    status = gateway.get("/api/kyc/status", headers=person.headers).json()
    assert status["kyc_status"] == "verified"
    assert [s["id"] for s in status["submissions"]] == [again.json()["id"], first["id"]]  # newest first


def test_the_provider_can_leave_a_submission_to_a_human(gateway, customer, automatic):
    sub = submit(gateway, customer(), document_url="https://docs.example.com/please-review.pdf").json()
    assert (sub["status"], sub["decided_at"]) == ("pending", None)


def test_without_auto_verify_a_submission_waits_and_another_is_409(gateway, customer, manual):
    person = customer()
    r = submit(gateway, person, document_url="...")
    assert r.status_code == 202 and (r.json()["status"], r.json()["decided_at"]) == ("pending", None)
    assert gateway.get("/api/kyc/status", headers=person.headers).json()["kyc_status"] == "submitted"
    assert_problem(submit(gateway, person, document_url="..."), 409, "A KYC submission is already pending review")
    assert [e["detail_type"] for e in kyc_outbox(user_id=person.id)] == ["KycSubmitted"]


# --- compliance ---------------------------------------------------------------------------------


def test_compliance_approves_from_the_queue_then_everything_else_is_409(gateway, customer, officer, manual):
    person = customer()
    sub = submit(gateway, person, document_url="https://docs.example.com/p.pdf").json()
    queue = gateway.get("/api/kyc/submissions", params={"status": "pending", "limit": 100}, headers=officer.headers)
    assert queue.status_code == 200, queue.text
    pending = []
    page = queue.json()
    while True:
        pending += page["items"]
        if not page["next_cursor"]:
            break
        page = gateway.get(
            "/api/kyc/submissions",
            params={"status": "pending", "limit": 100, "cursor": page["next_cursor"]},
            headers=officer.headers,
        ).json()
    assert sub["id"] in [s["id"] for s in pending] and all(s["status"] == "pending" for s in pending)

    r = gateway.post(
        f"/api/kyc/submissions/{sub['id']}/decision",
        json={"decision": "approve", "reason": "ok"},
        headers=officer.headers,
    )
    assert r.status_code == 200, r.text
    decided = r.json()
    assert (decided["status"], decided["decided_by"], decided["reason"]) == ("verified", officer.id, "ok")
    assert decided["decided_at"] is not None
    event = kyc_outbox(user_id=person.id)[-1]
    assert event["detail_type"] == "KycDecisionMade" and event["data"]["status"] == "verified"

    for decision in ("approve", "reject"):
        assert_problem(
            gateway.post(
                f"/api/kyc/submissions/{sub['id']}/decision",
                json={"decision": decision, "reason": "again"},
                headers=officer.headers,
            ),
            409,
            "KYC submission is already verified",
        )
    assert_problem(submit(gateway, person, document_url="..."), 409, "KYC already verified")


def test_compliance_rejects_with_a_reason_and_the_user_resubmits(gateway, customer, officer, manual):
    person = customer()
    sub = submit(gateway, person, document_url="...").json()
    url = f"/api/kyc/submissions/{sub['id']}/decision"
    assert_problem(gateway.post(url, json={"decision": "reject"}, headers=officer.headers), 422)
    assert_problem(gateway.post(url, json={"decision": "maybe", "reason": "x"}, headers=officer.headers), 422)
    r = gateway.post(url, json={"decision": "reject", "reason": "document expired"}, headers=officer.headers)
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    data = kyc_outbox(user_id=person.id)[-1]["data"]
    assert (data["status"], data["reason"]) == ("rejected", "document expired")
    assert deliver_to_auth(kyc_outbox(user_id=person.id)[-1]) == {"batchItemFailures": []}
    assert gateway.get("/api/auth/me", headers=person.headers).json()["kyc_status"] == "rejected"

    mine = gateway.get("/api/kyc/status", headers=person.headers).json()
    assert mine["kyc_status"] == "rejected" and mine["submissions"][0]["reason"] == "document expired"
    again = submit(gateway, person, document_url="...")
    assert again.status_code == 202 and again.json()["status"] == "pending"


def test_unknown_and_non_uuid_submission_ids_are_404(gateway, officer):
    for sid in (str(uuid.uuid4()), "abc", "1"):
        assert_problem(
            gateway.post(f"/api/kyc/submissions/{sid}/decision", json={"decision": "approve"}, headers=officer.headers),
            404,
            "KYC submission not found",
        )


def test_an_officer_cannot_decide_their_own_submission(gateway, officer, manual):
    own = submit(gateway, officer, document_url="...").json()
    assert_problem(
        gateway.post(
            f"/api/kyc/submissions/{own['id']}/decision", json={"decision": "approve"}, headers=officer.headers
        ),
        403,
        "You cannot decide on your own KYC submission",
    )


def test_an_admin_may_decide(gateway, customer, manual):
    admin = compliance_officer(gateway, customer, role="admin")
    sub = submit(gateway, customer(), document_url="...").json()
    r = gateway.post(f"/api/kyc/submissions/{sub['id']}/decision", json={"decision": "approve"}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text


def test_the_queue_filters_by_status_and_refuses_bad_parameters(gateway, officer):
    for status in ("verified", "rejected"):
        items = gateway.get("/api/kyc/submissions", params={"status": status}, headers=officer.headers).json()["items"]
        assert all(s["status"] == status for s in items)
    assert_problem(gateway.get("/api/kyc/submissions", params={"status": "open"}, headers=officer.headers), 422)
    assert_problem(gateway.get("/api/kyc/submissions", params={"limit": 0}, headers=officer.headers), 422)
    assert_problem(
        gateway.get("/api/kyc/submissions", params={"cursor": "bm9wZQ"}, headers=officer.headers),
        422,
        "cursor is not valid",
    )


# --- who may see and do what --------------------------------------------------------------------


def test_customers_and_services_are_403_on_compliance_routes(gateway, customer, manual):
    person = customer()
    sub = submit(gateway, person, document_url="...").json()
    for headers in (person.headers, service_headers("wallet")):
        assert_problem(gateway.get("/api/kyc/submissions", headers=headers), 403)
        assert_problem(
            gateway.post(f"/api/kyc/submissions/{sub['id']}/decision", json={"decision": "approve"}, headers=headers),
            403,
        )
        assert_problem(gateway.get("/api/aml/alerts", headers=headers), 403)
        assert_problem(
            gateway.post(f"/api/aml/alerts/{uuid.uuid4()}/resolve", json={"resolution": "x"}, headers=headers), 403
        )
    assert gateway.get(f"/api/kyc/submissions/{sub['id']}", headers=person.headers).json()["status"] == "pending"


def test_users_see_only_their_own_submissions(gateway, customer, officer, manual):
    alice, bob = customer(), customer()
    alices = submit(gateway, alice, document_url="...").json()
    assert_problem(
        gateway.get(f"/api/kyc/submissions/{alices['id']}", headers=bob.headers), 404, "KYC submission not found"
    )
    assert gateway.get("/api/kyc/status", headers=bob.headers).json() == {"kyc_status": "pending", "submissions": []}
    seen = gateway.get(f"/api/kyc/submissions/{alices['id']}", headers=officer.headers).json()
    assert seen["user_id"] == alice.id and "decided_by" in seen


def test_user_routes_need_a_user_token(gateway):
    assert_problem(gateway.post("/api/kyc/submit", content=SEED_BODY, headers=FORM), 401)
    for path in ("/api/kyc/status", "/api/aml/alerts"):
        assert_problem(gateway.get(path), 401)
    svc = service_headers("wallet")
    assert_problem(
        gateway.post("/api/kyc/submit", json={"document_type": "passport", "document_url": "..."}, headers=svc), 403
    )
    assert_problem(
        gateway.post(
            "/api/kyc/uploads", json={"document_type": "passport", "content_type": "application/pdf"}, headers=svc
        ),
        403,
    )


def test_compliance_gets_a_download_link_for_an_uploaded_document(gateway, customer, officer, manual):
    person = customer()
    key = upload(gateway, person)
    sub = submit(gateway, person, document_key=key).json()
    seen = gateway.get(f"/api/kyc/submissions/{sub['id']}", headers=officer.headers).json()
    assert httpx.get(seen["document_download_url"]).content == PDF
    assert (
        "document_download_url" not in gateway.get(f"/api/kyc/submissions/{sub['id']}", headers=person.headers).json()
    )


# --- health ----------------------------------------------------------------------------------------


def test_health_names_its_dependencies_from_the_catalog(gateway):
    r = gateway.get("/api/kyc/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["service"] == "kyc-service"
    assert set(body["dependencies"]) == {"wallet-service", "auth-service"}
    assert body["cascade_info"]["event_sources"] == ["auth-service", "payment-service"]  # AML; erasures and exports
