from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.payment import Payment
from ...models.problem_body import ProblemBody
from ...models.wallet_amount_request import WalletAmountRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: WalletAmountRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/payment/deposit",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Payment | ProblemBody | None:
    if response.status_code == 201:
        response_201 = Payment.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ProblemBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemBody.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemBody.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ProblemBody.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ProblemBody.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemBody.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemBody.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ProblemBody.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = ProblemBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Payment | ProblemBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WalletAmountRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Payment | ProblemBody]:
    """Deposit into one of the caller's wallets

     `amount` is a JSON number or decimal string: positive, with no more decimals than the currency
    allows, and at most 1,000,000 in the currency's major units (MAX_AMOUNT).

    Args:
        idempotency_key (str | Unset):
        body (WalletAmountRequest): Deposit and withdrawal: one wallet and an amount.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Payment | ProblemBody]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: WalletAmountRequest,
    idempotency_key: str | Unset = UNSET,
) -> Payment | ProblemBody | None:
    """Deposit into one of the caller's wallets

     `amount` is a JSON number or decimal string: positive, with no more decimals than the currency
    allows, and at most 1,000,000 in the currency's major units (MAX_AMOUNT).

    Args:
        idempotency_key (str | Unset):
        body (WalletAmountRequest): Deposit and withdrawal: one wallet and an amount.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Payment | ProblemBody
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WalletAmountRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Payment | ProblemBody]:
    """Deposit into one of the caller's wallets

     `amount` is a JSON number or decimal string: positive, with no more decimals than the currency
    allows, and at most 1,000,000 in the currency's major units (MAX_AMOUNT).

    Args:
        idempotency_key (str | Unset):
        body (WalletAmountRequest): Deposit and withdrawal: one wallet and an amount.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Payment | ProblemBody]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: WalletAmountRequest,
    idempotency_key: str | Unset = UNSET,
) -> Payment | ProblemBody | None:
    """Deposit into one of the caller's wallets

     `amount` is a JSON number or decimal string: positive, with no more decimals than the currency
    allows, and at most 1,000,000 in the currency's major units (MAX_AMOUNT).

    Args:
        idempotency_key (str | Unset):
        body (WalletAmountRequest): Deposit and withdrawal: one wallet and an amount.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Payment | ProblemBody
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
