"""The e2e suite's log privacy check finds what it must, and only that."""

from __future__ import annotations

import json

from tests.e2e.log_privacy import Harvest, scan

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEiLCJ2ZXIiOjJ9.c2lnbmF0dXJlLWJ5dGVz"


def kinds(lines: list[str], harvest: Harvest | None = None) -> list[str]:
    return [f.kind for f in scan(lines, harvest or Harvest())[1]]


def test_secret_shapes_are_found_whatever_their_value():
    assert kinds([f'{{"message": "token refused", "token": "{JWT}"}}']) == ["jwt"]
    assert kinds(['{"key": "-----BEGIN RSA PRIVATE KEY-----\\nMIIE..."}']) == ["private key"]
    assert kinds(["GET https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc"]) == [
        "presigned url"
    ]
    assert kinds(["hash $2b$04$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ0123"]) == ["bcrypt hash"]


def test_values_the_suite_exchanged_are_found_verbatim():
    harvest = Harvest()
    harvest.body(json.dumps({"email": "a@example.com", "password": "correct horse"}).encode())
    harvest.body(json.dumps({"access_token": JWT, "refresh_token": "r3fr3sh-opaque-token"}).encode())
    harvest.body(json.dumps({"items": [{"document_url": "https://docs.example.com/passport.jpg"}]}).encode())
    harvest.secrets_manager([{"client_id": "svc-wallet", "client_secret": "s3cr3t-of-the-wallet-client"}])
    line = (
        '{"level":"WARNING","message":"login failed for correct horse; refresh r3fr3sh-opaque-token; '
        'doc https://docs.example.com/passport.jpg; s3cr3t-of-the-wallet-client"}'
    )
    assert sorted(kinds([line], harvest)) == ["deployment secret", "document url", "password", "refresh token"]


def test_an_ordinary_log_line_passes_and_findings_never_show_the_secret():
    harvest = Harvest()
    harvest.add("hunter2-password", "password")
    harvest.add("abc", "password")  # too short to tell apart from ordinary text: not checked
    clean = [
        '{"level":"INFO","message":"token refused","reason":"token expired","user_id":"abc"}',
        "[delivery] finflow-notification-from-auth: 1 record(s) left for retry",
    ]
    assert scan(clean, harvest) == (2, [])
    _, findings = scan(["user typed hunter2-password at login"], harvest)
    assert len(findings) == 1 and "hunter2-password" not in str(findings[0])
