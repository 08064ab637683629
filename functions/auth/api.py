"""Auth API routes (`/api/auth/...`): thin handlers over functions.auth.logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from finflow import token_check
from finflow.health import add_health
from finflow.http import documented, json_response, lambda_handler, make_resolver, principal
from functions.auth import erasure, export, logic
from functions.auth.keys import key_ring
from functions.auth.schemas import (
    ClientCredentials,
    Erasure,
    ErasureRequest,
    ExportStatus,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    RolesRequest,
    ServiceToken,
    TokenPair,
    User,
)

app = make_resolver("auth", "User Authentication")
add_health(app, "auth")
# other modules invoke this function directly, and it verifies their tokens: with its own keys
token_check.use_local_keys(lambda: key_ring().jwks())


@app.post(
    "/api/auth/register",
    responses=documented(201, User, 409, public=True),
    operation_id="auth_register",
    summary="Register a user",
)
def register(body: RegisterRequest):
    return json_response(logic.register(body, source=_source()), 201)


@app.post(
    "/api/auth/login",
    responses=documented(200, None, 401, public=True),
    operation_id="auth_login",
    summary="Log in: access and refresh tokens",
)
def login(body: LoginRequest) -> TokenPair:
    return logic.login(body.email, body.password, _source())


@app.post(
    "/api/auth/refresh",
    responses=documented(200, None, 401, public=True),
    operation_id="auth_refresh",
    summary="Exchange a refresh token (rotated) for new tokens",
)
def refresh(body: RefreshRequest) -> TokenPair:
    return logic.refresh(body.refresh_token)


@app.post(
    "/api/auth/logout",
    responses=documented(204, None, 403),
    operation_id="auth_logout",
    summary="Revoke a refresh token's family",
)
def logout(body: RefreshRequest):
    logic.logout(principal(app), body.refresh_token)
    return json_response(None, 204)


@app.get(
    "/api/auth/me", responses=documented(200, None, 403, 404), operation_id="auth_me", summary="The caller's account"
)
def me() -> User:
    return logic.me(principal(app))


@app.get(
    "/api/auth/users/<user_id>",
    responses=documented(200, None, 403, 404),
    operation_id="auth_get_user",
    summary="A user's account (self or admin)",
)
def get_user(user_id: Annotated[str, Path(max_length=64)]) -> User:
    return logic.get_user(principal(app), user_id)


@app.put(
    "/api/auth/users/<user_id>/roles",
    responses=documented(200, None, 403, 404),
    operation_id="auth_set_roles",
    summary="Set a user's roles (admin)",
)
def put_roles(body: RolesRequest, user_id: Annotated[str, Path(max_length=64)]) -> User:
    return logic.grant_roles(principal(app), user_id, list(body.roles))


@app.post(
    "/api/auth/token",
    responses=documented(200, None, 401, public=True),
    operation_id="auth_service_token",
    summary="A service token (OAuth2 client credentials)",
)
def token(body: ClientCredentials) -> ServiceToken:
    return logic.service_token(body)


@app.get(
    "/api/auth/.well-known/jwks.json",
    responses=documented(200, None, public=True),
    operation_id="auth_jwks",
    summary="The public keys that verify access tokens (JWKS)",
)
def jwks():
    return json_response(key_ring().jwks(), headers={"Cache-Control": "public, max-age=300"})


@app.post(
    "/api/auth/me/erasure",
    responses=documented(202, Erasure, 403, 429),
    operation_id="auth_erase_me",
    summary="Erase the caller's personal data",
)
def erase_me(body: ErasureRequest):
    return json_response(erasure.erase_me(principal(app), body.password), 202)


@app.post(
    "/api/auth/users/<user_id>/erasure",
    responses=documented(202, Erasure, 403, 404),
    operation_id="auth_erase_user",
    summary="Erase a user's personal data (admin)",
)
def erase_user(user_id: Annotated[str, Path(max_length=64)]):
    return json_response(erasure.erase_user(principal(app), user_id), 202)


@app.post(
    "/api/auth/me/exports",
    responses=documented(202, ExportStatus, 403),
    operation_id="auth_request_export",
    summary="Request an export of the caller's data",
)
def request_export():
    return json_response(export.request(principal(app)), 202)


@app.get(
    "/api/auth/me/exports/<export_id>",
    responses=documented(200, None, 403, 404),
    operation_id="auth_export_status",
    summary="An export's status and download links",
)
def export_status(export_id: Annotated[str, Path(max_length=64)]) -> ExportStatus:
    return export.status(principal(app), export_id)


def _source() -> str:
    """The client's address, which failed logins and taken-email registrations count against."""
    return app.current_event.request_context.identity.source_ip or "unknown"


handler = lambda_handler(app, logic.obs)
