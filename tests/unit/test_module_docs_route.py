"""Each API function's own docs route, GET /api/<module>/docs: Swagger UI with the module's
document inline, the document itself with ?format=json, Swagger's OAuth2 redirect page."""

from __future__ import annotations

import importlib
import json

import pytest

from devserver.lambda_runtime import LambdaContext, proxy_event
from functions import catalog
from tools import openapi


def get_docs(key: str, query: dict[str, list[str]] | None = None, stage: str | None = None) -> dict:
    event = proxy_event("GET", f"/api/{key}/docs", query=query)
    if stage:  # called through the stage's URL, as API Gateway names it
        event["requestContext"].update(stage=stage, path=f"/{stage}/api/{key}/docs")
    return importlib.import_module(f"functions.{key}.api").handler(event, LambdaContext(f"{key}-api"))


def content_type(answer: dict) -> str:
    return {**answer.get("headers", {}), **{k: v[-1] for k, v in answer.get("multiValueHeaders", {}).items()}}[
        "Content-Type"
    ]


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_each_module_serves_swagger_ui_over_its_own_document(key):
    page = get_docs(key)
    assert page["statusCode"] == 200 and content_type(page) == "text/html"
    assert "SwaggerUIBundle" in page["body"] and "persistAuthorization: true" in page["body"]
    assert f'"operationId": "{key}_health"' in page["body"]  # the module's document, inline

    document = get_docs(key, {"format": ["json"]})
    assert document["statusCode"] == 200 and content_type(document) == "application/json"
    assert json.loads(document["body"]) == openapi.module_document(key)

    redirect = get_docs(key, {"format": ["oauth2-redirect"]})
    assert redirect["statusCode"] == 200 and content_type(redirect) == "text/html"
    assert "oauth2" in redirect["body"].lower()


def test_behind_a_stage_the_document_names_the_stage_as_its_server():
    document = json.loads(get_docs("wallet", {"format": ["json"]}, stage="prod")["body"])
    assert document["servers"] == [{"url": "/prod"}]
    assert json.loads(get_docs("wallet", {"format": ["json"]})["body"])["servers"] == [{"url": "/"}]
