"""HTTP glue shared by every module's API function.

The resolver factory wires Powertools (validation, OpenAPI, Swagger UI), RFC 9457
problem+json errors, the principal the authorizer passed on, role checks, the request
guards (body size, malformed JSON) and correlation ids.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel

from finflow import service_client, tracing
from finflow.config import settings
from finflow.observability import Observability
from finflow.problems import TITLES as _TITLES
from finflow.problems import Principal, Problem, unavailable
from finflow.problems import require_role as require_role  # re-exported: API modules import them from here
from finflow.problems import require_service as require_service
from finflow.problems import require_user as require_user
from functions import catalog

if TYPE_CHECKING:  # Powertools' OpenAPI types load with the resolver, not here (see make_resolver)
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

PROBLEM = "application/problem+json"
_CORRELATION_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ProblemBody(BaseModel):
    """RFC 9457 problem details: how every error here is answered."""

    type: str
    title: str
    status: int
    detail: str


# What any route may answer, whatever it does: a body that is not JSON (400), a token the
# gateway refused (401), a body over the limit (413) or not JSON at all (415), invalid input
# (422), throttling or a login lock (429), its database or secrets unreachable for a moment (503).
COMMON_PROBLEMS = (400, 401, 413, 415, 422, 429, 503)
# The answers that say when to try again
_RETRY_AFTER: dict[int, OpenAPIResponseHeader] = {
    429: {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}},
    503: {
        "description": "Seconds to wait before trying again; a money call's retry carries the same Idempotency-Key",
        "schema": {"type": "integer", "minimum": 1},
    },
}
_SUCCESS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}


def documented(
    status: int = 200, model: Any = None, *problems: int, public: bool = False
) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses=` of a route: its success answer (`model`, else the handler's return
    annotation) and every problem+json it may give, so the document tells the truth."""
    ok: OpenAPIResponse = {"description": _SUCCESS.get(status, "OK")}
    if model is not None:
        ok["content"] = {"application/json": {"model": model}}
    elif status == 204:
        ok["content"] = {}
    codes = (set(COMMON_PROBLEMS) - ({401} if public else set())) | set(problems)
    answers: dict[int, OpenAPIResponse] = {status: ok}
    for code in sorted(codes):
        answers[code] = {"description": _TITLES.get(code, "Error"), "content": {PROBLEM: {"model": ProblemBody}}}
        if code in _RETRY_AFTER:
            answers[code]["headers"] = {"Retry-After": _RETRY_AFTER[code]}
    return answers


def idempotency_key_header(max_length: int) -> dict[str, Any]:
    """OpenAPI `openapi_extensions=` of a route that honours an Idempotency-Key (its logic checks it:
    a key reused with another body is a 409, a replay answers what the first call did)."""
    return {
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key with the same body answers the first "
                "call's result (with `Idempotent-Replayed: true`); with another body, 409.",
                "schema": {"type": "string", "minLength": 1, "maxLength": max_length},
            }
        ]
    }


def problem_response(p: Problem) -> Response:
    body = {
        **p.extensions,
        "type": f"https://finflow.dev/problems/{p.code}",
        "title": p.title,
        "status": p.status,
        "detail": p.detail,
    }
    return Response(status_code=p.status, content_type=PROBLEM, body=json.dumps(body), headers=p.headers)


