"""What `make dev` shows on its console: a line per start-up step, then per request, and readable logs."""

from __future__ import annotations

import re
import uuid

from tests.support import until

STEPS = ["PostgreSQL", "AWS endpoint", "migrations", "AWS resources", "workers", "HTTP"]


def _output(devserver) -> str:
    return devserver.log_path.read_text(errors="replace")


def _line(devserver, needle: str) -> str | None:
    return next((line for line in _output(devserver).splitlines() if needle in line), None)


def test_each_start_up_step_has_a_timed_line_before_the_urls(devserver):
    output = _output(devserver)
    shown = re.findall(r"^\[\s*(\d+\.\d)s\] (\S+(?: \S+)?)\s{2,}(.*)$", output, re.MULTILINE)
    assert [step for _, step, _ in shown] == STEPS, output[:3000]
    times = [float(t) for t, _, _ in shown]
    assert times == sorted(times)
    assert "auth wallet payment" in dict((step, detail) for _, step, detail in shown)["migrations"]
    assert output.index("[") < output.index("FinFlow is up in") < output.index("  gateway ")


def test_each_request_gets_one_access_line_with_status_time_and_correlation_id(devserver, http):
    cid = f"console-{uuid.uuid4().hex[:8]}"
    assert http.get("/api/auth/health", headers={"X-Correlation-Id": cid}).status_code == 200

    line = until("the access line", lambda: _line(devserver, f"cid={cid}"), timeout=10)

    assert re.fullmatch(rf"\d\d:\d\d:\d\d GET /api/auth/health 200 \d+ms cid={cid}", line), line


def test_the_functions_logs_read_as_lines_not_json(devserver, http):
    """INFO by default: the authorizer's refusal of a bad token is logged, readable."""
    assert http.get("/api/wallet/wallets", headers={"Authorization": "Bearer not-a-token"}).status_code == 401

    line = until("the authorizer's log line", lambda: _line(devserver, "token refused"), timeout=10)

    assert re.match(r"\d\d:\d\d:\d\d INFO  auth\s+token refused  reason=", line), line
    assert not [ln for ln in _output(devserver).splitlines() if ln.startswith('{"level"')]
