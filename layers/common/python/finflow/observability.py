"""One Logger/Tracer/Metrics setup per module (Powertools), keyed by service name."""

from __future__ import annotations

import os
import warnings
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

# Most invocations add no custom metric; Powertools would warn on every flush.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


@dataclass(frozen=True)
class Observability:
    logger: Logger
    tracer: Tracer
    metrics: Metrics


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class _NoTracing(BaseProvider):
    """The Tracer's provider when tracing is off. Powertools' default provider is the X-Ray
    SDK's recorder, imported even when tracing is disabled: ~120 ms of a cold start (the SDK
    builds a botocore client for its sampling rules), for segments the disabled SDK drops."""

    @contextmanager
    def in_subsegment(self, name=None, **kwargs):
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name=None, **kwargs):
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Any) -> None: ...
    def patch_all(self) -> None: ...


def _tracer(service: str) -> Tracer:
    # Powertools' own rule: off with POWERTOOLS_TRACE_DISABLED=true and outside Lambda
    # (LAMBDA_TASK_ROOT unset, SAM/Chalice local). Where it is on, the X-Ray SDK as before.
    if Tracer._is_tracer_disabled():
        return Tracer(service=service, disabled=True, provider=_NoTracing())
    return Tracer(service=service)


@cache
def for_module(key: str) -> Observability:
    service = f"{key}-service"
    # POWERTOOLS_* env vars (log level, tracing/metrics disabled locally) still apply.
    return Observability(
        logger=Logger(service=service),
        tracer=_tracer(service),
        metrics=Metrics(namespace="FinFlow", service=service),
    )


def trace_header(fallback: str | None = None) -> str | None:
    """This invocation's X-Ray header for outbound calls and events. In Lambda it is
    `_X_AMZN_TRACE_ID` (Root, this invocation's segment as Parent, Sampled), set per
    invocation; elsewhere (tests) the header the request came with."""
    return os.environ.get("_X_AMZN_TRACE_ID") or fallback