def json_response(
    body: BaseModel | dict | list | None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    payload = "" if body is None else json.dumps(body)
    return Response(status_code=status, content_type="application/json", body=payload, headers=headers or {})


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body",)) or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "request is invalid"


# --- the principal the Lambda authorizer passed on ------------------------------------


def principal(app: APIGatewayRestResolver) -> Principal:
    ctx = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    # No authorizer ran (a direct invoke: another module's private call), or its context is not
    # to be trusted (FINFLOW_VERIFY_TOKENS: whoever may invoke the function writes the event).
    if not ctx or settings().verify_tokens:
        header = app.current_event.headers.get("Authorization") or ""
        checked = _checked.get()  # the pre-routing check's: one RS256 verification per request
        ctx = checked[1] if checked is not None and checked[0] == header else _verified_context(header)
    subject = ctx.get("sub") or ctx.get("principalId")
    if not subject:
        # The gateway should never route a protected call without its authorizer.
        raise Problem(401, "missing or invalid access token")
    roles = frozenset(r for r in str(ctx.get("roles", "")).split(",") if r)
    return Principal(subject=str(subject), roles=roles, kind=str(ctx.get("kind", "user")))


def _verified_context(header: str) -> dict:
    """What the authorizer would have passed on, from the token itself; its refusals alike."""
    from finflow.token_check import authorize, bearer_token, principal_context
    from finflow.tokens import TokenError

    token = bearer_token(header)
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if token is None:
        raise Problem(401, "missing bearer token", headers=challenge)
    try:
        return principal_context(authorize(token))
    except TokenError as exc:
        raise Problem(401, str(exc), headers=challenge) from exc
    except service_client.ServiceUnavailable as exc:  # Auth's keys unreachable: try again, not a 5xx bug
        raise Problem(503, "Cannot verify the token: auth-service is unavailable") from exc


# --- resolver and handler factory -----------------------------------------------------


API_VERSION = "1.0.0"
BEARER = "bearerAuth"  # the security scheme: Auth's RS256 access token, or a service token
# what a browser may send and read across origins (CORS)
CORS_ALLOW_HEADERS = ["Idempotency-Key", "X-Correlation-Id"]  # + Authorization, Content-Type (Powertools)
CORS_EXPOSE_HEADERS = ["X-Correlation-Id", "Idempotent-Replayed", "Retry-After", "WWW-Authenticate"]
CORS_MAX_AGE = 600


def cors_config() -> CORSConfig | None:
    """CORS from the one setting (CORS_ALLOWED_ORIGINS); None when no origin is allowed."""
    origins = settings().cors_origins
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=CORS_MAX_AGE,
    )


def _template(rule: str) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", rule)


class _Resolver(APIGatewayRestResolver):
    """Powertools keeps the current event on the class (BaseRouter), shared by every
    resolver in the process. Restoring it after each resolve lets one module's function
    call another's in-process (api tests) without the caller losing its own event.

    Every documented route is tagged with its module, and a public route (the catalog's)
    says so with an empty `security`: every other one takes the bearer token.

    The document's configuration and its Swagger UI load on their first use (the docs route,
    get_openapi_schema): Powertools' OpenAPI models cost ~40 ms to import, on every cold start
    of a function whose requests never ask for them."""

    def __init__(self, module_key: str, title: str, **kwargs):
        super().__init__(**kwargs)
        self.module_key, self.title = module_key, title
        self._public = set(catalog.public_routes(catalog.module(module_key)))
        self._configured = False

    def route(self, rule, method, *args, **kwargs):
        bound = inspect.signature(super().route).bind(rule, method, *args, **kwargs)
        given = bound.arguments
        if given.get("include_in_schema", True):
            given["tags"] = given.get("tags") or [self.module_key]
            methods = [method] if isinstance(method, str) else list(method)
            if all((m.upper(), _template(rule)) in self._public for m in methods):
                given["openapi_extensions"] = {**(given.get("openapi_extensions") or {}), "security": []}
        return super().route(*bound.args, **bound.kwargs)

    def _configure_document(self) -> None:
        if self._configured:
            return
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Tag

        m = catalog.module(self.module_key)
        self.configure_openapi(
            title=f"FinFlow {self.title} API",
            version=API_VERSION,
            description=_description(m),
            tags=[Tag(name=m.key, description=m.name)],
            security_schemes={
                BEARER: HTTPBearer(
                    bearerFormat="JWT",
                    description="An access token from POST /api/auth/login (users) or POST /api/auth/token (services)",
                )
            },
            security=[{BEARER: []}],
        )
        self._configured = True

    def get_openapi_schema(self, *args, **kwargs):
        """Powertools' document, plus what every list shares: `limit` is 1..PAGE_SIZE_MAX (the
        lists check it themselves, with their own message, so the bounds are documented here)."""
        self._configure_document()
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in (schema.paths or {}).values():
            for op in (item.get, item.put, item.post, item.delete, item.patch):
                for param in (op.parameters if op else None) or []:
                    found = getattr(param, "schema_", None)
                    if (
                        param.name == "limit"
                        and param.in_.value == "query"
                        and getattr(found, "type", None) == "integer"
                    ):
                        found.minimum, found.maximum = 1, settings().page_size_max
        return schema

    def swagger_ui(self):  # no return annotation: Powertools would read one as the route's response model
        """GET /api/<module>/docs as Powertools' enable_swagger(persist_authorization=True) serves
        it, from its own helpers: Swagger UI with the document inline, `?format=json` the
        document, `?format=oauth2-redirect` Swagger's OAuth2 redirect page."""
        from aws_lambda_powertools.event_handler.openapi import swagger_ui
        from aws_lambda_powertools.event_handler.openapi.compat import model_json
        from aws_lambda_powertools.event_handler.openapi.models import Server

        query = self.current_event.query_string_parameters or {}
        if query.get("format") == "oauth2-redirect":
            return Response(200, content_type="text/html", body=swagger_ui.generate_oauth2_redirect_html())
        schema = self.get_openapi_schema(servers=[Server(url=self._get_base_path() or "/")])
        # "</" escaped: the document is inlined in a <script> element
        spec = model_json(schema, by_alias=True, exclude_none=True, indent=2).replace("</", "<\\/")
        if query.get("format") == "json":
            return Response(200, content_type="application/json", body=spec)
        assets = Path(swagger_ui.__file__).parent
        js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
        css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
        page = swagger_ui.generate_swagger_html(spec, js, css, "", None, persist_authorization=True)
        return Response(200, content_type="text/html", body=page)

    def resolve(self, event, context):
        saved = {
            name: getattr(BaseRouter, name) for name in ("current_event", "lambda_context") if hasattr(BaseRouter, name)
        }
        try:
            return super().resolve(event, context)
        finally:
            for name, value in saved.items():
                setattr(BaseRouter, name, value)


