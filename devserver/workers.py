"""Lambda-like execution: each function runs in its own worker processes.

Like Lambda, a worker handles one invocation at a time and is reused while warm; more
workers start (cold) when all are busy, up to a limit. Process isolation matters: a
function's module-level state (router, caches, breakers) is per container, never shared
between concurrent invocations.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from devserver import tracing
from devserver.lambda_runtime import LambdaContext

_ctx = multiprocessing.get_context("spawn")
_cold_starts = threading.BoundedSemaphore(2)


class InvocationError(Exception):
    """The function raised or its worker died; Lambda would report a function error."""


class Throttled(InvocationError):
    """No worker came free in time: Lambda would refuse the invocation (TooManyRequests)."""


def _worker_main(function_name: str, conn: Connection, env: dict[str, str]) -> None:
    # Ctrl-C reaches the whole process group; the parent stops workers between invocations.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What Lambda sets in every container: the X-Ray SDK (and Powertools Tracer) read it when
    # imported to choose their Lambda mode, where each invocation's segment is the one
    # _X_AMZN_TRACE_ID names (written by the platform, here the pool) and the SDK sends
    # the subsegments under it to the daemon (AWS_XRAY_DAEMON_ADDRESS).
    os.environ["LAMBDA_TASK_ROOT"] = os.getcwd()
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    os.environ.update(env)  # this function's own configuration, as CDK sets it per function
    handlers: dict[str, object] = {}
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        handler_path, event, trace = message
        # per invocation, as Lambda sets it: never a previous invocation's trace
        os.environ["_X_AMZN_TRACE_ID"] = trace or tracing.header(tracing.new_root(), tracing.new_id(), sampled=False)
        _forget_last_segment()
        try:
            if handler_path not in handlers:  # imported on first use: that is the cold start
                module_name, _, attr = handler_path.rpartition(".")
                handlers[handler_path] = getattr(importlib.import_module(module_name), attr)
            result = None if event is None else handlers[handler_path](event, LambdaContext(function_name))
            conn.send(("ok", result))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def _forget_last_segment() -> None:
    """The SDK's Lambda context keeps the facade segment while the trace id stays the same, so a
    second invocation of one container in the same trace (Wallet asked twice for one transfer)
    would land under the first invocation's segment: drop it, the env names the new one."""
    recorder = sys.modules.get("aws_xray_sdk.core")
    if recorder is not None:
        recorder.xray_recorder.clear_trace_entities()


class _Worker:
    def __init__(self, function_name: str, env: dict[str, str]):
        self.conn, child = _ctx.Pipe()
        self.process = _ctx.Process(
            target=_worker_main, args=(function_name, child, env), name=f"fn-{function_name}", daemon=True
        )
        self.process.start()
        child.close()
        status, detail = self._recv()
        if status != "ready":
            raise InvocationError(detail)

    def _recv(self):
        try:
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise InvocationError(f"worker exited ({self.process.exitcode})") from exc

    def signal_stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass

    def invoke(self, handler_path: str, event: dict, trace: str | None = None):
        self.conn.send((handler_path, event, trace))
        return self._recv()

    def stop(self) -> None:
        self.signal_stop()
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()


class FunctionPool:
    """The warm containers of one function."""

    def __init__(self, name: str, handler_path: str, max_workers: int = 8, env: dict[str, str] | None = None):
        """env: this function's variables on top of the system's (each worker's environment)."""
        self.name, self.handler_path, self.max_workers = name, handler_path, max_workers
        self.env = dict(env or {})
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()
        self.enabled = True

    def warm(self) -> None:
        self._idle.put(self._start())

    def _start(self) -> _Worker:
        with self._lock:
            self._count += 1
        try:
            worker = _Worker(self.name, self.env)
            worker.invoke(self.handler_path, None)  # import only: the container is warm
            return worker
        except Exception:
            with self._lock:
                self._count -= 1
            raise

    def _acquire(self, timeout: float) -> _Worker:
        """An idle worker, else a new one (a cold start), else wait for one to free up.

        Cold starts are limited machine-wide: Lambda gives each new container its own CPU,
        two local cores do not, and thirty imports at once would starve every timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                can_start = self._count < self.max_workers
            if can_start and _cold_starts.acquire(blocking=False):
                try:
                    return self._start()
                finally:
                    _cold_starts.release()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Throttled(f"{self.name}: no worker free within {timeout:.0f}s (throttled)")
            try:
                return self._idle.get(timeout=min(0.05, remaining))
            except queue.Empty:
                continue

    def invoke(self, event: dict, timeout: float = 30.0, trace: str | None = None):
        """trace: the caller's X-Amzn-Trace-Id; this invocation's function segment is written
        under it (what the Lambda service does) and the function's SDK traces under that."""
        if not self.enabled:
            raise InvocationError(f"{self.name} is down")
        worker = self._acquire(timeout)
        segment_id, started = tracing.new_id(), time.time()
        inner = tracing.header(tracing.parse(trace)["Root"], segment_id) if tracing.sampled(trace) else None
        status = "error"
        try:
            status, result = worker.invoke(self.handler_path, event, inner)
        except InvocationError:
            with self._lock:
                self._count -= 1
            raise
        finally:
            if inner:
                tracing.segment(
                    self.name,
                    trace,
                    segment_id,
                    started,
                    time.time(),
                    origin="AWS::Lambda::Function",
                    fault=status == "error",
                )
        self._idle.put(worker)
        if status == "error":
            raise InvocationError(result)
        return result

    def stop(self) -> None:
        workers = []
        while True:
            try:
                workers.append(self._idle.get_nowait())
            except queue.Empty:
                break
        # every worker told first, so they exit together: after a busy run a pool holds up
        # to max_workers of them, and one by one they outlasted a Ctrl-C's patience
        for worker in workers:
            worker.signal_stop()
        for worker in workers:
            worker.stop()
            with self._lock:
                self._count -= 1
