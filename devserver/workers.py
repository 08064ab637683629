"""Lambda-like execution: each function runs in its own worker processes.

Like Lambda, a worker handles one invocation at a time and is reused while warm; more
workers start (cold) when all are busy, up to a limit. Process isolation matters: a
function's module-level state (router, caches, breakers) is per container, never shared
between concurrent invocations.
"""
from __future__ import annotations

import importlib
import multiprocessing
import queue
import signal
import threading
import time
import traceback
from multiprocessing.connection import Connection

from devserver.lambda_runtime import LambdaContext

_ctx = multiprocessing.get_context("spawn")
_cold_starts = threading.BoundedSemaphore(2)


class InvocationError(Exception):
    """The function raised or its worker died; Lambda would report a function error."""


def _worker_main(function_name: str, conn: Connection) -> None:
    # Ctrl-C reaches the whole process group; the parent stops workers between invocations.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handlers: dict[str, object] = {}
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        handler_path, event = message
        try:
            if handler_path not in handlers:  # imported on first use: that is the cold start
                module_name, _, attr = handler_path.rpartition(".")
                handlers[handler_path] = getattr(importlib.import_module(module_name), attr)
            result = None if event is None else handlers[handler_path](event, LambdaContext(function_name))
            conn.send(("ok", result))
        except Exception as exc:  # noqa: BLE001 - reported to the caller like a Lambda function error
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


class _Worker:
    def __init__(self, function_name: str):
        self.conn, child = _ctx.Pipe()
        self.process = _ctx.Process(target=_worker_main, args=(function_name, child),
                                    name=f"fn-{function_name}", daemon=True)
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

    def invoke(self, handler_path: str, event: dict):
        self.conn.send((handler_path, event))
        return self._recv()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()


class FunctionPool:
    """The warm containers of one function."""

    def __init__(self, name: str, handler_path: str, max_workers: int = 8):
        self.name, self.handler_path, self.max_workers = name, handler_path, max_workers
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
            worker = _Worker(self.name)
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
                raise InvocationError(f"{self.name}: no worker free within {timeout:.0f}s (throttled)")
            try:
                return self._idle.get(timeout=min(0.05, remaining))
            except queue.Empty:
                continue

    def invoke(self, event: dict, timeout: float = 30.0, handler_path: str | None = None):
        if not self.enabled:
            raise InvocationError(f"{self.name} is down")
        worker = self._acquire(timeout)
        try:
            status, result = worker.invoke(handler_path or self.handler_path, event)
        except InvocationError:
            with self._lock:
                self._count -= 1
            raise
        self._idle.put(worker)
        if status == "error":
            raise InvocationError(result)
        return result

    def stop(self) -> None:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            worker.stop()
            with self._lock:
                self._count -= 1


class SharedFunction:
    """A function that runs in another function's workers: used where the functions of a
    module share in-process state locally (mongomock has no server to share through)."""

    def __init__(self, pool: FunctionPool, name: str, handler_path: str):
        self.pool, self.name, self.handler_path = pool, name, handler_path

    @property
    def enabled(self) -> bool:
        return self.pool.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.pool.enabled = value

    def invoke(self, event: dict, timeout: float = 30.0):
        return self.pool.invoke(event, timeout, handler_path=self.handler_path)

    def warm(self) -> None:
        pass

    def stop(self) -> None:
        pass
