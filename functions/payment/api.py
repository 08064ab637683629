"""Payment API routes (`/api/payment/...`): thin handlers over functions.payment.logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from finflow import metrics
from finflow.config import settings
from finflow.health import add_health
from finflow.http import PROBLEM, documented, idempotency_key_header, lambda_handler, make_resolver, principal
from functions.payment import logic
from functions.payment.rules import IDEMPOTENCY_KEY_MAX
from functions.payment.schemas import Payment, PaymentPage, TransferRequest, WalletAmountRequest

app = make_resolver("payment", "Payment Processing")
# a money movement: 201 completed, or a problem (a replay answers what the first call did)
MOVED = documented(201, Payment, 403, 404, 409)
KEYED = idempotency_key_header(IDEMPOTENCY_KEY_MAX)
AMOUNTS = (
    "`amount` is a JSON number or decimal string: positive, with no more decimals than the currency allows, "
    f"and at most {settings().max_amount:,} in the currency's major units (MAX_AMOUNT)."
)
add_health(app, "payment")  # registered before /api/payment/<payment_id>, so it wins the match


def _key() -> str | None:
    return app.current_event.headers.get("Idempotency-Key")  # case-insensitive


def _send(outcome: logic.Outcome) -> Response:
    # The stored text itself, so a replay is byte for byte the first answer.
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.replayed:
        metrics.payment_replayed()
    content_type = PROBLEM if outcome.status >= 400 else "application/json"
    return Response(status_code=outcome.status, content_type=content_type, body=outcome.body, headers=headers)


@app.post(
    "/api/payment/transfer",
    responses=MOVED,
    operation_id="payment_transfer",
    summary="Transfer between two wallets of one currency",
    description=AMOUNTS,
    openapi_extensions=KEYED,
)
def transfer(body: TransferRequest):
    return _send(logic.transfer(principal(app), body, _key()))


@app.post(
    "/api/payment/deposit",
    responses=MOVED,
    operation_id="payment_deposit",
    summary="Deposit into one of the caller's wallets",
    description=AMOUNTS,
    openapi_extensions=KEYED,
)
def deposit(body: WalletAmountRequest):
    return _send(logic.deposit(principal(app), body, _key()))


@app.post(
    "/api/payment/withdraw",
    responses=MOVED,
    operation_id="payment_withdraw",
    summary="Withdraw from one of the caller's wallets",
    description=AMOUNTS,
    openapi_extensions=KEYED,
)
def withdraw(body: WalletAmountRequest):
    return _send(logic.withdraw(principal(app), body, _key()))


@app.get(
    "/api/payment",
    responses=documented(200, None, 403),
    operation_id="payment_list",
    summary="The caller's payments, newest first",
)
def list_payments(
    limit: Annotated[int, Query()] = 20, cursor: Annotated[str | None, Query(max_length=200)] = None
) -> PaymentPage:
    return logic.list_mine(principal(app), limit, cursor)


@app.get(
    "/api/payment/<payment_id>",
    responses=documented(200, None, 403, 404),
    operation_id="payment_get",
    summary="A payment of the caller's",
)
def get_payment(payment_id: Annotated[str, Path(max_length=64)]) -> Payment:
    return logic.get(principal(app), payment_id)


handler = lambda_handler(app, logic.obs)
