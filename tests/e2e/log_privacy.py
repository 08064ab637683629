"""No secret in any log line: what the e2e suite sent and received is remembered, and every
line the devserver (gateway, workers, pollers) printed is checked against it at the end.

Two kinds of check:
- values: every password, refresh token, client secret, document URL/key and presigned
  upload field the suite exchanged with the system (harvested from the HTTP traffic and
  from the local Secrets Manager), found verbatim in a line;
- patterns: shapes that are secret whatever their value (a JWT, a PEM private key, an S3
  presigned URL's signature, a bcrypt hash).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PATTERNS: dict[str, re.Pattern[str]] = {
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY"),
    "presigned url": re.compile(r"X-Amz-Signature=|X-Amz-Credential=|[?&]Signature=[^&\s]+"),
    "bcrypt hash": re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{20,}"),
}
# JSON fields whose values are secret or personal documents, in requests and answers
SECRET_FIELDS = {
    "password": "password",
    "new_password": "password",
    "client_secret": "client secret",
    "access_token": "access token",
    "refresh_token": "refresh token",
    "document_url": "document url",
    "document_key": "document key",
    "document_download_url": "document url",
    "upload_url": "presigned url",
    "policy": "presigned url",
    "x-amz-signature": "presigned url",
    "signature": "presigned url",
}
MIN_LENGTH = 6  # shorter values ("x", "abc") would match innocent text


@dataclass
class Finding:
    line_no: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.kind}: {self.excerpt}"


@dataclass
class Harvest:
    """Secret values seen during the run, by kind."""

    values: dict[str, str] = field(default_factory=dict)  # value -> kind

    def add(self, value: Any, kind: str) -> None:
        if isinstance(value, str) and len(value) >= MIN_LENGTH:
            self.values.setdefault(value, kind)

    def walk(self, data: Any) -> None:
        """Every value under a secret field name, at any depth of a JSON document."""
        if isinstance(data, dict):
            for key, value in data.items():
                kind = SECRET_FIELDS.get(str(key).lower())
                if kind and isinstance(value, str):
                    self.add(value, kind)
                else:
                    self.walk(value)
        elif isinstance(data, list):
            for item in data:
                self.walk(item)

    def body(self, content: bytes) -> None:
        try:
            self.walk(json.loads(content))
        except (ValueError, UnicodeDecodeError):
            return

    def secrets_manager(self, secrets: Iterable[dict]) -> None:
        """Every string of every secret of the deployment (keys, client secrets)."""

        def leaves(data: Any):
            if isinstance(data, dict):
                for key, value in data.items():
                    if key in ("client_id", "module", "kid", "active_kid"):
                        continue
                    yield from leaves(value)
            elif isinstance(data, list):
                for item in data:
                    yield from leaves(item)
            elif isinstance(data, str):
                yield data

        for secret in secrets:
            for value in leaves(secret):
                if len(value) >= 16:
                    self.add(value, "deployment secret")


def scan(lines: Iterable[str], harvest: Harvest) -> tuple[int, list[Finding]]:
    """(lines scanned, findings). A finding shows the kind and a masked excerpt, never the value."""
    findings: list[Finding] = []
    count = 0
    values = sorted(harvest.values.items(), key=lambda kv: -len(kv[0]))
    for count, line in enumerate(lines, start=1):
        for kind, pattern in PATTERNS.items():
            if (m := pattern.search(line)) is not None:
                findings.append(Finding(count, kind, _masked(line, m.start(), m.end())))
        for value, kind in values:
            if (at := line.find(value)) >= 0:
                findings.append(Finding(count, kind, _masked(line, at, at + len(value))))
    return count, findings


def _masked(line: str, start: int, end: int) -> str:
    before, after = line[max(0, start - 60) : start], line[end : end + 40]
    return f"...{before}<{end - start} chars>{after}...".replace("\n", " ")


def scan_file(path: Path, harvest: Harvest) -> tuple[int, list[Finding]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return scan(f, harvest)


# --- harvesting the suite's HTTP traffic ---------------------------------------------------


def record_httpx(harvest: Harvest):
    """Wrap httpx.Client.send (every sync httpx call goes through it) so each request's and
    answer's secret fields are remembered. Returns a function that undoes the wrap."""
    import httpx

    original = httpx.Client.send

    def send(self, request, *args, **kwargs):
        # a streamed body (a multipart upload) is never read here: that would consume it
        _quietly(lambda: harvest.body(request.content))
        response = original(self, request, *args, **kwargs)
        if not kwargs.get("stream"):
            _quietly(lambda: harvest.body(response.content))
        return response

    httpx.Client.send = send
    return lambda: setattr(httpx.Client, "send", original)


def _quietly(fn) -> None:
    try:
        fn()
    except Exception:
        pass
