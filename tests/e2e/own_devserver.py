"""A devserver of a test's own: its own ports and data dir, for the tests that stop, restart or
break the whole system (the session's devserver serves every other test meanwhile).

    server = own_devserver.start(data_dir)       # a free port range
    ...
    own_devserver.stop(server, data_dir)         # Ctrl-C; fails the test unless it stops cleanly
    server = own_devserver.start(data_dir, base=server_base(server))   # the same ports again
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from functions import catalog
from tests.e2e.conftest import ADMIN, ROOT, STOP_TIMEOUT, DevServer, _child_env, _free_bases, _stop, _wait_healthy

UP = re.compile(r"FinFlow is up in (?P<seconds>[\d.]+)s")


@contextmanager
def scratch_data_dir(prefix: str) -> Iterator[Path]:
    """A data dir to start with, removed afterwards; outside pytest's basetemp, for the reason
    conftest's devserver fixture gives."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp / "data"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def base_of(server: DevServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def start(data_dir: Path, base: int | None = None, env: dict[str, str] | None = None) -> DevServer:
    """A devserver on `base` (else the first free range) with `data_dir`, once it answers."""
    base = base if base is not None else next(_free_bases(start=30000))
    log_path = data_dir.parent / f"devserver-{base}-{len(list(data_dir.parent.glob('devserver-*.log')))}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devserver", "--port-base", str(base), "--data-dir", str(data_dir)],
            cwd=ROOT,
            env=_child_env() | (env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # as conftest's: our SIGINT only, never the terminal's
            preexec_fn=_default_sigint,
        )
    server = DevServer(
        url=f"http://127.0.0.1:{base}",
        ports={m.key: base + (m.port - catalog.GATEWAY_PORT) for m in catalog.MODULES},
        admin=ADMIN,
        aws_endpoint=f"http://127.0.0.1:{base + 10}",
        log_path=log_path,
        process=process,
    )
    why = _wait_healthy(process, server.url)
    if why is not None:
        _stop(process, data_dir, timeout=5)
        pytest.fail(f"{why}; output in {log_path}:\n{server.tail()}", pytrace=False)
    return server


def stop(server: DevServer, data_dir: Path, timeout: float = STOP_TIMEOUT) -> None:
    """Ctrl-C (SIGINT), as a developer stops `make dev`; fails unless it stops by itself, with 0."""
    clean = _stop(server.process, data_dir, timeout=timeout)
    if not clean or server.process.returncode != 0:
        pytest.fail(
            f"the devserver did not stop cleanly on SIGINT (exit code {server.process.returncode}):\n{server.tail()}",
            pytrace=False,
        )


def startup_seconds(server: DevServer) -> float | None:
    """What the devserver printed as its start-up time ("FinFlow is up in 4.7s")."""
    found = UP.search(server.log_path.read_text(errors="replace"))
    return float(found["seconds"]) if found else None


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
