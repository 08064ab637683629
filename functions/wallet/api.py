"""Wallet API routes: v1 (`/api/wallet`, `/api/v1/wallet`: USD) and v2 (`/api/v2/wallet`:
any ISO 4217 currency), plus the internal routes only the Payment service may call."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import TypeAdapter, ValidationError

from finflow import contracts
from finflow.config import settings
from finflow.health import add_health
from finflow.http import (
    Problem,
    documented,
    json_response,
    lambda_handler,
    make_resolver,
    principal,
    require_service,
    require_user,
)
from functions.wallet import ledger, logic
from functions.wallet.schemas import CreateV2, EntryPage, StatusChange, Wallet, WalletList

app = make_resolver("wallet", "Wallet")
add_health(app, "wallet")
WalletId = Annotated[str, Path(max_length=64)]
# what each route answers (OpenAPI `responses=`), shared by a route's v1 and v2 paths
CREATED = documented(201, Wallet, 403, 409)
MINE = documented(200, None, 403)
ONE = documented(200, None, 403, 404)
STATUS = documented(200, None, 403, 404, 409)
INTERNAL = documented(200, None, 403, 404)
POSTED = documented(201, contracts.PostingResult, 403, 404, 409) | {
    200: {"description": "Already applied", "content": {"application/json": {"model": contracts.PostingResult}}}
}
_STATUS_BODY = TypeAdapter(StatusChange | Literal["active", "frozen", "closed"])


@app.post("/api/wallet/create", responses=CREATED, operation_id="wallet_create", summary="Open a USD wallet (v1)")
@app.post("/api/v1/wallet/create", responses=CREATED, operation_id="wallet_create_v1", summary="Open a USD wallet")
def create_v1():
    return json_response(logic.create(principal(app), logic.V1_CURRENCY), 201)


@app.post(
    "/api/v2/wallet/create",
    responses=CREATED,
    operation_id="wallet_create_v2",
    summary="Open a wallet in any ISO 4217 currency",
)
def create_v2(body: CreateV2):
    return json_response(logic.create(principal(app), body.currency), 201)


@app.get("/api/wallet", responses=MINE, operation_id="wallet_list", summary="The caller's wallets (v1)")
@app.get("/api/v1/wallet", responses=MINE, operation_id="wallet_list_v1", summary="The caller's wallets")
@app.get("/api/v2/wallet", responses=MINE, operation_id="wallet_list_v2", summary="The caller's wallets")
def list_wallets() -> WalletList:
    p = principal(app)
    require_user(p)
    return WalletList(items=logic.list_mine(p))


@app.get("/api/wallet/<wallet_id>", responses=ONE, operation_id="wallet_get", summary="A wallet and its balance (v1)")
@app.get("/api/v1/wallet/<wallet_id>", responses=ONE, operation_id="wallet_get_v1", summary="A wallet and its balance")
@app.get("/api/v2/wallet/<wallet_id>", responses=ONE, operation_id="wallet_get_v2", summary="A wallet and its balance")
def get_wallet(wallet_id: WalletId) -> Wallet:
    return logic.get(principal(app), wallet_id)


@app.put(
    "/api/wallet/<wallet_id>/status",
    responses=STATUS,
    operation_id="wallet_set_status",
    summary="Freeze, unfreeze or close a wallet (v1)",
)
@app.put(
    "/api/v1/wallet/<wallet_id>/status",
    responses=STATUS,
    operation_id="wallet_set_status_v1",
    summary="Freeze, unfreeze or close a wallet",
)
@app.put(
    "/api/v2/wallet/<wallet_id>/status",
    responses=STATUS,
    operation_id="wallet_set_status_v2",
    summary="Freeze, unfreeze or close a wallet",
)
def put_status(wallet_id: WalletId) -> Wallet:
    # The seed sends a bare JSON string ("frozen"); newer clients send {status, reason}.
    try:
        body = _STATUS_BODY.validate_python(json.loads(app.current_event.body or "null"))
    except json.JSONDecodeError:
        raise Problem(400, "request body is not valid JSON") from None
    except ValidationError:
        raise Problem(422, 'body must be "active", "frozen" or "closed", or {"status": ..., "reason": ...}') from None
    change = body if isinstance(body, StatusChange) else StatusChange(status=body)
    return logic.change_status(principal(app), wallet_id, change.status, change.reason)


@app.get(
    "/api/wallet/<wallet_id>/transactions",
    responses=ONE,
    operation_id="wallet_transactions",
    summary="A wallet's ledger entries, newest first (v1)",
)
@app.get(
    "/api/v1/wallet/<wallet_id>/transactions",
    responses=ONE,
    operation_id="wallet_transactions_v1",
    summary="A wallet's ledger entries, newest first",
)
@app.get(
    "/api/v2/wallet/<wallet_id>/transactions",
    responses=ONE,
    operation_id="wallet_transactions_v2",
    summary="A wallet's ledger entries, newest first",
)
def transactions(
    wallet_id: WalletId,
    limit: Annotated[int, Query(ge=1)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> EntryPage:
    if limit > settings().page_size_max:
        raise Problem(422, f"limit must be at most {settings().page_size_max}")
    return logic.transactions(principal(app), wallet_id, limit, cursor)


# --- internal: KYC's view of a wallet; Payment's postings ---------------------------


@app.get(
    "/api/wallet/internal/wallets/<wallet_id>",
    responses=INTERNAL,
    operation_id="wallet_internal_get_wallet",
    summary="A wallet as Payment and KYC see it (services)",
)
def internal_wallet(wallet_id: WalletId) -> contracts.WalletView:
    require_service(principal(app), "kyc")
    return logic.view(wallet_id)


@app.post(
    "/api/wallet/internal/postings",
    responses=POSTED,
    operation_id="wallet_internal_post",
    summary="Apply a posting to the ledger (Payment)",
)
def internal_post(body: contracts.PostingRequest):
    require_service(principal(app), "payment")
    result, created = ledger.post(body)
    return json_response(result, 201 if created else 200)


@app.get(
    "/api/wallet/internal/postings/<posting_id>",
    responses=INTERNAL,
    operation_id="wallet_internal_get_posting",
    summary="A posting's outcome (Payment)",
)
def internal_posting(posting_id: Annotated[str, Path(max_length=64)]) -> contracts.PostingResult:
    require_service(principal(app), "payment")
    return ledger.find(posting_id)


handler = lambda_handler(app, logic.obs)
