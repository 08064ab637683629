"""A worker process killed mid-invocation: the Lambda Invoke API answers Lambda's function error
(200, X-Amz-Function-Error, Runtime.ExitError), a replacement worker serves the next call, and a
worker found dead while idle is skipped, not reported as the caller's error."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from werkzeug.test import Client

from devserver.lambda_api import LambdaApi
from devserver.workers import FunctionPool

HANDLER = "tests.unit.dying_function.handler"


@pytest.fixture
def pool():
    pool = FunctionPool("dying", HANDLER, max_workers=2)
    pool.warm()
    yield pool
    pool.stop()


def invoke(client: Client, event: dict):
    return client.post("/2015-03-31/functions/dying/invocations", data=json.dumps(event))


def test_a_killed_invocation_is_a_function_error_and_the_next_one_runs_on_a_new_worker(pool):
    client = Client(LambdaApi({"t.dying": pool}))
    first = invoke(client, {})
    assert first.status_code == 200 and "X-Amz-Function-Error" not in first.headers

    died = invoke(client, {"die": True})

    assert died.status_code == 200
    assert died.headers["X-Amz-Function-Error"] == "Unhandled"
    error = died.get_json()
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    after = invoke(client, {})
    assert after.status_code == 200 and "X-Amz-Function-Error" not in after.headers
    assert after.get_json()["pid"] != first.get_json()["pid"]
    assert pool.deaths == 1


def test_a_worker_that_died_while_idle_is_skipped(pool):
    client = Client(LambdaApi({"t.dying": pool}))
    (idle,) = pool.workers()
    os.kill(idle["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pool.workers() and time.monotonic() < deadline:  # the kernel reaps it
        time.sleep(0.05)

    answer = invoke(client, {})

    assert answer.status_code == 200 and "X-Amz-Function-Error" not in answer.headers
    assert answer.get_json()["pid"] != idle["pid"]
    assert pool.deaths == 0
