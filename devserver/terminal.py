"""What `make dev` prints: a line per start-up step, a line per request, and the functions'
Powertools logs (one JSON object per line, as CloudWatch wants them) made readable."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime

# Powertools' Lambda context and X-Ray fields: the same on every line of an invocation, or shown elsewhere.
_CONTEXT_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "correlation_id",
    "xray_trace_id",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "sampling_rate",
    "exception",
    "exception_name",
    "stack_trace",
}


def progress_printer(started: float) -> Callable[[str, str], None]:
    """A start-up step as `[  1.9s] migrations     auth wallet ...`, timed from `started` (monotonic)."""

    def show(step: str, detail: str) -> None:
        say(f"[{time.monotonic() - started:5.1f}s] {step:<14} {detail}")

    return show


def say(line: str) -> None:
    """One whole line in one write: request threads print concurrently."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _clock(timestamp: str | None = None) -> str:
    if timestamp:
        try:
            return datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S,%f%z").astimezone().strftime("%H:%M:%S")
        except ValueError:
            pass
    return time.strftime("%H:%M:%S")


def _value(value) -> str:
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        return value
    return json.dumps(value, default=str)


def readable(line: str) -> str:
    """A Powertools JSON log line as `12:00:01 INFO  wallet  message  key=value  cid=...`
    (and its traceback below it); any other line as it is."""
    if not line.startswith("{"):
        return line
    try:
        entry = json.loads(line)
        level, message = entry["level"], entry["message"]
    except (ValueError, TypeError, KeyError):
        return line
    service = str(entry.get("service", "")).removesuffix("-service")
    message = message if isinstance(message, str) else _value(message)
    text = f"{_clock(entry.get('timestamp'))} {level:<5} {service:<12} {message}"
    extra = [f"{k}={_value(v)}" for k, v in entry.items() if k not in _CONTEXT_KEYS]
    if extra:
        text += "  " + " ".join(extra)
    if entry.get("correlation_id"):
        text += f"  cid={entry['correlation_id']}"
    if level in ("ERROR", "CRITICAL") and entry.get("location"):
        text += f"  at {entry['location']}"
    if entry.get("exception"):
        text += "\n" + "\n".join("    " + part for part in str(entry["exception"]).splitlines())
    return text


class AccessLog:
    """WSGI middleware: `12:00:01 POST /api/auth/login 200 38ms cid=...` for each request a port serves."""

    def __init__(self, app, name: str):
        self.app, self.label = app, "" if name == "gateway" else f"  ({name} port)"

    def __call__(self, environ, start_response):
        started, seen = time.perf_counter(), {}

        def recording(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            seen["cid"] = next((v for k, v in headers if k.lower() == "x-correlation-id"), None)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording)
        finally:
            cid = seen.get("cid") or environ.get("HTTP_X_CORRELATION_ID") or "-"
            ms = (time.perf_counter() - started) * 1000
            method, path = environ.get("REQUEST_METHOD", "-"), environ.get("PATH_INFO", "")
            say(f"{_clock()} {method} {path} {seen.get('status', '-')} {ms:.0f}ms cid={cid}{self.label}")


class ReadableOutput:
    """Everything written to this process's stdout, its workers' included (they inherit the file
    descriptor), passes through a pipe and comes out with each JSON log line made `readable`."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReadableOutput:
        sys.stdout.flush()
        self._saved = os.dup(1)
        read, write = os.pipe()
        os.dup2(write, 1)
        os.close(write)
        self._thread = threading.Thread(
            target=self._pump, args=(read, self._saved), name="readable-output", daemon=True
        )
        self._thread.start()
        return self

    @staticmethod
    def _pump(read: int, out: int) -> None:
        with os.fdopen(read, "rb") as lines:
            for raw in lines:
                try:
                    os.write(out, (readable(raw.decode(errors="replace").rstrip("\n")) + "\n").encode())
                except OSError:  # the terminal is gone: keep draining, or every writer would block
                    pass

    def stop(self, timeout: float = 2.0) -> None:
        """Stdout back to where it was; what is still in the pipe is written out, once every
        worker holding its other end has exited (or after `timeout`)."""
        if self._saved is None or self._thread is None:
            return
        sys.stdout.flush()
        os.dup2(self._saved, 1)
        self._thread.join(timeout)
        self._saved = None
