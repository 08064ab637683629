"""Stand-in API handler for a module the catalog lists but this build does not contain:
the same 503 problem+json the devserver's gateway answers."""

from __future__ import annotations

import json
import os


def handler(event: dict, context: object) -> dict:
    service = os.environ.get("FINFLOW_SERVICE", "this service")
    body = {
        "type": "https://finflow.dev/problems/service-unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"{service} is not part of this build",
    }
    return {"statusCode": 503, "headers": {"Content-Type": "application/problem+json"}, "body": json.dumps(body)}
