from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_body import ProblemBody
from ...models.search_result import SearchResult
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: None | str | Unset = UNSET,
    currency: None | str | Unset = UNSET,
    min_amount: None | str | Unset = UNSET,
    max_amount: None | str | Unset = UNSET,
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_q: None | str | Unset
    if isinstance(q, Unset):
        json_q = UNSET
    else:
        json_q = q
    params["q"] = json_q

    json_currency: None | str | Unset
    if isinstance(currency, Unset):
        json_currency = UNSET
    else:
        json_currency = currency
    params["currency"] = json_currency

    json_min_amount: None | str | Unset
    if isinstance(min_amount, Unset):
        json_min_amount = UNSET
    else:
        json_min_amount = min_amount
    params["min_amount"] = json_min_amount

    json_max_amount: None | str | Unset
    if isinstance(max_amount, Unset):
        json_max_amount = UNSET
    else:
        json_max_amount = max_amount
    params["max_amount"] = json_max_amount

    json_from_: None | str | Unset
    if isinstance(from_, Unset):
        json_from_ = UNSET
    else:
        json_from_ = from_
    params["from"] = json_from_

    json_to: None | str | Unset
    if isinstance(to, Unset):
        json_to = UNSET
    else:
        json_to = to
    params["to"] = json_to

    json_limit: None | str | Unset
    if isinstance(limit, Unset):
        json_limit = UNSET
    else:
        json_limit = limit
    params["limit"] = json_limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/reports/payments/search",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemBody | SearchResult | None:
    if response.status_code == 200:
        response_200 = SearchResult.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ProblemBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemBody.from_dict(response.json())

        return response_403

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
) -> Response[ProblemBody | SearchResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    q: None | str | Unset = UNSET,
    currency: None | str | Unset = UNSET,
    min_amount: None | str | Unset = UNSET,
    max_amount: None | str | Unset = UNSET,
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
) -> Response[ProblemBody | SearchResult]:
    """Search payments (analyst)

    Args:
        q (None | str | Unset):
        currency (None | str | Unset):
        min_amount (None | str | Unset):
        max_amount (None | str | Unset):
        from_ (None | str | Unset):
        to (None | str | Unset):
        limit (None | str | Unset):
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemBody | SearchResult]
    """

    kwargs = _get_kwargs(
        q=q,
        currency=currency,
        min_amount=min_amount,
        max_amount=max_amount,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    q: None | str | Unset = UNSET,
    currency: None | str | Unset = UNSET,
    min_amount: None | str | Unset = UNSET,
    max_amount: None | str | Unset = UNSET,
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
) -> ProblemBody | SearchResult | None:
    """Search payments (analyst)

    Args:
        q (None | str | Unset):
        currency (None | str | Unset):
        min_amount (None | str | Unset):
        max_amount (None | str | Unset):
        from_ (None | str | Unset):
        to (None | str | Unset):
        limit (None | str | Unset):
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemBody | SearchResult
    """

    return sync_detailed(
        client=client,
        q=q,
        currency=currency,
        min_amount=min_amount,
        max_amount=max_amount,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    q: None | str | Unset = UNSET,
    currency: None | str | Unset = UNSET,
    min_amount: None | str | Unset = UNSET,
    max_amount: None | str | Unset = UNSET,
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
) -> Response[ProblemBody | SearchResult]:
    """Search payments (analyst)

    Args:
        q (None | str | Unset):
        currency (None | str | Unset):
        min_amount (None | str | Unset):
        max_amount (None | str | Unset):
        from_ (None | str | Unset):
        to (None | str | Unset):
        limit (None | str | Unset):
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemBody | SearchResult]
    """

    kwargs = _get_kwargs(
        q=q,
        currency=currency,
        min_amount=min_amount,
        max_amount=max_amount,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    q: None | str | Unset = UNSET,
    currency: None | str | Unset = UNSET,
    min_amount: None | str | Unset = UNSET,
    max_amount: None | str | Unset = UNSET,
    from_: None | str | Unset = UNSET,
    to: None | str | Unset = UNSET,
    limit: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
) -> ProblemBody | SearchResult | None:
    """Search payments (analyst)

    Args:
        q (None | str | Unset):
        currency (None | str | Unset):
        min_amount (None | str | Unset):
        max_amount (None | str | Unset):
        from_ (None | str | Unset):
        to (None | str | Unset):
        limit (None | str | Unset):
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemBody | SearchResult
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            currency=currency,
            min_amount=min_amount,
            max_amount=max_amount,
            from_=from_,
            to=to,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
