"""The Lambda authorizer in front of every protected route of every module.

It verifies the bearer token against Auth's JWKS (RS256 only, RFC 8725) and passes the
principal to the module in the request context. A refused token gets an explicit Deny
with the reason in the context; the gateway answers 401 problem+json with that reason.
"""

from __future__ import annotations

import re
from typing import Any

import jwt  # noqa: F401 - finflow.tokens defers it, but every token is parsed here: load it at init

from finflow.observability import for_module
from finflow.token_check import authorize, bearer_token, principal_context
from finflow.tokens import TokenError

obs = for_module("auth")


def _safe(reason: str) -> str:
    """API Gateway pastes the reason into a JSON template verbatim, and a token's header
    (its `alg`) is attacker-chosen: keep only characters that cannot break the JSON."""
    return re.sub(r"[^A-Za-z0-9 .,:;'()_<>/-]", "?", reason)[:200]


def _policy(effect: str, method_arn: str, principal_id: str, context: dict) -> dict:
    # Allow the whole stage so a cached decision holds for every route of this token.
    arn = method_arn.split("/")
    resource = "/".join(arn[:2]) + "/*" if len(arn) >= 2 else method_arn
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


@obs.logger.inject_lambda_context(log_event=False)
def handler(event: dict, context: Any) -> dict:
    token = bearer_token(event.get("authorizationToken") or "")
    method_arn = event.get("methodArn", "*")
    if token is None:
        return _policy("Deny", method_arn, "anonymous", {"reason": "expected 'Authorization: Bearer <token>'"})
    try:
        claims = authorize(token)
    except TokenError as exc:
        obs.logger.info("token refused", extra={"reason": str(exc)})
        return _policy("Deny", method_arn, "anonymous", {"reason": _safe(str(exc))})
    return _policy("Allow", method_arn, claims["sub"], principal_context(claims))
