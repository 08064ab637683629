"""What `make dev` prints: the functions' Powertools lines made readable, one access line per request."""

from __future__ import annotations

import io
import json
import re

from aws_lambda_powertools import Logger
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from devserver.terminal import AccessLog, readable


def _powertools_lines(service: str, log) -> list[str]:
    """What a function's Logger writes. One Logger per service and process, and the functions' own
    (wallet-service...) may exist already in this process: each test logs as a service of its own."""
    stream = io.StringIO()
    logger = Logger(service=service, stream=stream, level="INFO")
    logger.set_correlation_id("cid-42")
    log(logger)
    return stream.getvalue().splitlines()


def test_a_powertools_line_reads_as_time_level_module_message_fields_and_correlation_id():
    (line,) = _powertools_lines(
        "ledgerdemo-service", lambda lg: lg.info("payment completed", extra={"payment_id": "p-1", "note": "a b"})
    )
    assert json.loads(line)["message"] == "payment completed"  # what the function wrote: JSON, as in CloudWatch

    shown = readable(line)

    assert re.fullmatch(
        r'\d\d:\d\d:\d\d INFO  ledgerdemo\s+payment completed  payment_id=p-1 note="a b"  cid=cid-42', shown
    ), shown


def test_an_error_shows_where_and_its_traceback_below_it():
    def fail(lg):
        try:
            raise ValueError("no such wallet")
        except ValueError:
            lg.exception("transfer failed")

    (line,) = _powertools_lines("paydemo-service", fail)
    first, *trace = readable(line).splitlines()
    assert first.split()[1:4] == ["ERROR", "paydemo", "transfer"] and " at fail:" in first
    assert trace[0] == "    Traceback (most recent call last):"
    assert trace[-1] == "    ValueError: no such wallet"


def test_other_lines_pass_unchanged():
    for line in ("[chaos] wallet is down", "{not json", '{"level": "INFO"}', "  gateway  http://127.0.0.1:8000"):
        assert readable(line) == line


def _served(app, request_headers: dict, capsys) -> str:
    Client(AccessLog(app, "gateway")).get("/api/wallet/wallets", headers=request_headers)
    return capsys.readouterr().out


def test_one_access_line_per_request_with_the_functions_correlation_id(capsys):
    app = Request.application(lambda request: Response("{}", status=201, headers={"X-Correlation-Id": "from-fn"}))

    out = _served(app, {}, capsys)

    assert re.fullmatch(r"\d\d:\d\d:\d\d GET /api/wallet/wallets 201 \d+ms cid=from-fn\n", out), out


def test_a_refusal_before_any_function_names_the_callers_correlation_id(capsys):
    app = Request.application(lambda request: Response("{}", status=401))

    out = _served(app, {"X-Correlation-Id": "mine-7"}, capsys)

    assert out.split()[1:4] == ["GET", "/api/wallet/wallets", "401"] and out.rstrip().endswith("cid=mine-7")


def test_a_module_port_is_named(capsys):
    app = Request.application(lambda request: Response("{}"))
    Client(AccessLog(app, "wallet")).get("/health")
    assert capsys.readouterr().out.rstrip().endswith("cid=-  (wallet port)")
