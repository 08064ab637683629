"""One Logger/Metrics setup per module (Powertools), keyed by service name; spans are
finflow.tracing's (OpenTelemetry)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

from aws_lambda_powertools import Logger, Metrics

# Most invocations add no custom metric; Powertools would warn on every flush.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


@dataclass(frozen=True)
class Observability:
    logger: Logger
    metrics: Metrics


@cache
def for_module(key: str) -> Observability:
    service = f"{key}-service"
    # POWERTOOLS_* env vars (log level, metrics disabled locally) still apply.
    return Observability(logger=Logger(service=service), metrics=Metrics(namespace="FinFlow", service=service))