def _description(m: catalog.Module) -> str:
    return (
        f"FinFlow's {m.name} module ({m.letter}): {', '.join(f'`{p}`' for p in m.route_prefixes)}. "
        "Errors are RFC 9457 problem+json (`application/problem+json`, clients read `detail`); amounts are "
        "decimal strings in the currency's exponent; ids are opaque UUIDs. Every route but the public ones "
        "takes `Authorization: Bearer <access token>` (POST /api/auth/login)."
    )


def make_resolver(module_key: str, title: str) -> APIGatewayRestResolver:
    from sqlalchemy.exc import OperationalError

    from finflow.aws import SecretsUnavailable

    app = _Resolver(module_key, title, enable_validation=True, cors=cors_config())

    @app.exception_handler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(Problem(400, "request body is not valid JSON"))
        return problem_response(Problem(422, _validation_detail(exc)))

    @app.exception_handler([OperationalError, SecretsUnavailable])
    def _dependency_unreachable(exc: Exception) -> Response:
        # the module's database dropped or refused the connection (a restart, a failover), or
        # Secrets Manager gave no answer: a retry is safe (money calls carry their Idempotency-Key),
        # so 503 and when, never a 500
        return problem_response(unavailable(f"{title} is unavailable: try again"))

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response:
        return problem_response(Problem(404, f"no route for {app.current_event.http_method} {app.current_event.path}"))

    app.get(f"/api/{module_key}/docs", include_in_schema=False)(app.swagger_ui)
    return app


def _guard(event: dict) -> Problem | None:
    """Checks done before routing: what API Gateway or the framework would not say clearly."""
    # PostgreSQL text cannot hold NUL: refused here once, not as a 5xx from whichever query
    query = {**(event.get("queryStringParameters") or {}), **(event.get("multiValueQueryStringParameters") or {})}
    texts = [event.get("path") or ""] + [v for vs in query.values() for v in (vs if isinstance(vs, list) else [vs])]
    if any("\x00" in (v or "") for v in texts):
        return Problem(422, NUL_DETAIL)
    body = event.get("body")
    if not body:
        return None
    if len(body.encode() if isinstance(body, str) else body) > settings().max_body_bytes:
        return Problem(413, f"request body exceeds {settings().max_body_bytes} bytes")
    if event.get("isBase64Encoded") and not _utf8(body):
        # bytes that are no text: the framework would fail decoding them (a 5xx)
        return Problem(400, "request body is not UTF-8 text; JSON is expected")
    headers = event.get("headers") or {}
    name = next((k for k in headers if k.lower() == "content-type"), "Content-Type")
    if "json" not in (headers.get(name) or "").lower():
        # Every body here is JSON; a client that forgot the header (curl -d) is read as JSON
        # rather than answered with a misleading "field required".
        text = _json_text(body)
        if text is None:
            return Problem(415, "request body must be JSON (Content-Type: application/json)")
        event["headers"], event["body"] = {**headers, name: "application/json"}, text
    if not event.get("isBase64Encoded") and "\\u0000" in body and _has_nul(body):
        return Problem(422, NUL_DETAIL)
    return None


