"""One Logger/Tracer/Metrics setup per module (Powertools), keyed by service name."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer


# Most invocations add no custom metric; Powertools would warn on every flush.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


@dataclass(frozen=True)
class Observability:
    logger: Logger
    tracer: Tracer
    metrics: Metrics


@cache
def for_module(key: str) -> Observability:
    service = f"{key}-service"
    # POWERTOOLS_* env vars (log level, tracing/metrics disabled locally) still apply.
    return Observability(
        logger=Logger(service=service),
        tracer=Tracer(service=service),
        metrics=Metrics(namespace="FinFlow", service=service),
    )


def trace_header(fallback: str | None = None) -> str | None:
    """This invocation's X-Ray header for outbound calls and events. In Lambda it is
    `_X_AMZN_TRACE_ID` (Root, this invocation's segment as Parent, Sampled), set per
    invocation; elsewhere (tests) the header the request came with."""
    return os.environ.get("_X_AMZN_TRACE_ID") or fallback
