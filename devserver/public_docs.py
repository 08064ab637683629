"""What the devserver's gateway answers itself, before any module: the combined OpenAPI
document (`GET /openapi.json`, docs/openapi.json as committed: what the client in
examples/client is generated from), a Swagger UI on it (`GET /docs`, Powertools' bundled
assets: no CDN), and CORS preflights (`OPTIONS`) from CORS_ALLOWED_ORIGINS, as API Gateway's
OPTIONS methods answer them when deployed (infra_cdk/api.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from werkzeug.wrappers import Request, Response

from finflow.config import settings
from finflow.http import CORS_ALLOW_HEADERS, CORS_MAX_AGE

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
PATHS = ("/openapi.json", "/docs")
_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


def answers(request: Request) -> bool:
    preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    return (request.method == "GET" and request.path in PATHS) or (preflight and bool(settings().cors_origins))


def respond(request: Request) -> Response:
    if request.method == "OPTIONS":
        return preflight(request)
    if request.path == "/openapi.json":
        return Response(DOCUMENT.read_bytes(), content_type="application/json")
    return Response(_swagger_page(), content_type="text/html")


def preflight(request: Request) -> Response:
    """204 with the CORS headers for an allowed origin; without them for any other (the
    browser then refuses the call)."""
    response = Response(status=204, headers={"Vary": "Origin"})
    origin = request.headers.get("Origin")
    if origin in settings().cors_origins:
        response.headers.update(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": _METHODS,
                "Access-Control-Allow-Headers": ",".join(["Authorization", "Content-Type", *CORS_ALLOW_HEADERS]),
                "Access-Control-Max-Age": str(CORS_MAX_AGE),
            }
        )
    return response


@cache
def _swagger_page() -> str:
    from aws_lambda_powertools.event_handler import openapi
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(openapi.__file__).parent / "swagger_ui"
    spec = DOCUMENT.read_text().replace("</", "<\\/")
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    # no base URL: the assets are inlined
    return generate_swagger_html(spec, js, css, swagger_base_url="", oauth2_config=None, persist_authorization=True)
