"""A user's whole journey through the Python client generated from docs/openapi.json
(examples/client, `make client`), against the devserver over HTTP: what a client author gets
from the combined document is enough to register, log in, pass KYC, open a wallet, deposit,
transfer and page through payments."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests import support

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "client"))

from finflow_client import AuthenticatedClient, Client
from finflow_client.api.auth import auth_login, auth_me, auth_register
from finflow_client.api.kyc import kyc_submit, kyc_upload
from finflow_client.api.payment import payment_deposit, payment_list, payment_transfer
from finflow_client.api.wallet import wallet_create_v2
from finflow_client.models import (
    CreateV2,
    LoginRequest,
    Payment,
    ProblemBody,
    RegisterRequest,
    SubmitRequest,
    SubmitRequestDocumentType,
    TransferRequest,
    UploadRequest,
    UploadRequestContentType,
    UploadRequestDocumentType,
    Wallet,
    WalletAmountRequest,
)

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.4\n% an identity document\n%%EOF\n"
WAIT = 20.0


def _customer(devserver, name: str) -> AuthenticatedClient:
    """Registered, logged in and KYC-verified through the client (the devserver verifies
    submissions itself: KYC_AUTO_VERIFY)."""
    email, password = f"client-{uuid.uuid4().hex[:10]}@example.com", "client-password-1"
    public = Client(base_url=devserver.url)
    registered = auth_register.sync_detailed(
        client=public, body=RegisterRequest(email=email, password=password, name=name)
    )
    assert registered.status_code == 201, registered.content
    tokens = auth_login.sync(client=public, body=LoginRequest(email=email, password=password))
    me = AuthenticatedClient(base_url=devserver.url, token=tokens.access_token)

    ticket = kyc_upload.sync(
        client=me,
        body=UploadRequest(
            document_type=UploadRequestDocumentType.PASSPORT, content_type=UploadRequestContentType.APPLICATIONPDF
        ),
    )
    sent = httpx.post(
        ticket.upload_url, data=ticket.fields.to_dict(), files={"file": ("passport.pdf", PDF, "application/pdf")}
    )
    assert sent.status_code in (200, 201, 204), sent.text
    submitted = kyc_submit.sync_detailed(
        client=me,
        body=SubmitRequest(document_type=SubmitRequestDocumentType.PASSPORT, document_key=ticket.document_key),
    )
    assert submitted.status_code == 202, submitted.content

    def verified():
        answer = auth_me.sync_detailed(client=me)  # polled: a busy machine's transient 5xx is asked again
        return answer.status_code == 200 and answer.parsed.kyc_status == "verified"

    support.until("KYC verified", verified, WAIT, 0.2)
    return me


def _wallet(me: AuthenticatedClient) -> Wallet:
    # Wallet hears of the KYC decision by an event: it may refuse (403) for a moment
    def opened():
        made = wallet_create_v2.sync(client=me, body=CreateV2(currency="USD"))
        return made if isinstance(made, Wallet) else None

    return support.until("a wallet once KYC reached Wallet", opened, WAIT, 0.2)


def test_a_users_journey_through_the_generated_client(devserver):
    alice, bob = _customer(devserver, "Alice Client"), _customer(devserver, "Bob Client")
    mine, theirs = _wallet(alice), _wallet(bob)

    deposit = payment_deposit.sync(
        client=alice, body=WalletAmountRequest(wallet_id=mine.id, amount="100.00"), idempotency_key=uuid.uuid4().hex
    )
    assert isinstance(deposit, Payment) and (deposit.status, deposit.amount) == ("completed", "100.00")

    key = uuid.uuid4().hex
    body = TransferRequest(from_wallet_id=mine.id, to_wallet_id=theirs.id, amount="25.50", description="dinner")
    sent = payment_transfer.sync_detailed(client=alice, body=body, idempotency_key=key)
    assert sent.status_code == 201 and sent.parsed.status == "completed"
    replayed = payment_transfer.sync_detailed(client=alice, body=body, idempotency_key=key)
    assert replayed.parsed.id == sent.parsed.id and replayed.headers.get("Idempotent-Replayed") == "true"

    # newest first, one per page: the cursor the client hands back leads to the next page
    first = payment_list.sync(client=alice, limit=1)
    second = payment_list.sync(client=alice, limit=1, cursor=first.next_cursor)
    assert [p.id for p in first.items + second.items] == [sent.parsed.id, deposit.id]
    assert second.next_cursor is None

    refused = payment_transfer.sync(
        client=alice, body=TransferRequest(from_wallet_id=mine.id, to_wallet_id=theirs.id, amount="1000.00")
    )
    assert isinstance(refused, ProblemBody) and refused.status == 422 and "insufficient" in refused.detail.lower()