NUL_DETAIL = "text must not contain NUL (\\u0000) characters"


def _json_text(body: str | bytes) -> str | bytes | None:
    """The body's JSON text: as sent, or form-encoded whole, as one field with no value
    (`curl --data-urlencode`, or a gateway that re-encodes a form body: LocalStack does so
    with the seed's `curl -d '{...}'`)."""
    try:
        json.loads(body)
        return body
    except (ValueError, TypeError):
        pass
    fields = parse_qsl(body if isinstance(body, str) else body.decode("utf-8", "replace"), keep_blank_values=True)
    if len(fields) == 1 and fields[0][1] == "":
        try:
            json.loads(fields[0][0])
            return fields[0][0]
        except ValueError:
            return None
    return None


def _has_nul(body: str) -> bool:
    def walk(value) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, dict):
            return any(walk(k) or walk(v) for k, v in value.items())
        return isinstance(value, list) and any(walk(v) for v in value)

    try:
        return walk(json.loads(body))
    except ValueError:
        return False  # not JSON: the route's validation says so


def _utf8(encoded: str | bytes) -> bool:
    try:
        base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


def _correlation_id(event: dict) -> str:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    given = headers.get("x-correlation-id") or ""
    if _CORRELATION_OK.match(given):
        return given
    return (event.get("requestContext") or {}).get("requestId") or "local"


def lambda_handler(app: APIGatewayRestResolver, obs: Observability) -> Callable[[dict, Any], dict]:
    """The Lambda entry point for an API function: guards, correlation, then the router."""

    @obs.logger.inject_lambda_context(log_event=False)
    @obs.metrics.log_metrics
    def handler(event: dict, context: Any) -> dict:
        correlation = _correlation_id(event)
        obs.logger.set_correlation_id(correlation)
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        service_client.set_request_context(correlation)
        with tracing.invocation(headers, correlation):
            problem = _authenticate(event) or _guard(event)
            response = _proxy_problem(problem, headers.get("origin")) if problem else app.resolve(event, context)
        response["headers"] = {**(response.get("headers") or {}), "X-Correlation-Id": correlation}
        return response

    return handler


def _authenticate(event: dict) -> Problem | None:
    """Where no authorizer ran before the function (a direct invoke) or its context is not trusted
    (FINFLOW_VERIFY_TOKENS), the token is checked before anything else, as the authorizer would
    have: a refused token is a 401 whatever the request holds. principal() takes what it found."""
    _checked.set(None)  # every invocation starts with nothing checked
    if (event.get("requestContext") or {}).get("authorizer") and not settings().verify_tokens:
        return None
    method, path = event.get("httpMethod"), event.get("path") or ""
    module = catalog.module_for_path(path)
    if method == "OPTIONS" or module is None or (method, path) in catalog.public_routes(module):
        return None
    header = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "authorization"), None)
    try:
        _checked.set((header or "", _verified_context(header or "")))
    except Problem as refused:
        return refused
    return None


# The Authorization header _authenticate verified in this invocation, with its principal context.
_checked: ContextVar[tuple[str, dict] | None] = ContextVar("finflow_checked_token", default=None)


def _proxy_problem(p: Problem, origin: str | None) -> dict:
    r = problem_response(p)
    cors = cors_config()  # refused before routing, but a browser must still be able to read why
    headers = {"Content-Type": PROBLEM, **p.headers, **(cors.to_dict(origin) if cors else {})}
    return {"statusCode": r.status_code, "headers": headers, "body": r.body, "isBase64Encoded": False}
