"""A minimal CloudFormation custom-resource responder (what cfn-response does), stdlib only.

The same handler also runs as a deploy step invoked directly (no `ResponseURL`): where
CloudFormation cannot run custom resources (LocalStack's community edition), the deploy
invokes each step itself (`infra_cdk.deploy_steps`) and a failure fails the invocation."""

from __future__ import annotations

import json
import logging
import traceback
import urllib.request
from collections.abc import Callable
from typing import Any

log = logging.getLogger()
log.setLevel(logging.INFO)


def _respond(event: dict, status: str, physical_id: str, data: dict, reason: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def custom_resource(apply: Callable[[dict], dict | None]) -> Callable[[dict, Any], dict | None]:
    """Wrap `apply(properties) -> data` (run on Create and Update; Delete keeps the data)."""

    def handler(event: dict, context: Any) -> dict | None:
        if "ResponseURL" not in event:  # a deploy step: the caller reads the result or the error
            return {"Status": "SUCCESS", "Data": apply(event["ResourceProperties"]) or {}}
        physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
        try:
            data = {}
            if event["RequestType"] in ("Create", "Update"):
                data = apply(event["ResourceProperties"]) or {}
            _respond(event, "SUCCESS", physical_id, data, "ok")
        except Exception as exc:
            log.error("custom resource failed: %s", traceback.format_exc())
            _respond(event, "FAILED", physical_id, {}, f"{type(exc).__name__}: {exc}")
        return None

    return handler
