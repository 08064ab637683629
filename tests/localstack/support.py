"""The LocalStack tier's steps and waits (tests/localstack/conftest.py has the fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests import support

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("FINFLOW_LOCALSTACK_HOME", ROOT / ".local" / "localstack"))
OUTPUTS = ROOT / ".local" / "localstack-outputs.json"
TIMINGS = ROOT / ".local" / "localstack-timings.json"
timings: dict[str, float] = {}


def run_step(name: str, command: list[str], timeout: float) -> str:
    """Run one step of the tier; its failure fails the test with the step, the exit and the output's end."""
    started = time.monotonic()
    try:
        done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"step '{name}' ({' '.join(command)}) did not finish within {timeout:.0f}s:\n"
            f"{(exc.stdout or b'')[-3000:]!s}",
            pytrace=False,
        )
    timings[name] = round(time.monotonic() - started, 1)
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps(timings, indent=2))
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(
            f"step '{name}' ({' '.join(command)}) failed with exit {done.returncode}:\n{output[-4000:]}", pytrace=False
        )
    return output


def endpoints() -> dict[str, str]:
    lines = (CACHE / "endpoints.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def until(what: str, check, timeout: float = 120.0, every: float = 2.0):
    """LocalStack's pace: containers start in seconds."""
    return support.until(what, check, timeout, every)
