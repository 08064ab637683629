"""The access token's claims as a contract: what Auth signs (finflow.tokens.issue) and what
each reader of a token reads of it.

Auth is the producer. Its readers are the gateway's authorizer (finflow.token_check.authorize,
which runs finflow.tokens.verify: the registered claims, `ver`, `kind`, `roles`) and every
module's API, which takes its principal from the claims (finflow.token_check.principal_context,
read back by finflow.http.principal), from the authorizer's context or, where it verifies
tokens itself, from the token. A claim renamed or reshaped reaches all of them at once, so
each is named here and the contract tests say which one breaks.
"""

from __future__ import annotations

from typing import Literal

from finflow.contracts.producers import Contract

TokenKind = Literal["user", "service"]


class AccessToken(Contract):
    """The claims of an RS256 access token (user or service), claims version `ver`."""

    iss: str
    aud: str
    sub: str  # the user's id, or the client id of a service
    iat: int  # seconds since the epoch
    exp: int
    jti: str
    roles: list[str]  # sorted; a service has one, `svc:<module>`
    kind: TokenKind
    ver: int  # JWT_CLAIMS_VERSION: a reshaped payload is a new version (finflow.tokens)


class AuthorizerReadsAccessToken(Contract):  # finflow.tokens.verify (REQUIRED, ver, kind, roles)
    iss: str
    aud: str
    sub: str
    iat: int
    exp: int
    jti: str
    roles: list[str]
    kind: TokenKind
    ver: int


class PrincipalReadsAccessToken(Contract):  # finflow.token_check.principal_context -> finflow.http.principal
    sub: str
    roles: list[str]
    kind: TokenKind
    ver: int
    jti: str


def token_readers() -> dict[str, type[Contract]]:
    """reader -> the model it reads the claims with: the authorizer, then every module's API
    (each module of the catalog has one)."""
    from functions import catalog

    return {"authorizer": AuthorizerReadsAccessToken, **{m.key: PrincipalReadsAccessToken for m in catalog.MODULES}}
