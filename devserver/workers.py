"""Lambda-like execution: each function runs in its own worker processes.

Like Lambda, a worker handles one invocation at a time and is reused while warm; more
workers start (cold) when all are busy, up to a limit. Process isolation matters: a
function's module-level state (router, caches, breakers) is per container, never shared
between concurrent invocations.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from devserver import function_tracing, tracing
from devserver.lambda_runtime import LambdaContext

_ctx = multiprocessing.get_context("spawn")
_cold_starts = threading.BoundedSemaphore(2)


class Invocable(Protocol):
    """A function as the gateway and event delivery invoke it: a FunctionPool, or the function
    run in the caller's process (devserver.inprocess, the api tests)."""

    name: str
    enabled: bool

    def invoke(self, event: dict, timeout: float = 30.0, trace: str | None = None) -> Any:
        """The handler's result; InvocationError if the function failed or is down."""


class InvocationError(Exception):
    """The function raised or its worker died; Lambda would report a function error."""


class Throttled(InvocationError):
    """No worker came free in time: Lambda would refuse the invocation (TooManyRequests)."""


class WorkerDied(InvocationError):
    """The worker process exited mid-invocation (killed, out of memory): Lambda's Runtime.ExitError."""


def _exit_reason(exitcode: int | None) -> str:
    """As Lambda words it: "Runtime exited with error: signal: killed" / "exit status 1"."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"Runtime exited with error: signal: {'killed' if name == 'SIGKILL' else name.lower()}"
    return f"Runtime exited with error: exit status {exitcode}"


def _worker_main(function_name: str, conn: Connection, env: dict[str, str]) -> None:
    # Ctrl-C reaches the whole process group; the parent stops workers between invocations.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What Lambda sets in every container; each invocation's trace context is _X_AMZN_TRACE_ID
    # (its function span, written by the platform: here the pool)
    os.environ["LAMBDA_TASK_ROOT"] = os.getcwd()
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    os.environ.update(env)  # this function's own configuration, as CDK sets it per function
    traced = function_tracing.configure(function_name)  # before the handler's import, as ADOT's wrapper
    handlers: dict[str, Callable[[dict, LambdaContext], Any]] = {}
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
        try:
            if handler_path not in handlers:  # imported on first use: that is the cold start
                module_name, _, attr = handler_path.rpartition(".")
                handlers[handler_path] = getattr(importlib.import_module(module_name), attr)
            with function_tracing.invocation(trace) if traced else contextlib.nullcontext():
                result = None if event is None else handlers[handler_path](event, LambdaContext(function_name))
            conn.send(("ok", result))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


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

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def _recv(self) -> tuple[str, Any]:
        try:
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died() from exc

    def _died(self) -> WorkerDied:
        self.process.join(timeout=1)  # reap it, so its exit code says why
        return WorkerDied(_exit_reason(self.process.exitcode))

    def signal_stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass

    def invoke(self, handler_path: str, event: dict | None, trace: str | None = None) -> tuple[str, Any]:
        """event None: only import the handler (a cold start ahead of any invocation)."""
        try:
            self.conn.send((handler_path, event, trace))
        except OSError as exc:  # died since it was last used
            raise self._died() from exc
        return self._recv()

    def stop(self) -> None:
        self.signal_stop()
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()


class FunctionPool:
    """The warm containers of one function.

    A worker that dies mid-invocation (SIGKILL, out of memory) fails that invocation with
    WorkerDied, as Lambda reports a Runtime.ExitError, and a replacement starts in the
    background; one found dead while idle is dropped before use."""

    def __init__(self, name: str, handler_path: str, max_workers: int = 8, env: dict[str, str] | None = None):
        """env: this function's variables on top of the system's (each worker's environment)."""
        self.name, self.handler_path, self.max_workers = name, handler_path, max_workers
        self.env = dict(env or {})
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._busy: set[_Worker] = set()
        self._count = 0
        self._lock = threading.Lock()
        self._stopping = False
        self.enabled = True
        self.deaths = 0  # workers that died mid-invocation (the console shows it)

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

    def _idle_worker(self, timeout: float | None) -> _Worker | None:
        """An idle worker that is still alive (a dead one is forgotten), or None."""
        while True:
            try:
                worker = self._idle.get(timeout=timeout) if timeout else self._idle.get_nowait()
            except queue.Empty:
                return None
            if worker.process.is_alive():
                return worker
            with self._lock:
                self._count -= 1

    def _acquire(self, timeout: float) -> _Worker:
        """An idle worker, else a new one (a cold start), else wait for one to free up.

        Cold starts are limited machine-wide: Lambda gives each new container its own CPU,
        two local cores do not, and thirty imports at once would starve every timeout."""
        deadline = time.monotonic() + timeout
        while True:
            worker = self._idle_worker(None)
            if worker is not None:
                return worker
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
            worker = self._idle_worker(min(0.05, remaining))
            if worker is not None:
                return worker

    def invoke(self, event: dict, timeout: float = 30.0, trace: str | None = None) -> Any:
        """trace: the caller's X-Amzn-Trace-Id; this invocation's function segment is written
        under it (what the Lambda service does) and the function's SDK traces under that."""
        if not self.enabled:
            raise InvocationError(f"{self.name} is down")
        worker = self._acquire(timeout)
        segment_id, started = tracing.new_id(), time.time()
        inner = tracing.header(tracing.parse(trace)["Root"], segment_id) if tracing.sampled(trace) else None
        status = "error"
        with self._lock:
            self._busy.add(worker)
        try:
            status, result = worker.invoke(self.handler_path, event, inner)
        except WorkerDied as exc:
            with self._lock:
                self._count -= 1
                self.deaths += 1
            print(f"[workers] {self.name} worker {worker.pid} died mid-invocation: {exc}", flush=True)
            self._replace()
            raise
        finally:
            with self._lock:
                self._busy.discard(worker)
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

    def _replace(self) -> None:
        """A new warm worker in place of a dead one, started in the background."""

        def start() -> None:
            with _cold_starts:
                if self._stopping:
                    return
                try:
                    self._idle.put(self._start())
                except Exception as exc:  # the next invocation starts one (or says why it cannot)
                    print(f"[workers] {self.name}: no replacement worker: {exc}", flush=True)

        threading.Thread(target=start, name=f"replace-{self.name}", daemon=True).start()

    def workers(self) -> list[dict]:
        """Every live worker: its pid and whether it is running an invocation now."""
        with self._lock:
            busy = list(self._busy)
        idle = list(self._idle.queue)  # a snapshot: the deque is only read
        return [{"pid": w.pid, "busy": w in busy} for w in busy + idle if w.process.is_alive()]

    def busy(self) -> int:
        with self._lock:
            return len(self._busy)

    def stop(self) -> None:
        self._stopping = True
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
