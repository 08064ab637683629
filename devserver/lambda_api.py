"""The local Lambda Invoke API: where the modules' private calls land in `make dev`.

`POST /2015-03-31/functions/<name>/invocations` runs the named function in its worker pool
and answers as Lambda does (RequestResponse), so the modules' boto3 clients reach it through
AWS_ENDPOINT_URL_LAMBDA with no code change, as they reach LocalStack's or AWS's. moto's
Lambda cannot run a function; every other service stays on the AWS endpoint.

No gateway and no authorizer on this path: the callee verifies the caller's token itself.
Bound to the devserver's host like its other ports; not part of the public API.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from devserver.workers import FunctionPool, InvocationError, Throttled, WorkerDied

_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


def _error(status: int, kind: str, message: str) -> Response:
    # rest-json errors as botocore reads them: the code in x-amzn-ErrorType, the text in Message
    body = json.dumps({"Type": "User" if status < 500 else "Service", "Message": message})
    return Response(body, status=status, content_type="application/json", headers={"X-Amzn-ErrorType": kind})


def function_name(given: str) -> str:
    """The bare name of `name`, `name:qualifier` or a function ARN (one version runs locally)."""
    given = unquote(given)
    if given.startswith("arn:"):
        given = given.split(":function:", 1)[-1]
    return given.split(":", 1)[0]


class LambdaApi:
    def __init__(self, pools: dict[str, FunctionPool]):
        """pools: keyed "<module>.<function>"; invoked by their function names ("wallet-api")."""
        self.functions = {pool.name: pool for pool in pools.values()}

    def __call__(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        match = _INVOKE.match(request.path)
        if request.method != "POST" or match is None:
            return _error(404, "UnknownOperationException", f"{request.method} {request.path}: only Invoke is served")
        name = function_name(match["name"])
        pool = self.functions.get(name)
        if pool is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
        if request.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            return _error(400, "InvalidParameterValueException", "the devserver invokes RequestResponse only")
        try:
            event = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json")
        headers = {k.lower(): v for k, v in ((event.get("headers") or {}) if isinstance(event, dict) else {}).items()}
        # the caller's trace context: the one its call's span put in the event (finflow.tracing), else
        # the Invoke request's (botocore adds the caller's own Lambda header, as the Lambda service reads it)
        trace = headers.get("x-amzn-trace-id") or request.headers.get("X-Amzn-Trace-Id")
        try:
            result = pool.invoke(event, trace=trace)
        except Throttled as exc:
            return _error(429, "TooManyRequestsException", str(exc))
        except InvocationError as exc:
            # what Lambda answers for a function that raised or whose runtime died (killed, out of
            # memory): 200, the error in the payload
            message, kind = str(exc).splitlines()[0], "Unhandled"
            print(f"[lambda] {name} failed: {message}", flush=True)
            if isinstance(exc, WorkerDied):
                message, kind = f"RequestId: {uuid.uuid4()} Error: {message}", "Runtime.ExitError"
            error = {"errorMessage": message, "errorType": kind}
            return Response(
                json.dumps(error),
                content_type="application/json",
                headers={"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"},
            )
        return Response(
            json.dumps(result), content_type="application/json", headers={"X-Amz-Executed-Version": "$LATEST"}
        )
